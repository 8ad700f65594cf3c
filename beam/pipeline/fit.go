package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
)

func init() {
	register.DoFn4x1[context.Context, []byte, func(*chunkCount) bool, func([]byte), error](&planFn{})
	register.DoFn5x1[context.Context, []byte, func(*chunkCount) bool, []byte, func(int, []byte), error](&gatherFn{})
	register.DoFn5x1[context.Context, int, func(*[]byte) bool, []byte, func([]byte), error](&growFn{})
	register.DoFn4x1[context.Context, int, func(*[]byte) bool, func([]byte), error](&assembleFn{})
	register.DoFn4x1[context.Context, []byte, []byte, func([]byte), error](&trainScoreFn{})
	register.DoFn4x1[context.Context, int, func(*[]byte) bool, func([]byte), error](&quantileFn{})
	register.DoFn5x1[context.Context, []byte, []byte, []byte, func(*chunkCount) bool, error](&saveModelFn{})
	register.Emitter2[int, []byte]()
	register.Iter1[[]byte]()
}

// maxTrainScores is how many training-score quantiles a model keeps (the
// number detector.Fit keeps).
const maxTrainScores = 4096

// FitOptions configures an Isolation Forest fitting pipeline.
type FitOptions struct {
	// Input is a text table (CSV or JSON lines): a file or a glob.
	Input string
	// Format is FormatCSV or FormatJSONL; empty guesses from Input.
	Format string
	// LabelColumn of a CSV input is left out of the features.
	LabelColumn string
	// Output is the model file to write, any Beam file system path.
	Output string
	// Forest are the forest's options; the same options and data give the
	// forest iforest.Fit gives. Workers is ignored (each tree is grown by
	// one worker thread).
	Forest iforest.Options
	// Rule sets the model's threshold from the training scores (the zero
	// value means contamination 0.1, as in detector.Fit).
	Rule detector.ThresholdRule
	// ChunkBytes is the size of the ranges the input is cut into (0:
	// DefaultChunkBytes).
	ChunkBytes int64
}

// BuildFitIForest adds an Isolation Forest fitting pipeline to s; running it
// writes the model file.
func BuildFitIForest(ctx context.Context, s beam.Scope, o FitOptions) error {
	if o.Input == "" || o.Output == "" {
		return fmt.Errorf("fitting needs an input and an output (got %q, %q)", o.Input, o.Output)
	}
	if o.Format == "" {
		o.Format = guessFormat(o.Input)
	}
	if o.Format != FormatCSV && o.Format != FormatJSONL {
		return fmt.Errorf("input format %q: an Isolation Forest fits on %s or %s rows", o.Format, FormatCSV, FormatJSONL)
	}
	if o.ChunkBytes == 0 {
		o.ChunkBytes = DefaultChunkBytes
	}
	opt := o.Forest
	if opt.NTrees == 0 {
		opt.NTrees = 100
	}
	if opt.MaxSamples == 0 {
		opt.MaxSamples = 256
	}
	if opt.MaxFeatures == 0 {
		opt.MaxFeatures = 1
	}
	// Validate the options now rather than on a worker.
	if _, err := iforest.SampleRows(1, 1, opt, 0); err != nil {
		return err
	}
	if err := (&detector.Model{TrainScores: []float64{0, 1}}).SetThreshold(o.Rule); err != nil {
		return err
	}

	batches, counts, err := readRows(ctx, s, o.Input, o.Format, o.LabelColumn, o.ChunkBytes, nil)
	if err != nil {
		return err
	}
	countSide := beam.SideInput{Input: counts}
	plan := beam.ParDo(s, &planFn{Opt: opt}, beam.Impulse(s), countSide)
	planSide := beam.SideInput{Input: plan}
	gathered := beam.ParDo(s, &gatherFn{}, batches, countSide, planSide)
	trees := beam.ParDo(s, &growFn{Opt: opt}, beam.GroupByKey(s, gathered), planSide)
	forest := beam.ParDo(s, &assembleFn{NTrees: opt.NTrees}, beam.GroupByKey(s, beam.AddFixedKey(s, trees)))
	scores := beam.ParDo(s, &trainScoreFn{}, batches, beam.SideInput{Input: forest})
	quants := beam.ParDo(s, &quantileFn{}, beam.GroupByKey(s, beam.AddFixedKey(s, scores)))
	beam.ParDo0(s, &saveModelFn{Opt: opt, Rule: o.Rule, Output: o.Output, Input: o.Input, Started: time.Now().UnixNano()},
		beam.Impulse(s), beam.SideInput{Input: forest}, beam.SideInput{Input: quants}, countSide)
	return nil
}

// shape reads the row count, width and feature names from the chunk counts.
func shape(counts func(*chunkCount) bool) (offs map[[2]int64]int64, n int64, d int, names []string, err error) {
	var all []chunkCount
	var c chunkCount
	for counts(&c) {
		all = append(all, c)
		if c.File == 0 && c.Start == 0 {
			names = c.Names
		}
	}
	if len(all) == 0 {
		return nil, 0, 0, nil, errors.New("the input has no data rows")
	}
	d = all[0].D
	for _, c := range all {
		if c.D != d {
			return nil, 0, 0, nil, fmt.Errorf("file %d, byte %d: rows of %d values, other rows have %d", c.File, c.Start, c.D, d)
		}
	}
	offs, n = offsets(all)
	return offs, n, d, names, nil
}

// A plan is every tree's sample: a header (n, d) and entries (row, tree,
// position in the tree's sample) sorted by row.
type planEntry struct {
	Row       int64
	Tree, Pos uint32
}

func encodePlan(n int64, d int, es []planEntry) []byte {
	le := binary.LittleEndian
	b := make([]byte, 0, 16+16*len(es))
	b = le.AppendUint64(b, uint64(n))
	b = le.AppendUint64(b, uint64(d))
	for _, e := range es {
		b = le.AppendUint64(b, uint64(e.Row))
		b = le.AppendUint32(b, e.Tree)
		b = le.AppendUint32(b, e.Pos)
	}
	return b
}

func planHeader(p []byte) (n int64, d int, err error) {
	if len(p) < 16 || (len(p)-16)%16 != 0 {
		return 0, 0, errors.New("corrupt sample plan")
	}
	return int64(binary.LittleEndian.Uint64(p)), int(binary.LittleEndian.Uint64(p[8:])), nil
}

func decodePlan(p []byte) ([]planEntry, error) {
	if _, _, err := planHeader(p); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	es := make([]planEntry, (len(p)-16)/16)
	for i := range es {
		q := p[16+16*i:]
		es[i] = planEntry{Row: int64(le.Uint64(q)), Tree: le.Uint32(q[8:]), Pos: le.Uint32(q[12:])}
	}
	return es, nil
}

// planFn computes every tree's sample from the row count.
type planFn struct {
	Opt iforest.Options
}

// ProcessElement emits the plan.
func (f *planFn) ProcessElement(ctx context.Context, _ []byte, counts func(*chunkCount) bool, emit func([]byte)) error {
	_, n, d, _, err := shape(counts)
	if err != nil {
		return err
	}
	if n > math.MaxInt {
		return fmt.Errorf("%d rows are too many for this platform", n)
	}
	var es []planEntry
	for t := 0; t < f.Opt.NTrees; t++ {
		rows, err := iforest.SampleRows(int(n), d, f.Opt, t)
		if err != nil {
			return err
		}
		for i, r := range rows {
			es = append(es, planEntry{Row: int64(r), Tree: uint32(t), Pos: uint32(i)})
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].Row != es[j].Row {
			return es[i].Row < es[j].Row
		}
		return es[i].Tree < es[j].Tree
	})
	emit(encodePlan(n, d, es))
	return nil
}

// gatherFn sends each sampled row of a batch to the trees that drew it,
// keyed by tree, with its position in the tree's sample.
type gatherFn struct {
	offs map[[2]int64]int64
	plan []planEntry
}

// ProcessElement emits (tree, position + row) pairs.
func (f *gatherFn) ProcessElement(ctx context.Context, p []byte, counts func(*chunkCount) bool, plan []byte, emit func(int, []byte)) error {
	if f.offs == nil {
		offs, _, _, _, err := shape(counts)
		if err != nil {
			return err
		}
		if f.plan, err = decodePlan(plan); err != nil {
			return err
		}
		f.offs = offs
	}
	b, err := decodeBatch(p)
	if err != nil {
		return err
	}
	start, ok := f.offs[[2]int64{int64(b.File), b.Start}]
	if !ok {
		return fmt.Errorf("no row count for file %d, byte %d", b.File, b.Start)
	}
	end := start + int64(b.N)
	i := sort.Search(len(f.plan), func(i int) bool { return f.plan[i].Row >= start })
	le := binary.LittleEndian
	for ; i < len(f.plan) && f.plan[i].Row < end; i++ {
		e := f.plan[i]
		r := int(e.Row - start)
		v := make([]byte, 0, 4+4*b.D)
		v = le.AppendUint32(v, e.Pos)
		for _, x := range b.X[r*b.D : (r+1)*b.D] {
			v = le.AppendUint32(v, math.Float32bits(x))
		}
		emit(int(e.Tree), v)
	}
	return nil
}

// growFn grows one tree from its gathered sample.
type growFn struct {
	Opt iforest.Options
}

// ProcessElement emits the tree index (4 bytes) followed by the one-tree
// forest.
func (f *growFn) ProcessElement(ctx context.Context, t int, rows func(*[]byte) bool, plan []byte, emit func([]byte)) error {
	n, d, err := planHeader(plan)
	if err != nil {
		return err
	}
	psi := min(int64(f.Opt.MaxSamples), n)
	sub := make([]float32, psi*int64(d))
	seen := make([]bool, psi)
	le := binary.LittleEndian
	var v []byte
	for rows(&v) {
		if len(v) != 4+4*d {
			return fmt.Errorf("tree %d: a sampled row of %d bytes, want %d", t, len(v), 4+4*d)
		}
		pos := int64(le.Uint32(v))
		if pos >= psi || seen[pos] {
			return fmt.Errorf("tree %d: sample position %d repeated or out of range", t, pos)
		}
		seen[pos] = true
		for j := 0; j < d; j++ {
			sub[pos*int64(d)+int64(j)] = math.Float32frombits(le.Uint32(v[4+4*j:]))
		}
	}
	for i, ok := range seen {
		if !ok {
			return fmt.Errorf("tree %d: sampled row %d of %d never arrived", t, i, psi)
		}
	}
	forest, err := iforest.GrowTree(sub, int(n), d, f.Opt, t)
	if err != nil {
		return err
	}
	fb, err := forest.MarshalBinary()
	if err != nil {
		return err
	}
	emit(append(le.AppendUint32(nil, uint32(t)), fb...))
	return nil
}

// assembleFn joins the trees in index order.
type assembleFn struct {
	NTrees int
}

// ProcessElement emits the assembled forest's bytes.
func (f *assembleFn) ProcessElement(ctx context.Context, _ int, trees func(*[]byte) bool, emit func([]byte)) error {
	parts := make([]*iforest.Forest, f.NTrees)
	var v []byte
	for trees(&v) {
		if len(v) < 4 {
			return errors.New("corrupt tree element")
		}
		t := int(binary.LittleEndian.Uint32(v))
		if t >= f.NTrees || parts[t] != nil {
			return fmt.Errorf("tree %d repeated or out of range", t)
		}
		parts[t] = &iforest.Forest{}
		if err := parts[t].UnmarshalBinary(v[4:]); err != nil {
			return fmt.Errorf("tree %d: %w", t, err)
		}
	}
	for t, p := range parts {
		if p == nil {
			return fmt.Errorf("tree %d of %d never arrived", t, f.NTrees)
		}
	}
	forest, err := iforest.Assemble(parts)
	if err != nil {
		return err
	}
	fb, err := forest.MarshalBinary()
	if err != nil {
		return err
	}
	emit(fb)
	return nil
}

// trainScoreFn scores the training batches with the assembled forest.
type trainScoreFn struct {
	forest *iforest.Forest
}

// ProcessElement emits the batch's scores as little-endian float64s.
func (f *trainScoreFn) ProcessElement(ctx context.Context, p []byte, forest []byte, emit func([]byte)) error {
	if f.forest == nil {
		fr := &iforest.Forest{}
		if err := fr.UnmarshalBinary(forest); err != nil {
			return err
		}
		f.forest = fr
	}
	b, err := decodeBatch(p)
	if err != nil {
		return err
	}
	s, err := f.forest.Score(b.X, b.N)
	if err != nil {
		return err
	}
	out := make([]byte, 0, 8*len(s))
	for _, v := range s {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	emit(out)
	return nil
}

// quantileFn gathers every training score and keeps the quantiles
// detector.Fit keeps.
type quantileFn struct{}

// ProcessElement emits the quantiles as little-endian float64s.
func (quantileFn) ProcessElement(ctx context.Context, _ int, blocks func(*[]byte) bool, emit func([]byte)) error {
	var all []float64
	var v []byte
	for blocks(&v) {
		for i := 0; i+8 <= len(v); i += 8 {
			all = append(all, math.Float64frombits(binary.LittleEndian.Uint64(v[i:])))
		}
	}
	q := quantiles(all, maxTrainScores)
	out := make([]byte, 0, 8*len(q))
	for _, x := range q {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(x))
	}
	emit(out)
	return nil
}

// quantiles returns at most k evenly spaced order statistics of s,
// ascending, including the minimum and maximum: the rule detector.Fit uses
// for Model.TrainScores.
func quantiles(s []float64, k int) []float64 {
	sort.Float64s(s)
	if len(s) <= k {
		return s
	}
	out := make([]float64, k)
	for i := range out {
		out[i] = s[int(math.Round(float64(i)*float64(len(s)-1)/float64(k-1)))]
	}
	return out
}

// saveModelFn wraps the forest in a model and writes the model file.
type saveModelFn struct {
	Opt     iforest.Options
	Rule    detector.ThresholdRule
	Output  string
	Input   string
	Started int64
}

// ProcessElement writes the model.
func (f *saveModelFn) ProcessElement(ctx context.Context, _ []byte, forest, quants []byte, counts func(*chunkCount) bool) error {
	_, n, d, names, err := shape(counts)
	if err != nil {
		return err
	}
	fr := &iforest.Forest{}
	if err := fr.UnmarshalBinary(forest); err != nil {
		return err
	}
	det, err := iforest.NewFittedDetector(f.Opt, fr)
	if err != nil {
		return err
	}
	q := make([]float64, len(quants)/8)
	for i := range q {
		q[i] = math.Float64frombits(binary.LittleEndian.Uint64(quants[8*i:]))
	}
	m := &detector.Model{
		Detector:    det,
		Schema:      detector.Schema{Shape: []int{d}, FeatureNames: names},
		TrainScores: q,
		Meta: detector.Meta{
			Train:   int(n),
			Seconds: time.Since(time.Unix(0, f.Started)).Seconds(),
			Extra: map[string]string{
				"fitted_by": "oddity-beam fit-iforest",
				"input":     f.Input,
				"seed":      strconv.FormatUint(f.Opt.Seed, 10),
			},
		},
	}
	if err := m.SetThreshold(f.Rule); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		return err
	}
	// A quick self-check: the bytes must load back as a model.
	if _, err := detector.Load(bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("the written model does not load: %w", err)
	}
	if isLocal(f.Output) {
		return m.SaveFile(f.Output)
	}
	fsys, err := filesystem.New(ctx, f.Output)
	if err != nil {
		return err
	}
	defer fsys.Close()
	w, err := fsys.OpenWrite(ctx, f.Output)
	if err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// isLocal reports whether path has no file system scheme.
func isLocal(path string) bool {
	for i, c := range path {
		if c == ':' {
			return !(i+2 < len(path) && path[i+1] == '/' && path[i+2] == '/')
		}
		if c == '/' {
			return true
		}
	}
	return true
}
