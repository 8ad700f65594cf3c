package autoencoder

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/nn"
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

func TestReconstructionFindsOffPlanePoints(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	train, test := plane(r, 800, false), plane(r, 400, true)
	m, err := detector.Fit(context.Background(), New(Options{Hidden: []int{16, 2}, Epochs: 200, Seed: 1, LR: 3e-3}), detector.TrainSet{X: train}, detector.ThresholdRule{})
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
	d3 := New(Options{Hidden: []int{16, 2}, Epochs: 200, Seed: 1, LR: 3e-3})
	if err := d3.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		t.Fatal(err)
	}
	s3, _ := d3.Score(context.Background(), test)
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
		d := New(o)
		if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
			t.Fatal(err)
		}
		s, err := d.Score(context.Background(), test)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := metrics.ROCAUC(s, test.Y)
		return a
	}
	short, full := auc(Options{Seed: 1, MinSteps: -1}), auc(Options{Seed: 1})
	t.Logf("AUC-ROC with 50 steps %.3f, with the step floor %.3f", short, full)
	if full < 0.9 {
		t.Fatalf("AUC-ROC %.3f with the defaults, want >= 0.9", full)
	}
}

// Code is the encoder half computed by hand from the fitted weights,
// W2·relu(W1·x + b1) + b2, for every row, also after a save and load.
func TestCodeIsTheEncoderOutput(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	train, test := plane(r, 200, false), plane(r, 37, true)
	m, err := detector.Fit(context.Background(), New(Options{Hidden: []int{5, 3}, Epochs: 3, Seed: 2}), detector.TrainSet{X: train}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	d := m.Detector.(*Detector)
	z, w, err := d.Code(context.Background(), test)
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
	z2, _, err := loaded.Detector.(*Detector).Code(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range z {
		if z2[i] != z[i] {
			t.Fatalf("value %d after loading: %v, before %v", i, z2[i], z[i])
		}
	}
	if _, _, err := New(Options{}).Code(context.Background(), test); err == nil {
		t.Error("Code of an unfitted detector: no error")
	}
}
