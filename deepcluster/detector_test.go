package deepcluster

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

// blobs returns n seeded 1×16×16 images (shape as given: [1,16,16] or
// [16,16]) of four classes, each a bright 6×6 square in its own quadrant
// over faint noise.
func blobs(n int, seed uint64, shape ...int) *data.Dataset {
	if len(shape) == 0 {
		shape = []int{1, 16, 16}
	}
	r := rand.New(rand.NewPCG(seed, 77))
	x := &data.Dataset{Name: "blobs", X: make([]float32, n*256), N: n, Shape: shape, Y: make([]int, n)}
	for i := 0; i < n; i++ {
		c := i % 4
		x.Y[i] = c
		oy, ox := 1+8*(c/2), 1+8*(c%2)
		for p := 0; p < 256; p++ {
			v := 0.1 * r.Float32()
			if y, xx := p/16, p%16; y >= oy && y < oy+6 && xx >= ox && xx < ox+6 {
				v += 0.8
			}
			x.X[i*256+p] = v
		}
	}
	return x
}

// TestContract runs the shared conformance checks on the registered
// method.
func TestContract(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"k": "4", "epochs": "1", "batch": "50", "max-steps": "6", "update-interval": "3", "kmeans-init": "3"},
		Slow:     map[string]string{"k": "4", "epochs": "1000000", "batch": "50", "kmeans-init": "3"},
		Bad:      map[string]string{"k": "0", "update-interval": "0", "loss": "nope", "alpha-to": "2"},
		Train:    blobs(80, 1),
		Test:     blobs(24, 9),
	})
}

// TestConformance runs the same checks by hand with deepcluster's own
// details (error sentinels of Embed and Reconstruct, S×S samples), and the
// Embedder and Reconstructor capabilities.
func TestConformance(t *testing.T) {
	ctx := context.Background()
	x := blobs(80, 1)
	d := New(tinyOptions(5))
	var _ detector.Embedder = d
	var _ detector.Reconstructor = d
	if _, err := d.Score(ctx, x); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Score before Fit: %v", err)
	}
	if _, _, err := d.Embed(ctx, x); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Embed before Fit: %v", err)
	}
	if _, _, err := d.Reconstruct(ctx, x); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Reconstruct before Fit: %v", err)
	}
	nan := blobs(80, 1)
	nan.X[17] = float32(math.NaN())
	if err := New(tinyOptions(5)).Fit(ctx, detector.TrainSet{X: nan}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("Fit on NaN: %v", err)
	}
	m, err := detector.Fit(ctx, d, detector.TrainSet{X: x}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		x    *data.Dataset
		want error
	}{
		"side":     {blobs(3, 2, 1, 16, 16), nil},
		"2-D":      {&data.Dataset{X: make([]float32, 256), N: 1, Shape: []int{16, 16}}, detector.ErrSchema},
		"channels": {&data.Dataset{X: make([]float32, 3*256), N: 1, Shape: []int{3, 16, 16}}, detector.ErrSchema},
		"smaller":  {&data.Dataset{X: make([]float32, 64), N: 1, Shape: []int{1, 8, 8}}, detector.ErrSchema},
		"nan":      {nan, detector.ErrInput},
		"nil":      {nil, detector.ErrInput},
	} {
		_, err := d.Score(ctx, c.x)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("Score %s: %v, want %v", name, err, c.want)
		}
		if _, _, err := d.Embed(ctx, c.x); c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Embed %s: %v, want %v", name, err, c.want)
		}
		if _, _, err := d.Reconstruct(ctx, c.x); c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Reconstruct %s: %v, want %v", name, err, c.want)
		}
	}

	want, err := d.Score(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	detectortest.ScoresConcurrently(t, d, x, want)

	m2, _ := detectortest.RoundTrip(t, m, x)
	if !reflect.DeepEqual(m2.Detector.(*Detector).Options, d.Options) {
		t.Errorf("loaded options %+v, saved %+v", m2.Detector.(*Detector).Options, d.Options)
	}

	detectortest.WantScores(t, "same seed", detectortest.FitScore(t, New(tinyOptions(5)), detector.TrainSet{X: x}, x), want)
	if detectortest.SameScores(detectortest.FitScore(t, New(tinyOptions(6)), detector.TrainSet{X: x}, x), want) {
		t.Error("another seed, identical scores")
	}

	z, dim, err := d.Embed(ctx, x)
	if err != nil || dim != 10 || len(z) != x.N*dim {
		t.Fatalf("Embed: %d values of dim %d, %v", len(z), dim, err)
	}
	mz, _ := d.Model.Embed(ctx, x)
	if !reflect.DeepEqual(z, mz) {
		t.Error("Embed differs from Model.Embed")
	}
	in, out, err := d.Reconstruct(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Shape, []int{1, 16, 16}) || !reflect.DeepEqual(out.Shape, in.Shape) || in.N != x.N || out.N != x.N ||
		len(out.X) != len(x.X) || !reflect.DeepEqual(in.X, x.X) {
		t.Fatalf("Reconstruct: in %v×%v (%d values), out %v×%v (%d values)", in.N, in.Shape, len(in.X), out.N, out.Shape, len(out.X))
	}
	var se float64
	for i := range out.X {
		e := float64(out.X[i] - in.X[i])
		se += e * e
	}
	if mse := se / float64(len(out.X)); !(mse < 0.5) {
		t.Errorf("reconstruction MSE %v", mse)
	}
}

// TestTwoDimensionalImages: S×S samples train as one channel, score and
// reconstruct as 1×S×S, and survive saving.
func TestTwoDimensionalImages(t *testing.T) {
	ctx := context.Background()
	x := blobs(40, 3, 16, 16)
	d := New(tinyOptions(1))
	m, err := detector.Fit(ctx, d, detector.TrainSet{X: x}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	detectortest.RoundTrip(t, m, x)
	in, out, err := d.Reconstruct(ctx, x)
	if err != nil || !reflect.DeepEqual(in.Shape, []int{1, 16, 16}) || !reflect.DeepEqual(out.Shape, []int{1, 16, 16}) {
		t.Fatalf("Reconstruct: %v, shapes %v %v", err, in.Shape, out.Shape)
	}
	if _, err := d.Score(ctx, blobs(4, 1)); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("1×16×16 samples for a model of 16×16 samples: %v", err)
	}
}

// TestOldModelLoads: a payload as saved before input shapes were recorded
// (no "input_shape") loads into a detector made with other options, and
// scores as the saved one.
func TestOldModelLoads(t *testing.T) {
	ctx := context.Background()
	x := blobs(40, 4)
	o := tinyOptions(2)
	o.Score = "maxq"
	d := New(o)
	want := detectortest.FitScore(t, d, detector.TrainSet{X: x}, x)
	p := detectortest.SavedWithout(t, d, "input_shape")
	d2 := New(DefaultOptions())
	if err := d2.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if d2.Options != o {
		t.Errorf("loaded options %+v, want %+v", d2.Options, o)
	}
	if got, err := d2.Score(ctx, x); err != nil || !detectortest.SameScores(got, want) {
		t.Errorf("old-format model scores differently (%v)", err)
	}
	if _, err := d2.Score(ctx, &data.Dataset{X: make([]float32, 64), N: 1, Shape: []int{1, 8, 8}}); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("8×8 images: %v", err)
	}
}

// TestFitCancel: a cancelled context stops Fit within a second, in
// pretraining and in fine-tuning.
func TestFitCancel(t *testing.T) {
	x := blobs(200, 5)
	long := tinyOptions(1)
	long.PretrainEpochs = 1_000_000
	noPre := tinyOptions(1)
	noPre.NoPretrain, noPre.MaxSteps, noPre.Tol = true, 1_000_000_000, -1
	for name, o := range map[string]Options{"pretrain": long, "finetune": noPre} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- New(o).Fit(ctx, detector.TrainSet{X: x}) }()
		time.Sleep(300 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: Fit returned %v, want context.Canceled", name, err)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s: Fit still running a second after cancel", name)
		}
	}
}

// TestProgressAndSilence: Fit reports "pretrain" once per epoch with the
// loss and "finetune" at every target update with loss and delta, through
// TrainSet.Progress only; it writes nothing to stdout or stderr.
func TestProgressAndSilence(t *testing.T) {
	x := blobs(60, 6)
	o := tinyOptions(3)
	o.PretrainEpochs, o.MaxSteps, o.UpdateInterval, o.Tol = 2, 6, 3, -1
	var reps []detector.Progress
	d := New(o)
	restore := captureOutput(t)
	err := d.Fit(context.Background(), detector.TrainSet{X: x, Progress: func(p detector.Progress) { reps = append(reps, p) }})
	printed := restore()
	if err != nil {
		t.Fatal(err)
	}
	if printed != "" {
		t.Errorf("Fit printed %q", printed)
	}
	type rep struct {
		phase       string
		done, total int
	}
	var got []rep
	for _, p := range reps {
		got = append(got, rep{p.Phase, p.Done, p.Total})
		want := []string{"loss"}
		if p.Phase == "finetune" {
			want = append(want, "delta")
		}
		for _, k := range want {
			if v, ok := p.Metrics[k]; !ok || math.IsNaN(v) {
				t.Errorf("%s %d: metric %s missing from %v", p.Phase, p.Done, k, p.Metrics)
			}
		}
		if _, ok := p.Metrics["acc"]; ok {
			t.Errorf("acc reported without MonitorLabels: %v", p)
		}
	}
	want := []rep{{"pretrain", 1, 2}, {"pretrain", 2, 2}, {"finetune", 0, 6}, {"finetune", 3, 6}, {"finetune", 6, 6}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("progress %v, want %v", got, want)
	}
	if len(d.Result.PretrainLoss) != 2 || reps[1].Metrics["loss"] != d.Result.PretrainLoss[1] {
		t.Errorf("pretrain loss reported %v, recorded %v", reps[1].Metrics, d.Result.PretrainLoss)
	}

	// With MonitorLabels the labels' ACC joins the reports.
	d = New(o)
	d.MonitorLabels = true
	reps = nil
	if err := d.Fit(context.Background(), detector.TrainSet{X: x, Progress: func(p detector.Progress) { reps = append(reps, p) }}); err != nil {
		t.Fatal(err)
	}
	phases := map[string]bool{}
	for _, p := range reps {
		if p.Phase == "init" || p.Phase == "finetune" {
			if _, ok := p.Metrics["acc"]; !ok {
				t.Errorf("%s: no acc with MonitorLabels: %v", p.Phase, p.Metrics)
			}
		}
		phases[p.Phase] = true
	}
	if !phases["init"] {
		t.Error("no init report with MonitorLabels")
	}
}

// captureOutput points os.Stdout and os.Stderr at a pipe until the returned
// function is called, which restores them and returns what was written.
func captureOutput(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	so, se := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	var buf []byte
	done := make(chan struct{})
	go func() { buf, _ = io.ReadAll(r); close(done) }()
	return func() string {
		os.Stdout, os.Stderr = so, se
		w.Close()
		<-done
		r.Close()
		return string(buf)
	}
}
