package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/conformal"
	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // every file format
	"github.com/oddity-ml/oddity/data/imagefolder"
	"github.com/oddity-ml/oddity/data/limit"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
)

// `oddity score` scores a file, a folder of images, or a stream of JSON lines
// with any saved model.
func init() {
	var (
		modelPath, labelCol, output string
		maxLineFlag                 string
		threshold, alpha, fdr       float64
		batch                       int
		ex                          scoreExtras
	)
	cmd := &cobra.Command{
		Use:   "score --model MODEL INPUT",
		Short: "Score data with a saved model (higher = more anomalous)",
		Long: `Score data with a saved model. INPUT is a data file (CSV/TSV, .npz/.npy,
.mat, IDX), an image file or folder, or "-" for JSON lines on standard input:
one sample per line, either a JSON array of numbers or {"id": ..., "x": [...]}.
Each input line gets one output line, flushed at once, so oddity can sit in a
pipeline. A line that cannot be scored (not of that form, a null, the wrong
number of values, longer than --max-line-bytes, or a score that is NaN or
infinite) gets an error record naming its line number instead, and the
stream goes on: {"index", "line", "error"} in JSON lines, and in CSV (whose
stream output has a last column "error") the index with empty score and
anomaly fields; the command then exits with status 1 after the last line.

A score that is NaN or infinite (inputs far outside what the model was
trained on, such as rows of 1e25 given to a network) is never written as a
result: scoring a file fails with an error naming the rows, as the server
answers 422.

Output: CSV (index,score[,p_value],anomaly[,label]) or JSON lines with
--output jsonl. A model trained with calibration (oddity train holds out a
share of the normal training rows by default) also gives each sample its
conformal p-value: (1 + #{calibration scores >= s}) / (n + 1). If the new
samples are exchangeable with the normal calibration rows, a normal sample
gets p <= alpha with probability at most alpha, so --alpha 0.01 flags at most
about 1% of normal samples (Bates, Candes, Lei, Romano and Sesia, Ann.
Statist. 2023). --fdr q flags a whole file by Benjamini-Hochberg on the
p-values, which keeps the expected share of false alarms among the flagged at
most q; it needs the whole file, so it does not work on a stream.`,
		Example: `  oddity score --model thyroid.odm data.csv --label-column class
  oddity score --model digits.odm ./images/ --output jsonl
  tail -f rows.jsonl | oddity score --model thyroid.odm -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "csv" && output != "jsonl" {
				return fmt.Errorf("--output must be csv or jsonl, got %q", output)
			}
			m, err := detector.LoadFile(modelPath)
			if err != nil {
				return err
			}
			warnSelfAUC(cmd.ErrOrStderr(), m)
			rules := 0
			for _, f := range []string{"threshold", "alpha", "fdr"} {
				if cmd.Flags().Changed(f) {
					rules++
				}
			}
			if rules > 1 {
				return fmt.Errorf("--threshold, --alpha and --fdr are alternatives: give one")
			}
			if (cmd.Flags().Changed("alpha") || cmd.Flags().Changed("fdr")) && m.Calibration() == nil {
				return fmt.Errorf("%s: %w: train with calibration (oddity train holds out --calibration of the rows) to use --alpha or --fdr", modelPath, detector.ErrNoCalibration)
			}
			switch {
			case cmd.Flags().Changed("threshold"):
				if err := m.SetThreshold(detector.ThresholdRule{Value: threshold, HasValue: true}); err != nil {
					return err
				}
			case cmd.Flags().Changed("alpha"):
				if err := m.SetThreshold(detector.ThresholdRule{Alpha: alpha}); err != nil {
					return fmt.Errorf("--alpha: %w", err)
				}
			case cmd.Flags().Changed("fdr"):
				if !(fdr > 0 && fdr < 1) {
					return fmt.Errorf("--fdr must be in (0, 1), got %v", fdr)
				}
				if args[0] == "-" {
					return fmt.Errorf("--fdr needs the whole input (Benjamini-Hochberg ranks every p-value of the file); use --alpha on a stream")
				}
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			if args[0] == "-" {
				maxLine := 0
				if maxLineFlag != "" {
					v, err := limit.ParseSize(maxLineFlag)
					if err != nil {
						return fmt.Errorf("--max-line-bytes: %w", err)
					}
					maxLine = int(v)
				}
				return scoreStream(cmd, m, cmd.InOrStdin(), out, output, maxLine)
			}
			var opts []data.Option
			if labelCol != "" {
				opts = append(opts, data.WithLabelColumn(labelCol))
			}
			if len(m.Schema.Shape) == 3 {
				// An image file or a flat folder of images: decoded to the
				// model's channels and size, each output line naming its file.
				if layout, err := imagefolder.Detect(args[0]); err == nil && layout == imagefolder.Flat && m.Schema.Shape[1] == m.Schema.Shape[2] {
					ds, names, err := imagefolder.LoadFlat(args[0], imagefolder.FlatOptions{Side: m.Schema.Shape[1], Channels: m.Schema.Shape[0],
						Note: func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), "note:", s) }})
					if err != nil {
						return err
					}
					return scoreDataset(cmd, m, ds, names, "file", out, output, batch, fdr, ex)
				}
				// Images: decode to the model's channel count and size.
				c, h, w := m.Schema.Shape[0], m.Schema.Shape[1], m.Schema.Shape[2]
				opts = append(opts, data.WithGrey(c == 1), data.WithResize(w, h, data.Bilinear))
			}
			if m.Pipeline != nil {
				// A table: read by column name, encoded as in training.
				ds, ids, idName, err := scoreTable(m, args[0], cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				return scoreDataset(cmd, m, ds, ids, idName, out, output, batch, fdr, ex)
			}
			ds, err := data.Load(args[0], opts...)
			if err != nil {
				return err
			}
			return scoreDataset(cmd, m, ds, nil, "", out, output, batch, fdr, ex)
		},
	}
	// Each usage names its value in backquotes, so that --help shows
	// "--model FILE" rather than a Go type name.
	cmd.Flags().StringVar(&modelPath, "model", "", "model `FILE` written by oddity train (required)")
	cmd.Flags().StringVar(&labelCol, "label-column", "", "label column (`NAME` or index) of a CSV input, left out of the features and echoed")
	cmd.Flags().StringVar(&output, "output", "csv", "output `FORMAT`: csv or jsonl")
	cmd.Flags().Float64Var(&threshold, "threshold", 0, "score `VALUE` above which a sample is flagged, instead of the model's threshold")
	cmd.Flags().Float64Var(&alpha, "alpha", 0, "flag a sample when its conformal p-value is at most `ALPHA` (a false-alarm rate; needs a calibrated model)")
	cmd.Flags().Float64Var(&fdr, "fdr", 0, "flag by Benjamini-Hochberg at false discovery rate `Q` over the whole input (needs a calibrated model)")
	cmd.Flags().IntVar(&batch, "batch", 65536, "`N` samples scored per batch")
	cmd.Flags().StringVar(&maxLineFlag, "max-line-bytes", "", "with INPUT -, the longest line accepted (`SIZE` such as 4MiB; default 32 bytes a model input value plus 64 KiB, at least 1 MiB); a longer line gets an error record")
	cmd.Flags().IntVar(&ex.explain, "explain", 0, "add the `K` columns that drive each row's score the most, with their contributions (tables; CSV columns why_1, why_1_contribution, ...; JSON field \"why\")")
	cmd.Flags().StringVar(&ex.maps, "maps", "", "write an anomaly-map overlay (PNG heat map over the image) for each image into `DIR` (ganomaly, cae, deepcluster)")
	_ = cmd.MarkFlagRequired("model")
	rootCmd.AddCommand(cmd)
}

type scoreLine struct {
	ID      any      `json:"id,omitempty"`
	Index   int      `json:"index"`
	Score   float64  `json:"score"`
	PValue  *float64 `json:"p_value,omitempty"`
	Anomaly bool     `json:"anomaly"`
	Label   *int     `json:"label,omitempty"`
	// Why lists the columns that drive the score most (--explain).
	Why []explain.Driver `json:"why,omitempty"`
}

// scoreDataset scores ds in batches and writes one line a sample: its
// score, its p-value when the model is calibrated, and its flag (the
// model's threshold rule, or Benjamini-Hochberg at fdr over the whole set
// when fdr > 0). ids, when not nil, name the samples (file names, or a
// table's identifier column) in a column called idName.
func scoreDataset(cmd *cobra.Command, m *detector.Model, ds *data.Dataset, ids []string, idName string, out *bufio.Writer, format string, batch int, fdr float64, ex scoreExtras) error {
	if err := ds.Validate(); err != nil {
		return err
	}
	if ex.explain < 0 {
		return fmt.Errorf("--explain must be a number of columns, got %d", ex.explain)
	}
	if batch < 1 {
		return fmt.Errorf("--batch must be positive, got %d", batch)
	}
	k := ds.Dim()
	scores := make([]float64, 0, ds.N)
	for lo := 0; lo < ds.N; lo += batch {
		hi := min(lo+batch, ds.N)
		part := &data.Dataset{Name: ds.Name, X: ds.X[lo*k : hi*k], N: hi - lo, Shape: ds.Shape}
		s, err := m.Score(cmd.Context(), part)
		if err != nil {
			return err
		}
		scores = append(scores, s...)
	}
	if err := checkFinite(scores); err != nil {
		return err
	}
	var pv []float64
	if m.Calibration() != nil {
		var err error
		if pv, err = m.PValues(scores); err != nil {
			return err
		}
	}
	flags := m.Predict(scores)
	if fdr > 0 {
		var err error
		if flags, err = conformal.BenjaminiHochberg(pv, fdr); err != nil {
			return err
		}
	}
	r := scored{scores: scores, pvalues: pv, flags: flags, labels: ds.Y, ids: ids, idName: idName, explainK: ex.explain}
	if ex.explain > 0 {
		var err error
		if r.why, err = explain.Drivers(cmd.Context(), m, ds, nil, ex.explain); err != nil {
			return fmt.Errorf("--explain: %w", err)
		}
	}
	if ex.maps != "" {
		files, err := writeMaps(cmd.Context(), m, ds, nil, ids, ex.maps)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d anomaly maps into %s\n", len(files), ex.maps)
	}
	return writeScores(out, format, r)
}

// scoreExtras are what score adds beside the scores: explanations by
// column, anomaly maps.
type scoreExtras struct {
	explain int
	maps    string
}

// scored is what scoring found, one entry a sample: scores, p-values (or
// nil), flags, labels (or nil), and names (or nil) headed idName.
type scored struct {
	scores, pvalues []float64
	flags           []bool
	labels          []int
	ids             []string
	idName          string
	// why holds each sample's top explainK drivers, or is nil.
	why      [][]explain.Driver
	explainK int
}

// writeScores writes one CSV or JSON line a sample. Scores that are NaN or
// infinite are refused (checkFinite) before anything is written: a NaN
// would be written as not anomalous, and JSON has no NaN.
func writeScores(out io.Writer, format string, r scored) error {
	if err := checkFinite(r.scores); err != nil {
		return err
	}
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(out)
		head := []string{"index"}
		if r.ids != nil {
			head = append(head, r.idName)
		}
		head = append(head, "score")
		if r.pvalues != nil {
			head = append(head, "p_value")
		}
		head = append(head, "anomaly")
		if r.labels != nil {
			head = append(head, "label")
		}
		if r.why != nil {
			for k := 1; k <= r.explainK; k++ {
				head = append(head, fmt.Sprintf("why_%d", k), fmt.Sprintf("why_%d_contribution", k))
			}
		}
		if err := cw.Write(head); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(out)
	for idx, s := range r.scores {
		if cw != nil {
			rec := []string{strconv.Itoa(idx)}
			if r.ids != nil {
				rec = append(rec, r.ids[idx])
			}
			rec = append(rec, strconv.FormatFloat(s, 'g', -1, 64))
			if r.pvalues != nil {
				rec = append(rec, strconv.FormatFloat(r.pvalues[idx], 'g', 6, 64))
			}
			rec = append(rec, b01(r.flags[idx]))
			if r.labels != nil {
				rec = append(rec, strconv.Itoa(r.labels[idx]))
			}
			if r.why != nil {
				for k := 0; k < r.explainK; k++ {
					if k < len(r.why[idx]) {
						d := r.why[idx][k]
						rec = append(rec, d.Column, strconv.FormatFloat(d.Contribution, 'g', 6, 64))
					} else {
						rec = append(rec, "", "")
					}
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
			continue
		}
		line := scoreLine{Index: idx, Score: s, Anomaly: r.flags[idx]}
		if r.ids != nil {
			line.ID = r.ids[idx]
		}
		if r.pvalues != nil {
			line.PValue = &r.pvalues[idx]
		}
		if r.labels != nil {
			y := r.labels[idx]
			line.Label = &y
		}
		if r.why != nil {
			line.Why = r.why[idx]
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// streamRecord is one JSON line of input: a bare array or an object.
type streamRecord struct {
	ID any
	X  []float64
}

// rawStreamRecord is a line as decoded, a null value kept apart from 0.
type rawStreamRecord struct {
	ID any        `json:"id"`
	X  []*float64 `json:"x"`
}

// parseStreamLine reads one JSON line of input: a bare array of numbers or
// an object {"id": ..., "x": [...]}. An object with other fields, or
// without "x", is an error that says which form is expected, rather than a
// sample of no values. A null value is an error naming its position
// (1-based): the server refuses null in a tensor's data too, and no model
// scores a missing value unless a table pipeline that fills it was trained
// with it.
func parseStreamLine(b []byte) (streamRecord, error) {
	var raw rawStreamRecord
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raw.X); err != nil {
			return streamRecord{}, fmt.Errorf("want an array of numbers: %v", err)
		}
		return raw.record()
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return streamRecord{}, fmt.Errorf(`want [numbers] or {"id": ..., "x": [numbers]}: %v`, err)
	}
	if dec.More() {
		return streamRecord{}, errors.New("more than one JSON value on the line")
	}
	if raw.X == nil {
		return streamRecord{}, errors.New(`the object has no "x": want {"id": ..., "x": [numbers]}`)
	}
	return raw.record()
}

// record returns the line's values, refusing a null one.
func (r rawStreamRecord) record() (streamRecord, error) {
	rec := streamRecord{ID: r.ID, X: make([]float64, len(r.X))}
	for i, p := range r.X {
		if p == nil {
			return streamRecord{}, fmt.Errorf("value %d is null: missing values need a model trained with a table pipeline", i+1)
		}
		rec.X[i] = *p
	}
	return rec, nil
}

// errorLine is the JSON output line for an input line that was not scored.
type errorLine struct {
	ID    any    `json:"id,omitempty"`
	Index int    `json:"index"`
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// streamLineLimit is the default --max-line-bytes for a model of k input
// values: 32 bytes a value (a float64 written in full with its separator
// takes at most 25) and 64 KiB for an id and spacing, at least 1 MiB.
func streamLineLimit(k int) int {
	return max(1<<20, 32*k+64<<10)
}

// lineReader reads lines of at most max bytes. A longer line is skipped
// to its end without being held, and reported by its length, so one line
// can neither take unbounded memory nor end the stream.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// next returns the next line without its end of line, or, for a line over
// the limit, a nil line and the bytes it had when reading stopped (at least
// max+1); io.EOF at the end of the input.
func (l *lineReader) next() (line []byte, long int, err error) {
	l.buf = l.buf[:0]
	over, total := false, 0
	for {
		frag, err := l.r.ReadSlice('\n')
		total += len(frag)
		content := total
		if err == nil {
			content-- // the newline
		}
		if !over && content > l.max {
			over, l.buf = true, l.buf[:0]
		}
		if !over {
			l.buf = append(l.buf, frag...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil && err != io.EOF:
			return nil, 0, err
		case over:
			return nil, total, nil
		case err == io.EOF && total == 0:
			return nil, 0, io.EOF
		}
		return bytes.TrimSuffix(l.buf, []byte("\n")), 0, nil
	}
}

// scoreStream scores JSON lines one at a time, answering each line before
// reading the next, so interactive pipelines see results immediately.
//
// Every non-blank input line gets one output line, with the line's index
// among them. A line that cannot be scored (not JSON of the expected form,
// a null, the wrong number of values, a value beyond float32, a line longer
// than maxLine bytes, or a score that is NaN or infinite) gets an error
// record instead, naming its line number (blank lines counted), and the
// stream goes on: in JSON lines {"index", "line", "error"} (and "id" when
// the line had one), in CSV the index with empty score and anomaly fields
// and the message in the error column. When any line failed, the command
// ends with an error (exit status 1) after the last line.
func scoreStream(cmd *cobra.Command, m *detector.Model, in io.Reader, out *bufio.Writer, format string, maxLine int) error {
	k := 1
	for _, s := range m.Schema.Shape {
		k *= s
	}
	if maxLine <= 0 {
		maxLine = streamLineLimit(k)
	}
	lr := &lineReader{r: bufio.NewReaderSize(in, 64<<10), max: maxLine}
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(out)
		cw.Write([]string{"index", "score", "anomaly", "error"})
	}
	enc := json.NewEncoder(out)
	row := make([]float32, k)
	flush := func() error {
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		return out.Flush()
	}
	if err := flush(); err != nil {
		return err
	}
	// n counts the records (the output's index); line counts the input's
	// lines, blank ones included, for error messages.
	n, line, failed, first := 0, 0, 0, 0
	fail := func(id any, msg string) error {
		failed++
		if first == 0 {
			first = line
		}
		msg = fmt.Sprintf("line %d: %s", line, msg)
		if cw != nil {
			return cw.Write([]string{strconv.Itoa(n), "", "", msg})
		}
		return enc.Encode(errorLine{ID: id, Index: n, Line: line, Error: msg})
	}
	for {
		if err := cmd.Context().Err(); err != nil {
			return err
		}
		b, long, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("stdin: %w", err)
		}
		line++
		if long == 0 && len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		werr := func() error {
			if long > 0 {
				return fail(nil, fmt.Sprintf("longer than %d bytes (--max-line-bytes; the model takes %d values)", maxLine, k))
			}
			rec, err := parseStreamLine(b)
			if err != nil {
				return fail(nil, err.Error())
			}
			if len(rec.X) != k {
				return fail(rec.ID, fmt.Sprintf("%d values, the model takes %d (shape %v)", len(rec.X), k, m.Schema.Shape))
			}
			for i, v := range rec.X {
				row[i] = float32(v)
			}
			ds := &data.Dataset{Name: "stdin", X: row, N: 1, Shape: m.Schema.Shape}
			if err := ds.Validate(); err != nil {
				return fail(rec.ID, err.Error())
			}
			scores, err := m.Score(cmd.Context(), ds)
			if err != nil {
				if cmd.Context().Err() != nil {
					return err
				}
				return fail(rec.ID, err.Error())
			}
			if math.IsNaN(scores[0]) || math.IsInf(scores[0], 0) {
				return fail(rec.ID, "the model's score is not finite (NaN or infinite): the input lies far outside what the model was trained on")
			}
			flag := m.Predict(scores)[0]
			if cw != nil {
				return cw.Write([]string{strconv.Itoa(n), strconv.FormatFloat(scores[0], 'g', -1, 64), b01(flag), ""})
			}
			return enc.Encode(scoreLine{ID: rec.ID, Index: n, Score: scores[0], Anomaly: flag})
		}()
		if werr != nil {
			return werr
		}
		if err := flush(); err != nil {
			return err
		}
		n++
	}
	if failed > 0 {
		return fmt.Errorf("stdin: %d of %d lines not scored (error records written; the first is line %d)", failed, n, first)
	}
	return nil
}

// checkFinite returns detector.CheckScores' error for the samples whose
// score is NaN or infinite (the server's message): such a score is never
// written as a result.
func checkFinite(scores []float64) error {
	if err := detector.CheckScores(scores, 0); err != nil {
		return fmt.Errorf("%w; no scores are written", err)
	}
	return nil
}
