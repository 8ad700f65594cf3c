package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/oddity-ml/oddity/cae"
	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/metrics"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// writeTable writes n rows of d features to path: normal rows N(0,1),
// every 25th row an outlier at distance 6 (label 1, others 0). The label
// column sits in the middle, to check it is left out wherever it is.
func writeTable(t testing.TB, path string, n, d int, header bool, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	var b strings.Builder
	if header {
		for j := 0; j < d; j++ {
			if j == d/2 {
				b.WriteString("class,")
			}
			fmt.Fprintf(&b, "f%d", j)
			if j < d-1 {
				b.WriteByte(',')
			}
		}
		b.WriteByte('\n')
	}
	for i := 0; i < n; i++ {
		out := i%25 == 7
		for j := 0; j < d; j++ {
			if j == d/2 {
				fmt.Fprintf(&b, "%d,", map[bool]int{false: 0, true: 1}[out])
			}
			v := r.NormFloat64()
			if out {
				v = 6 + r.Float64()
			}
			b.WriteString(strconv.FormatFloat(v, 'g', 9, 64))
			if j < d-1 {
				b.WriteByte(',')
			}
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run builds a pipeline with build and runs it on Prism.
func run(t testing.TB, build func(s beam.Scope) error) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := build(s); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), p, RunOptions{Runner: "prism"}); err != nil {
		t.Fatal(err)
	}
}

// readCSV reads a score file into records keyed by index.
func readCSV(t *testing.T, path string) (header []string, rows map[int][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = map[int][]string{}
	for _, r := range recs[1:] {
		i, err := strconv.Atoi(r[0])
		if err != nil {
			t.Fatalf("index %q: %v", r[0], err)
		}
		if _, dup := rows[i]; dup {
			t.Fatalf("index %d written twice", i)
		}
		rows[i] = r
	}
	return recs[0], rows
}

// fitTabular fits an Isolation Forest in process on path and saves it.
func fitTabular(t *testing.T, path, out string, opt iforest.Options) (*detector.Model, *data.Dataset) {
	t.Helper()
	ds, err := data.Load(path, data.WithLabelColumn("class"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := detector.Fit(context.Background(), iforest.New(opt), detector.TrainSet{X: ds}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveFile(out); err != nil {
		t.Fatal(err)
	}
	return m, ds
}

// The pipeline's scores of a CSV file equal the in-process scores exactly,
// row for row, with small ranges so that many range boundaries are crossed;
// --anomalies-only keeps exactly the rows above the threshold.
func TestScoreTableMatchesInProcess(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rows.csv")
	writeTable(t, in, 1500, 6, true, 1)
	model := filepath.Join(dir, "m.odm")
	m, ds := fitTabular(t, in, model, iforest.Options{NTrees: 40, MaxSamples: 256, MaxFeatures: 1, Seed: 3})
	want, err := m.Score(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	flags := m.Predict(want)

	out := filepath.Join(dir, "scores.csv")
	only := filepath.Join(dir, "anomalies.csv")
	run(t, func(s beam.Scope) error {
		ctx := context.Background()
		o := ScoreOptions{Model: model, Input: in, LabelColumn: "class", Output: out, ChunkBytes: 4000}
		if err := BuildScore(ctx, s, o); err != nil {
			return err
		}
		o.Output, o.AnomaliesOnly = only, true
		return BuildScore(ctx, s, o)
	})
	header, rows := readCSV(t, out)
	if strings.Join(header, ",") != "index,score,anomaly,label" {
		t.Errorf("header %v", header)
	}
	if len(rows) != ds.N {
		t.Fatalf("%d rows scored, the file has %d", len(rows), ds.N)
	}
	nAnom := 0
	for i := 0; i < ds.N; i++ {
		r := rows[i]
		if r == nil {
			t.Fatalf("row %d missing", i)
		}
		if got := r[1]; got != strconv.FormatFloat(want[i], 'g', -1, 64) {
			t.Fatalf("row %d: pipeline score %s, in-process %v", i, got, want[i])
		}
		if (r[2] == "1") != flags[i] {
			t.Fatalf("row %d: anomaly %s, in-process %v", i, r[2], flags[i])
		}
		if r[3] != strconv.Itoa(ds.Y[i]) {
			t.Fatalf("row %d: label %s, file has %d", i, r[3], ds.Y[i])
		}
		if flags[i] {
			nAnom++
		}
	}
	_, anom := readCSV(t, only)
	if len(anom) != nAnom || nAnom == 0 {
		t.Fatalf("--anomalies-only wrote %d rows, %d are above the threshold", len(anom), nAnom)
	}
	for i := range anom {
		if !flags[i] {
			t.Fatalf("row %d written as an anomaly, scored %v <= %v", i, want[i], m.Threshold)
		}
	}
}

// JSON lines (arrays and objects with ids, blank lines) and a header-less
// CSV give the in-process scores too.
func TestScoreJSONLinesAndHeaderless(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rows.csv")
	writeTable(t, in, 400, 4, false, 2)
	ds, err := data.Load(in, data.WithLabelColumn("2"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := detector.Fit(context.Background(), iforest.New(iforest.Options{NTrees: 20, MaxSamples: 256, MaxFeatures: 1, Seed: 1}), detector.TrainSet{X: ds}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.odm")
	if err := m.SaveFile(model); err != nil {
		t.Fatal(err)
	}
	want, _ := m.Score(context.Background(), ds)
	var jl strings.Builder
	for i := 0; i < ds.N; i++ {
		row, _ := json.Marshal(ds.Row(i))
		if i%2 == 0 {
			fmt.Fprintf(&jl, "{\"id\": \"r%d\", \"x\": %s}\n", i, row)
		} else {
			fmt.Fprintf(&jl, "%s\n\n", row)
		}
	}
	jin := filepath.Join(dir, "rows.jsonl")
	if err := os.WriteFile(jin, []byte(jl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cout, jout := filepath.Join(dir, "c.csv"), filepath.Join(dir, "j.jsonl")
	run(t, func(s beam.Scope) error {
		ctx := context.Background()
		if err := BuildScore(ctx, s, ScoreOptions{Model: model, Input: in, LabelColumn: "2", Output: cout, ChunkBytes: 1000}); err != nil {
			return err
		}
		return BuildScore(ctx, s, ScoreOptions{Model: model, Input: jin, Output: jout, OutputFormat: "jsonl", ChunkBytes: 1500})
	})
	_, rows := readCSV(t, cout)
	if len(rows) != ds.N {
		t.Fatalf("header-less CSV: %d rows scored, want %d", len(rows), ds.N)
	}
	for i := 0; i < ds.N; i++ {
		if rows[i][1] != strconv.FormatFloat(want[i], 'g', -1, 64) {
			t.Fatalf("header-less CSV row %d: %s, in-process %v", i, rows[i][1], want[i])
		}
	}
	b, err := os.ReadFile(jout)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]scoreLine{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var sl scoreLine
		if err := json.Unmarshal([]byte(l), &sl); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got[sl.Index] = sl
	}
	if len(got) != ds.N {
		t.Fatalf("JSON lines: %d scored, want %d", len(got), ds.N)
	}
	for i := 0; i < ds.N; i++ {
		sl := got[int64(i)]
		if sl.Score != want[i] {
			t.Fatalf("JSON line %d: %v, in-process %v", i, sl.Score, want[i])
		}
		wantID := ""
		if i%2 == 0 {
			wantID = fmt.Sprintf("%q", fmt.Sprintf("r%d", i))
		}
		if string(sl.ID) != wantID {
			t.Fatalf("JSON line %d: id %s, want %s", i, sl.ID, wantID)
		}
	}
}

// writeImages writes n 16x16 grey PNGs of random blobs to dir/normal.
func writeImages(t *testing.T, dir string, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 5))
	if err := os.MkdirAll(filepath.Join(dir, "normal"), 0o755); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < n; k++ {
		img := image.NewGray(image.Rect(0, 0, 16, 16))
		cx, cy := 4+r.Float64()*8, 4+r.Float64()*8
		for y := 0; y < 16; y++ {
			for x := 0; x < 16; x++ {
				d := math.Hypot(float64(x)-cx, float64(y)-cy)
				img.SetGray(x, y, color.Gray{Y: uint8(max(0, 255-40*d) * (0.8 + 0.2*r.Float64()))})
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "normal", fmt.Sprintf("img%03d.png", k)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A small convolutional autoencoder's scores of a folder of PNG files,
// through the pipeline, equal `oddity score`'s in-process scores exactly.
func TestScoreImagesMatchesInProcess(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "imgs")
	writeImages(t, imgs, 40)
	opts := []data.Option{data.WithGrey(true), data.WithResize(16, 16, data.Bilinear)}
	ds, err := data.Load(imgs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	o := cae.PaperOptions()
	o.Width, o.NZ, o.Epochs, o.BatchSize, o.Seed = 8, 8, 1, 8, 1
	m, err := detector.Fit(context.Background(), cae.New(o), detector.TrainSet{X: ds}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "cae.odm")
	if err := m.SaveFile(model); err != nil {
		t.Fatal(err)
	}
	m, err = detector.LoadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Score(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scores.csv")
	run(t, func(s beam.Scope) error {
		return BuildScore(context.Background(), s, ScoreOptions{Model: model, Input: imgs, Output: out, ImageBatch: 7})
	})
	header, rows := readCSV(t, out)
	if strings.Join(header, ",") != "index,score,anomaly,path" {
		t.Errorf("header %v", header)
	}
	if len(rows) != ds.N {
		t.Fatalf("%d images scored, want %d", len(rows), ds.N)
	}
	for i := 0; i < ds.N; i++ {
		r := rows[i]
		if r[1] != strconv.FormatFloat(want[i], 'g', -1, 64) {
			t.Fatalf("image %d (%s): pipeline %s, in-process %v", i, r[3], r[1], want[i])
		}
		if wantPath := filepath.Join(imgs, "normal", fmt.Sprintf("img%03d.png", i)); r[3] != wantPath {
			t.Fatalf("image %d: path %s, want %s", i, r[3], wantPath)
		}
	}
}

// A forest fitted by the pipeline is the forest fitted locally with the
// same seed and options: same trees, training-score quantiles and threshold,
// hence the same AUC on held-out data.
func TestFitIForestMatchesLocal(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeTable(t, train, 3000, 5, true, 7)
	writeTable(t, test, 1000, 5, true, 8)
	opt := iforest.Options{NTrees: 60, MaxSamples: 200, MaxFeatures: 1, Seed: 42}
	rule := detector.ThresholdRule{Contamination: 0.04}
	out := filepath.Join(dir, "beam.odm")
	run(t, func(s beam.Scope) error {
		return BuildFitIForest(context.Background(), s, FitOptions{Input: train, LabelColumn: "class", Output: out, Forest: opt, Rule: rule, ChunkBytes: 20000})
	})
	got, err := detector.LoadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := data.Load(train, data.WithLabelColumn("class"))
	if err != nil {
		t.Fatal(err)
	}
	local, err := detector.Fit(context.Background(), iforest.New(opt), detector.TrainSet{X: tr}, rule)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := got.Detector.(*iforest.Detector).Forest().MarshalBinary()
	lb, _ := local.Detector.(*iforest.Detector).Forest().MarshalBinary()
	if !bytes.Equal(gb, lb) {
		t.Errorf("pipeline forest (%d bytes) differs from the local one (%d bytes)", len(gb), len(lb))
	}
	if got.Threshold != local.Threshold || len(got.TrainScores) != len(local.TrainScores) {
		t.Errorf("threshold %v from %d quantiles, local %v from %d", got.Threshold, len(got.TrainScores), local.Threshold, len(local.TrainScores))
	}
	for i := range got.TrainScores {
		if got.TrainScores[i] != local.TrainScores[i] {
			t.Fatalf("training-score quantile %d: %v, local %v", i, got.TrainScores[i], local.TrainScores[i])
		}
	}
	if fmt.Sprint(got.Schema) != fmt.Sprint(local.Schema) || got.Meta.Train != tr.N {
		t.Errorf("schema %+v (%d rows), local %+v (%d rows)", got.Schema, got.Meta.Train, local.Schema, tr.N)
	}
	te, err := data.Load(test, data.WithLabelColumn("class"))
	if err != nil {
		t.Fatal(err)
	}
	auc := func(m *detector.Model) float64 {
		s, err := m.Score(context.Background(), te)
		if err != nil {
			t.Fatal(err)
		}
		a, err := metrics.ROCAUC(s, te.Y)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ga, la := auc(got), auc(local)
	if math.Abs(ga-la) > 0.005 || ga < 0.95 {
		t.Errorf("AUC: pipeline %.4f, local %.4f (want within 0.005, and above 0.95)", ga, la)
	}
}

func TestBatchCodec(t *testing.T) {
	for _, b := range []*batch{
		{File: 2, Start: 1 << 40, N: 2, D: 3, X: []float32{1, -2, float32(math.Pi), 0, 5e-30, 7}, Labels: []string{"a", ""}, Names: []string{"x,y", "z", "w"}},
		{File: 0, Start: 0, N: 1, D: 1, X: []float32{3}, IDs: []string{`{"k":1}`}},
	} {
		got, err := decodeBatch(b.encode())
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", b) {
			t.Errorf("round trip: %#v, want %#v", got, b)
		}
	}
	if _, err := decodeBatch([]byte{0, 0, 5, 5, 1}); err == nil {
		t.Error("truncated batch decoded without error")
	}
}

// Every line of a file lands in exactly one range, whatever the range size.
func TestChunksCoverEveryLineOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.csv")
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := 0; i < 97; i++ {
		fmt.Fprintf(&b, "%d,%d\n", i, i*i)
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{1, 2, 5, 7, 64, 1 << 20} {
		cs, err := planChunks(context.Background(), p, size)
		if err != nil {
			t.Fatal(err)
		}
		var got []float32
		var counts []chunkCount
		for _, c := range cs {
			bt, err := parseChunk(context.Background(), c, FormatCSV, "", nil)
			if err != nil {
				t.Fatalf("size %d, %+v: %v", size, c, err)
			}
			if bt != nil {
				got = append(got, bt.X...)
				counts = append(counts, chunkCount{File: bt.File, Start: bt.Start, N: bt.N})
			}
		}
		if _, n := offsets(counts); n != 97 || len(got) != 194 {
			t.Fatalf("size %d: %d rows (%d values), want 97", size, n, len(got))
		}
		for i := 0; i < 97; i++ {
			if got[2*i] != float32(i) || got[2*i+1] != float32(i*i) {
				t.Fatalf("size %d: row %d is %v", size, i, got[2*i:2*i+2])
			}
		}
	}
}

func TestOptionErrors(t *testing.T) {
	ctx := context.Background()
	_, s := beam.NewPipelineWithRoot()
	dir := t.TempDir()
	if err := BuildScore(ctx, s, ScoreOptions{Model: filepath.Join(dir, "none.odm"), Input: "x.csv", Output: "o"}); err == nil || !strings.Contains(err.Error(), "none.odm") {
		t.Errorf("missing model: %v", err)
	}
	if err := BuildScore(ctx, s, ScoreOptions{Model: "m", Input: "x.csv", Output: "o", OutputFormat: "xml"}); err == nil {
		t.Error("output format xml accepted")
	}
	if err := BuildFitIForest(ctx, s, FitOptions{Input: filepath.Join(dir, "none.csv"), Output: "o"}); err == nil {
		t.Error("missing input accepted")
	}
	if err := BuildFitIForest(ctx, s, FitOptions{Input: "x.csv", Output: "o", Forest: iforest.Options{MaxFeatures: 2}}); err == nil {
		t.Error("MaxFeatures 2 accepted")
	}
	if err := Run(ctx, beam.NewPipeline(), RunOptions{Runner: "nope"}); err == nil {
		t.Error("runner nope accepted")
	}
	for p, want := range map[string]bool{"/a/b": true, "rel/x.odm": true, "c:x": true, "gs://b/m.odm": false, "s3://b/k": false} {
		if isLocal(p) != want {
			t.Errorf("isLocal(%q) = %v", p, !want)
		}
	}
}

func TestJSONLabel(t *testing.T) {
	for in, want := range map[string]string{"3": "3", "0": "0", "normal": `"normal"`, `a"b`: `"a\"b"`, "1.5": `"1.5"`} {
		if got := string(jsonLabel(in)); got != want {
			t.Errorf("jsonLabel(%q) = %s, want %s", in, got, want)
		}
	}
}
