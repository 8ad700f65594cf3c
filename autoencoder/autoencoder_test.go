package autoencoder

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/option"
)

// plane returns n points near a 2-D subspace of R^6 and, when outliers is
// true, points off it; labels mark the outliers.
func plane(r *rand.Rand, n int, outliers bool) *data.Dataset {
	d := &data.Dataset{N: n, Shape: []int{6}, X: make([]float32, 6*n), Y: make([]int, n)}
	for i := 0; i < n; i++ {
		a, b := r.Float64(), r.Float64()
		v := []float64{a, b, (a + b) / 2, a * 0.3, 1 - b, 0.5}
		if outliers && i%10 == 0 {
			for j := range v {
				v[j] = r.Float64()
			}
			d.Y[i] = 1
		}
		for j := range v {
			d.X[i*6+j] = float32(v[j])
		}
	}
	return d
}

// opts returns DefaultOptions with the given widths, epochs, learning rate
// and seed.
func opts(hidden []int, epochs int, lr float64, seed uint64) Options {
	o := DefaultOptions()
	o.Hidden, o.Epochs, o.LR, o.Seed = hidden, epochs, lr, seed
	return o
}

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"hidden": "8,3", "epochs": "2", "min-steps": "-1"},
		Slow:     map[string]string{"epochs": "1000000", "min-steps": "-1"},
		Bad:      map[string]string{"epochs": "0", "lr": "-1", "batch": "0"},
		Train:    detectortest.Gaussian(200, 6, 0, 0, 1),
		Test:     detectortest.Gaussian(30, 6, 0.5, 0, 2),
	})
}

// The option names and printed defaults are part of the benchmark's cache
// keys: they must not change.
func TestOptionNamesAndDefaults(t *testing.T) {
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{"hidden": "auto", "epochs": "50", "batch": "128", "lr": "0.001"})
	o.MinSteps = -1
	if got := option.Values(&o)["min-steps"]; got != "-1" {
		t.Errorf("min-steps -1 prints %q", got)
	}
}

func TestValidate(t *testing.T) {
	bad := detectortest.RefusesInvalid(t, DefaultOptions, ErrOption, []detectortest.Invalid[Options]{
		{Name: "hidden", Set: func(o *Options) { o.Hidden = []int{8, 0} }},
		{Name: "epochs", Set: func(o *Options) { o.Epochs = 0 }},
		{Name: "batch", Set: func(o *Options) { o.BatchSize = 0 }},
		{Name: "lr", Set: func(o *Options) { o.LR = 0 }},
		{Name: "lr", Set: func(o *Options) { o.LR = math.NaN() }},
		{Name: "lr", Set: func(o *Options) { o.LR = math.Inf(1) }},
	})
	for _, o := range bad {
		if err := New(o).Fit(context.Background(), detector.TrainSet{X: detectortest.Gaussian(10, 2, 0, 0, 1)}); !errors.Is(err, ErrOption) {
			t.Errorf("Fit with %+v: %v, want ErrOption", o, err)
		}
	}
}

// The step floor: 0 stands for 2,000 steps, a negative value for none.
func TestEpochs(t *testing.T) {
	o := DefaultOptions() // 50 epochs of 128
	for _, c := range []struct{ minSteps, n, want int }{
		{0, 120, 2000},      // one batch an epoch: 2,000 epochs
		{0, 214, 1000},      // two batches: 1,000 epochs
		{0, 128 * 40, 50},   // 2,000 steps already
		{0, 128 * 100, 50},  // more
		{-1, 120, 50},       // no floor
		{300, 200, 150},     // two batches: 150 epochs
		{300, 128 * 10, 50}, // 500 steps already
	} {
		o.MinSteps = c.minSteps
		if got := o.epochs(c.n); got != c.want {
			t.Errorf("min-steps %d, %d samples: %d epochs, want %d", c.minSteps, c.n, got, c.want)
		}
	}
}

func TestReconstructionFindsOffPlanePoints(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	train, test := plane(r, 800, false), plane(r, 400, true)
	m, err := detector.Fit(context.Background(), New(opts([]int{16, 2}, 200, 3e-3, 1)), detector.TrainSet{X: train}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	auc, _ := metrics.ROCAUC(s, test.Y)
	t.Logf("AUC-ROC %.3f", auc)
	if auc < 0.9 {
		t.Fatalf("AUC-ROC %.3f, want >= 0.9 for points off the training plane", auc)
	}
	detectortest.RoundTrip(t, m, test)
	// Same seed, same scores.
	s3 := detectortest.FitScore(t, New(opts([]int{16, 2}, 200, 3e-3, 1)), detector.TrainSet{X: train}, test)
	for i := range s {
		if s3[i] != s[i] {
			t.Fatalf("same seed, different score %d: %v vs %v", i, s[i], s3[i])
		}
	}
}

// With its defaults on a small table (120 rows: one batch an epoch) the
// autoencoder still trains long enough to separate off-plane points: the
// step floor raises the epochs. The same network held to 50 epochs (50
// steps) is the failure this guards against.
func TestDefaultsTrainSmallTables(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	train, test := plane(r, 120, false), plane(r, 400, true)
	auc := func(o Options) float64 {
		a, _ := metrics.ROCAUC(detectortest.FitScore(t, New(o), detector.TrainSet{X: train}, test), test.Y)
		return a
	}
	short := DefaultOptions()
	short.Seed, short.MinSteps = 1, -1
	full := DefaultOptions()
	full.Seed = 1
	a, b := auc(short), auc(full)
	t.Logf("AUC-ROC with 50 steps %.3f, with the step floor %.3f", a, b)
	if b < 0.9 {
		t.Fatalf("AUC-ROC %.3f with the defaults, want >= 0.9", b)
	}
}

// Progress is reported once per epoch, with the epoch's mean loss.
func TestProgress(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2))
	o := opts([]int{4, 2}, 3, 1e-3, 1)
	o.MinSteps = -1
	var got []detector.Progress
	if err := New(o).Fit(context.Background(), detector.TrainSet{X: plane(r, 50, false), Progress: func(p detector.Progress) { got = append(got, p) }}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Done != 3 || got[2].Total != 3 || got[2].Phase != "epoch" || !(got[2].Metrics["loss"] > 0) {
		t.Errorf("progress reports %+v", got)
	}
}

// Embed is the encoder half computed by hand from the fitted weights,
// W2·relu(W1·x + b1) + b2, for every row, also after a save and load.
func TestEmbedIsTheEncoderOutput(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	train, test := plane(r, 200, false), plane(r, 37, true)
	m, err := detector.Fit(context.Background(), New(opts([]int{5, 3}, 3, 1e-3, 2)), detector.TrainSet{X: train}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	d := m.Detector.(*Detector)
	var _ detector.Embedder = d
	z, w, err := d.Embed(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	if w != 3 || len(z) != test.N*3 {
		t.Fatalf("code width %d, %d values; want 3, %d", w, len(z), test.N*3)
	}
	l1, l2 := d.net.Layers[0].(*nn.Linear), d.net.Layers[2].(*nn.Linear)
	for i := 0; i < test.N; i++ {
		x := test.Row(i)
		h := make([]float64, 5)
		for j := range h {
			s := float64(l1.Bias.Data[j])
			for k, v := range x {
				s += float64(l1.Weight.Data[j*6+k]) * float64(v)
			}
			h[j] = max(s, 0)
		}
		for j := 0; j < 3; j++ {
			s := float64(l2.Bias.Data[j])
			for k, v := range h {
				s += float64(l2.Weight.Data[j*5+k]) * v
			}
			if got := float64(z[i*3+j]); math.Abs(got-s) > 1e-5 {
				t.Fatalf("row %d unit %d: code %v, by hand %v", i, j, got, s)
			}
		}
	}
	loaded, _ := detectortest.RoundTrip(t, m, test)
	z2, _, err := loaded.Detector.(*Detector).Embed(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range z {
		if z2[i] != z[i] {
			t.Fatalf("value %d after loading: %v, before %v", i, z2[i], z[i])
		}
	}
	if _, _, err := New(DefaultOptions()).Embed(context.Background(), test); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Embed of an unfitted detector: %v, want ErrNotFitted", err)
	}
}

// Reconstruct returns x and its reconstruction, whose mean squared
// difference per sample is the score.
func TestReconstruct(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	train, test := plane(r, 100, false), plane(r, 23, true)
	d := New(opts([]int{4, 2}, 2, 1e-3, 3))
	if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		t.Fatal(err)
	}
	var _ detector.Reconstructor = d
	in, out, err := d.Reconstruct(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	if in != test || out.N != test.N || !slices.Equal(out.Shape, test.Shape) || len(out.X) != len(test.X) {
		t.Fatalf("in %p (x %p), out %d samples of %v, %d values", in, test, out.N, out.Shape, len(out.X))
	}
	s, _ := d.Score(context.Background(), test)
	for i := 0; i < test.N; i++ {
		var sum float64
		for j := 0; j < 6; j++ {
			e := float64(out.X[i*6+j] - in.X[i*6+j])
			sum += e * e
		}
		if sum/6 != s[i] {
			t.Fatalf("sample %d: reconstruction error %v, score %v", i, sum/6, s[i])
		}
	}
	if _, _, err := New(DefaultOptions()).Reconstruct(context.Background(), test); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Reconstruct of an unfitted detector: %v, want ErrNotFitted", err)
	}
	if _, _, err := d.Reconstruct(context.Background(), detectortest.Gaussian(3, 5, 0, 0, 1)); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("Reconstruct of 5-feature rows: %v, want ErrSchema", err)
	}
}

// Loading restores the options as given (automatic widths stay automatic),
// and a model saved before the options had JSON names loads.
func TestUnmarshalOptions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 6))
	train := plane(r, 60, false)
	o := DefaultOptions()
	o.Epochs, o.MinSteps, o.Seed = 2, -1, 4
	d := New(o)
	want := detectortest.FitScore(t, d, detector.TrainSet{X: train}, train)
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	e := New(opts([]int{9}, 7, 0.5, 1))
	if err := e.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if e.Options.Hidden != nil || e.Options.Epochs != 2 || e.Options.MinSteps != -1 || e.Options.Seed != 4 || e.Options.BatchSize != 128 || !slices.Equal(e.widths, []int{6, 3}) {
		t.Errorf("options %+v widths %v after loading", e.Options, e.widths)
	}
	p.Config = []byte(`{"options":{"Hidden":[6,3],"Epochs":2,"BatchSize":128,"LR":0.001,"MinSteps":-1,"Seed":4},"dim":6}`)
	f := New(DefaultOptions())
	if err := f.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	got, err := f.Score(context.Background(), train)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("old configuration: scores differ (%v)", err)
	}
	if f.Options.BatchSize != 128 || !slices.Equal(f.Options.Hidden, []int{6, 3}) {
		t.Errorf("old configuration: options %+v", f.Options)
	}
}
