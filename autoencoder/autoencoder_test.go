package autoencoder

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/metrics"
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
