package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	_ "github.com/oddity-ml/oddity/detector/all" // every method, for loading models

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/imagefolder"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
)

func init() {
	register.DoFn4x1[context.Context, chunk, func([]byte), func(chunkCount), error](&parseFn{})
	register.DoFn4x1[context.Context, []byte, func(*chunkCount) bool, func(string), error](&scoreFn{})
	register.DoFn3x1[context.Context, imageBatch, func(string), error](&scoreImagesFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&writeFn{})
	register.Emitter1[[]byte]()
	register.Emitter1[chunkCount]()
	register.Emitter1[string]()
	register.Iter1[chunkCount]()
	register.Iter1[string]()
}

// ScoreOptions configures a scoring pipeline.
type ScoreOptions struct {
	// Model is the model file (`oddity train ...`), any Beam file system path.
	Model string
	// Input is a file, a glob, or (for images) a local folder.
	Input string
	// Format is FormatCSV, FormatJSONL or FormatImages; empty guesses from
	// Input (.jsonl/.ndjson, a folder or image extension, else CSV).
	Format string
	// LabelColumn of a CSV input is left out of the features and echoed.
	LabelColumn string
	// Output is the file the score lines are written to.
	Output string
	// OutputFormat is "csv" (default) or "jsonl".
	OutputFormat string
	// Threshold, when HasThreshold, replaces the model's threshold.
	Threshold    float64
	HasThreshold bool
	// AnomaliesOnly writes only the samples scored above the threshold.
	AnomaliesOnly bool
	// Explain, when positive, adds the Explain columns that drive each
	// row's score the most, with their contributions (explain.Drivers, as
	// `oddity score --explain` writes them: CSV columns why_1,
	// why_1_contribution, ...; the JSON field "why"). Tables only. With
	// AnomaliesOnly only the flagged rows are explained, which is what
	// keeps the cost of a large input down.
	Explain int
	// ChunkBytes is the size of the ranges text inputs are cut into (0:
	// DefaultChunkBytes); ImageBatch the number of images per element (0:
	// 256).
	ChunkBytes int64
	ImageBatch int
}

// maxExplain bounds ScoreOptions.Explain.
const maxExplain = 1000

func guessFormat(input string) string {
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(input, ".gz")))
	switch {
	case ext == ".jsonl" || ext == ".ndjson":
		return FormatJSONL
	case imageExts[ext]:
		return FormatImages
	}
	if st, err := statLocal(input); err == nil && st {
		return FormatImages
	}
	return FormatCSV
}

func (o *ScoreOptions) check() error {
	if o.Model == "" || o.Input == "" || o.Output == "" {
		return fmt.Errorf("scoring needs a model, an input and an output (got %q, %q, %q)", o.Model, o.Input, o.Output)
	}
	if o.Format == "" {
		o.Format = guessFormat(o.Input)
	}
	if o.Format != FormatCSV && o.Format != FormatJSONL && o.Format != FormatImages {
		return fmt.Errorf("input format %q: want %s, %s or %s", o.Format, FormatCSV, FormatJSONL, FormatImages)
	}
	if o.OutputFormat == "" {
		o.OutputFormat = "csv"
	}
	if o.OutputFormat != "csv" && o.OutputFormat != "jsonl" {
		return fmt.Errorf("output format %q: want csv or jsonl", o.OutputFormat)
	}
	if o.ChunkBytes == 0 {
		o.ChunkBytes = DefaultChunkBytes
	}
	if o.ImageBatch == 0 {
		o.ImageBatch = 256
	}
	if o.Explain < 0 || o.Explain > maxExplain {
		return fmt.Errorf("explain %d: want 0 (none) to %d columns", o.Explain, maxExplain)
	}
	if o.Explain > 0 && o.Format == FormatImages {
		return fmt.Errorf("explanations by column are for tables; score images with oddity score --maps for anomaly maps")
	}
	if o.ImageBatch < 0 || o.ChunkBytes < 0 {
		return fmt.Errorf("chunk size %d and image batch %d must be positive", o.ChunkBytes, o.ImageBatch)
	}
	return nil
}

// BuildScore adds a scoring pipeline to s: read Input, score each sample
// with the model, write the score lines to Output. It lists the input files
// while building, so a missing input fails here rather than on a worker.
func BuildScore(ctx context.Context, s beam.Scope, o ScoreOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	// Load the model once here too, to fail early on a bad file and to
	// know an image model's shape.
	m, err := loadModel(ctx, o.Model)
	if err != nil {
		return err
	}
	sc := scoreConfig{Model: o.Model, Threshold: o.Threshold, HasThreshold: o.HasThreshold,
		AnomaliesOnly: o.AnomaliesOnly, OutputFormat: o.OutputFormat, Explain: o.Explain}
	var lines beam.PCollection
	header := "index,score,anomaly"
	if m.Calibration() != nil {
		header = "index,score,p_value,anomaly"
	}
	if o.Format == FormatImages {
		if len(m.Schema.Shape) != 3 {
			return fmt.Errorf("model %s takes samples of shape %v, not images", o.Model, m.Schema.Shape)
		}
		files, err := listImages(ctx, o.Input)
		if err != nil {
			return err
		}
		var batches []imageBatch
		for lo := 0; lo < len(files); lo += o.ImageBatch {
			batches = append(batches, imageBatch{Start: lo, Paths: files[lo:min(lo+o.ImageBatch, len(files))]})
		}
		in := beam.Reshuffle(s, beam.CreateList(s, batches))
		lines = beam.ParDo(s, &scoreImagesFn{scoreConfig: sc}, in)
		header += ",path"
	} else {
		batches, counts, err := readRows(ctx, s, o.Input, o.Format, o.LabelColumn, o.ChunkBytes, m.Pipeline)
		if err != nil {
			return err
		}
		lines = beam.ParDo(s, &scoreFn{scoreConfig: sc}, batches, beam.SideInput{Input: counts})
		if o.LabelColumn != "" || (len(m.Pipeline) > 0 && labelColumnOf(m) != "") {
			header += ",label"
		}
		for k := 1; k <= o.Explain; k++ {
			header += fmt.Sprintf(",why_%d,why_%d_contribution", k, k)
		}
	}
	if o.OutputFormat == "jsonl" {
		header = ""
	}
	writeText(s, o.Output, header, lines)
	return nil
}

// readRows adds the reading of a text table: one element per chunk (an
// encoded batch) and the chunks' row counts.
func readRows(ctx context.Context, s beam.Scope, input, format, labelCol string, chunkBytes int64, pipe json.RawMessage) (batches, counts beam.PCollection, err error) {
	chunks, err := planChunks(ctx, input, chunkBytes)
	if err != nil {
		return batches, counts, err
	}
	in := beam.Reshuffle(s, beam.CreateList(s, chunks))
	batches, counts = beam.ParDo2(s, &parseFn{Format: format, LabelColumn: labelCol, Pipeline: pipe}, in)
	return batches, counts, nil
}

// parseFn parses one chunk into a batch of rows. Pipeline, when not
// empty, is the model's table pipeline (detector.Model.Pipeline): CSV
// input is then read by column name and encoded as in training.
type parseFn struct {
	Format      string
	LabelColumn string
	Pipeline    []byte

	pipe *table.Pipeline
}

// Setup decodes the table pipeline once per DoFn instance.
func (f *parseFn) Setup() error {
	if len(f.Pipeline) == 0 {
		return nil
	}
	p, err := table.Unmarshal(f.Pipeline)
	f.pipe = p
	return err
}

// ProcessElement emits the chunk's batch and its row count.
func (f *parseFn) ProcessElement(ctx context.Context, c chunk, emit func([]byte), count func(chunkCount)) error {
	b, err := parseChunk(ctx, c, f.Format, f.LabelColumn, f.pipe)
	if err != nil || b == nil {
		return err
	}
	emit(b.encode())
	count(chunkCount{File: b.File, Start: b.Start, N: b.N, D: b.D, Names: b.Names})
	return nil
}

// scoreConfig is what every scoring DoFn carries.
type scoreConfig struct {
	Model         string
	Threshold     float64
	HasThreshold  bool
	AnomaliesOnly bool
	OutputFormat  string
	Explain       int
}

// setup loads the model (once per DoFn instance, that is per worker
// thread) and applies the threshold override.
func (c *scoreConfig) setup(ctx context.Context) (*detector.Model, error) {
	m, err := loadModel(ctx, c.Model)
	if err != nil {
		return nil, err
	}
	if c.HasThreshold {
		if err := m.SetThreshold(detector.ThresholdRule{Value: c.Threshold, HasValue: true}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// scoreLine is one JSON output line, as `oddity score --output jsonl`
// writes it (plus the path of an image).
type scoreLine struct {
	ID      json.RawMessage  `json:"id,omitempty"`
	Index   int64            `json:"index"`
	Score   float64          `json:"score"`
	PValue  *float64         `json:"p_value,omitempty"`
	Anomaly bool             `json:"anomaly"`
	Label   json.RawMessage  `json:"label,omitempty"`
	Path    string           `json:"path,omitempty"`
	Why     []explain.Driver `json:"why,omitempty"`
}

// format writes the output lines of scored samples.
// why, when not nil, holds each written row's drivers (nil for a row not
// written).
func (c *scoreConfig) format(buf *bytes.Buffer, start int64, scores, pvalues []float64, flags []bool, labels, ids, paths []string, why [][]explain.Driver) {
	enc := json.NewEncoder(buf)
	for i, s := range scores {
		if c.AnomaliesOnly && !flags[i] {
			continue
		}
		if c.OutputFormat == "jsonl" {
			l := scoreLine{Index: start + int64(i), Score: s, Anomaly: flags[i]}
			if pvalues != nil {
				l.PValue = &pvalues[i]
			}
			if labels != nil {
				l.Label = jsonLabel(labels[i])
			}
			if ids != nil && ids[i] != "" {
				l.ID = json.RawMessage(ids[i])
			}
			if paths != nil {
				l.Path = paths[i]
			}
			if why != nil {
				l.Why = why[i]
			}
			_ = enc.Encode(l) // writes to a bytes.Buffer cannot fail
			continue
		}
		buf.WriteString(strconv.FormatInt(start+int64(i), 10))
		buf.WriteByte(',')
		buf.WriteString(strconv.FormatFloat(s, 'g', -1, 64))
		if pvalues != nil {
			buf.WriteByte(',')
			buf.WriteString(strconv.FormatFloat(pvalues[i], 'g', 6, 64))
		}
		if flags[i] {
			buf.WriteString(",1")
		} else {
			buf.WriteString(",0")
		}
		if labels != nil {
			buf.WriteByte(',')
			buf.WriteString(csvField(labels[i]))
		}
		if paths != nil {
			buf.WriteByte(',')
			buf.WriteString(csvField(paths[i]))
		}
		if why != nil {
			for k := 0; k < c.Explain; k++ {
				if k < len(why[i]) {
					buf.WriteByte(',')
					buf.WriteString(csvField(why[i][k].Column))
					buf.WriteByte(',')
					buf.WriteString(strconv.FormatFloat(why[i][k].Contribution, 'g', 6, 64))
				} else {
					buf.WriteString(",,")
				}
			}
		}
		buf.WriteByte('\n')
	}
}

// jsonLabel writes a whole-number label as a number, as `oddity score`
// does, and any other label as a string.
func jsonLabel(s string) json.RawMessage {
	if _, err := strconv.Atoi(s); err == nil {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// csvField quotes a field when CSV needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// scoreFn scores batches of rows with a model loaded once in Setup.
type scoreFn struct {
	scoreConfig
	m    *detector.Model
	offs map[[2]int64]int64
}

// Setup loads the model.
func (f *scoreFn) Setup(ctx context.Context) error {
	m, err := f.setup(ctx)
	f.m = m
	return err
}

// ProcessElement scores one batch and emits its output lines as one string.
func (f *scoreFn) ProcessElement(ctx context.Context, p []byte, counts func(*chunkCount) bool, emit func(string)) error {
	if f.offs == nil {
		var all []chunkCount
		var c chunkCount
		for counts(&c) {
			all = append(all, c)
		}
		f.offs, _ = offsets(all)
	}
	b, err := decodeBatch(p)
	if err != nil {
		return err
	}
	start, ok := f.offs[[2]int64{int64(b.File), b.Start}]
	if !ok {
		return fmt.Errorf("no row count for file %d, byte %d", b.File, b.Start)
	}
	ds := &data.Dataset{X: b.X, N: b.N, Shape: []int{b.D}}
	if err := ds.Validate(); err != nil {
		return err
	}
	scores, err := f.m.Score(ctx, ds)
	if err == nil {
		err = checkFinite(start, scores)
	}
	if err != nil {
		return fmt.Errorf("rows %d to %d: %w", start, start+int64(b.N)-1, err)
	}
	pv, err := pValues(f.m, scores)
	if err != nil {
		return err
	}
	flags := f.m.Predict(scores)
	var why [][]explain.Driver
	if f.Explain > 0 {
		// Explain the rows that will be written: every row, or with
		// AnomaliesOnly the flagged ones.
		var rows []int
		for i := range scores {
			if !f.AnomaliesOnly || flags[i] {
				rows = append(rows, i)
			}
		}
		drivers, err := explain.Drivers(ctx, f.m, ds, rows, f.Explain)
		if err != nil {
			return fmt.Errorf("explaining rows %d to %d: %w", start, start+int64(b.N)-1, err)
		}
		why = make([][]explain.Driver, len(scores))
		for k, i := range rows {
			why[i] = drivers[k]
		}
	}
	var buf bytes.Buffer
	f.format(&buf, start, scores, pv, flags, b.Labels, b.IDs, nil, why)
	if buf.Len() > 0 {
		emit(buf.String())
	}
	return nil
}

// imageBatch is a run of image paths; Start is the first one's index in the
// sorted listing.
type imageBatch struct {
	Start int
	Paths []string
}

// scoreImagesFn decodes and scores batches of images.
type scoreImagesFn struct {
	scoreConfig
	m *detector.Model
}

// Setup loads the model.
func (f *scoreImagesFn) Setup(ctx context.Context) error {
	m, err := f.setup(ctx)
	f.m = m
	return err
}

// ProcessElement decodes the batch's images to the model's shape, as
// `oddity score` does for an image folder, and scores them together.
func (f *scoreImagesFn) ProcessElement(ctx context.Context, ib imageBatch, emit func(string)) error {
	shape := f.m.Schema.Shape
	o := data.Options{Grey: shape[0] == 1, Width: shape[2], Height: shape[1], Interp: data.Bilinear}
	parts := make([]*data.Dataset, len(ib.Paths))
	for i, p := range ib.Paths {
		src, err := readAll(ctx, p)
		if err != nil {
			return fmt.Errorf("image %s: %w", p, err)
		}
		if parts[i], err = imagefolder.Decode(p, src, o); err != nil {
			return fmt.Errorf("image %s: %w", p, err)
		}
	}
	ds, err := data.Concat("images", parts...)
	if err != nil {
		return err
	}
	scores, err := f.m.Score(ctx, ds)
	if err == nil {
		err = checkFinite(int64(ib.Start), scores)
	}
	if err != nil {
		return fmt.Errorf("images %d to %d: %w", ib.Start, ib.Start+len(ib.Paths)-1, err)
	}
	var buf bytes.Buffer
	pv, err := pValues(f.m, scores)
	if err != nil {
		return err
	}
	f.format(&buf, int64(ib.Start), scores, pv, f.m.Predict(scores), nil, nil, ib.Paths, nil)
	if buf.Len() > 0 {
		emit(buf.String())
	}
	return nil
}

// checkFinite returns an error naming the rows (their indices in the
// input, from start; the first ten) whose score is NaN or infinite. Such a
// score is never written: the element fails, and with it the pipeline, as
// `oddity score` fails on the file and the server answers 422. Inputs far
// outside what a model was trained on give them (values of 1e25 overflow a
// network's activations).
func checkFinite(start int64, scores []float64) error {
	if err := detector.CheckScores(scores, start); err != nil {
		return fmt.Errorf("%w (indices in the input); no scores are written", err)
	}
	return nil
}

// pValues returns the conformal p-values of scores against the model's
// calibration, or nil for a model without one.
func pValues(m *detector.Model, scores []float64) ([]float64, error) {
	if m.Calibration() == nil {
		return nil, nil
	}
	return m.PValues(scores)
}

// labelColumnOf returns the label column of a model's table pipeline, ""
// when it has none (or no pipeline).
func labelColumnOf(m *detector.Model) string {
	p, err := table.Unmarshal(m.Pipeline)
	if err != nil {
		return ""
	}
	return p.LabelColumn()
}

// loadModel reads a model file through Beam's file systems.
func loadModel(ctx context.Context, path string) (*detector.Model, error) {
	b, err := readAll(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	m, err := detector.Load(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

// writeText writes the text elements of col (each one or more whole lines)
// to one file, after a header line when header is not empty. Like Beam's
// textio.Write it gathers everything on one worker (a single output file is
// what `oddity score` users expect); the elements are large blocks, so this
// is a stream of writes, not a per-row cost.
func writeText(s beam.Scope, path, header string, col beam.PCollection) {
	s = s.Scope("writeText")
	filesystem.ValidateScheme(path)
	// An empty element guarantees the writer runs (and the header is
	// written) even when no line passes the filter.
	all := beam.Flatten(s, col, beam.Create(s, ""))
	grouped := beam.GroupByKey(s, beam.AddFixedKey(s, all))
	beam.ParDo0(s, &writeFn{Path: path, Header: header}, grouped)
}

// writeFn writes the grouped text blocks to Path.
type writeFn struct {
	Path   string
	Header string
}

// ProcessElement writes the file.
func (w *writeFn) ProcessElement(ctx context.Context, _ int, blocks func(*string) bool) error {
	fsys, err := filesystem.New(ctx, w.Path)
	if err != nil {
		return err
	}
	defer fsys.Close()
	fd, err := fsys.OpenWrite(ctx, w.Path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(fd, 1<<20)
	if w.Header != "" {
		bw.WriteString(w.Header + "\n")
	}
	var b string
	for blocks(&b) {
		if _, err := bw.WriteString(b); err != nil {
			fd.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		fd.Close()
		return err
	}
	return fd.Close()
}
