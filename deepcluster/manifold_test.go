package deepcluster

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/metrics"
)

// TestManifoldHelps pretrains the DCEC autoencoder on 2,000 USPS digits
// for a few seconds, then clusters the same codes twice: by k-means (the
// DCEC mode's initialisation, no fine-tuning) and by the manifold mode's
// UMAP layout and k-means. The pretraining is identical (same seed), so
// the difference is the manifold step alone; it fails unless that step
// raises ACC (labels only measure) by at least 0.04. Over seeds 1 to 3
// (TestManifoldGainSweep) the gain was 0.056 to 0.076 on 2,000 digits; on
// 1,000 it ranged from -0.048 to 0.037, too few images for the
// neighbourhood graph to follow the digits' manifolds.
func TestManifoldHelps(t *testing.T) {
	accPlain, accMan, m, man, x := manifoldGain(t, 2000, 1)
	if accMan < accPlain+0.04 {
		t.Errorf("the manifold step did not help: ACC %.4f against k-means' %.4f (want a gain of at least 0.04)", accMan, accPlain)
	}
	// New images are assigned to the nearest mean code; on the training
	// images that must agree with the manifold clustering for most rows.
	_, labels, err := m.Assign(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	agree, _ := metrics.ACC(man.Labels, labels)
	if agree < 0.8 {
		t.Errorf("nearest mean codes agree with the manifold clustering on %.3f of the training images, want ≥ 0.8", agree)
	}
}

// TestManifoldGainSweep repeats TestManifoldHelps's comparison over
// subset sizes and seeds: MANIFOLD_SWEEP=1 go test ./deepcluster -run ManifoldGainSweep -v
func TestManifoldGainSweep(t *testing.T) {
	if os.Getenv("MANIFOLD_SWEEP") == "" {
		t.Skip("set MANIFOLD_SWEEP=1 to run")
	}
	for _, n := range []int{1000, 2000} {
		for seed := uint64(1); seed <= 3; seed++ {
			p, m, _, _, _ := manifoldGain(t, n, seed)
			t.Logf("n %d seed %d: gain %.3f", n, seed, m-p)
		}
	}
}

// manifoldGain runs TestManifoldHelps's comparison on n USPS digits with
// seed seed.
func manifoldGain(t *testing.T, n int, seed uint64) (accPlain, accMan float64, m *Model, man *Result, x *data.Dataset) {
	x = uspsSubset(t, n)
	o := DefaultOptions()
	o.K, o.Seed, o.PretrainEpochs, o.BatchSize, o.MaxSteps, o.KMeansInit = 10, seed, 10, 64, 0, 5
	_, plain, err := (&Trainer{Options: o}).Fit(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	o.Manifold = true
	m, man, err = (&Trainer{Options: o}).Fit(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	accPlain, _ = metrics.ACC(x.Y, plain.InitLabels)
	accMan, _ = metrics.ACC(x.Y, man.Labels)
	t.Logf("%d digits, seed %d: k-means on the codes ACC %.4f; manifold mode %.4f", n, seed, accPlain, accMan)
	return accPlain, accMan, m, man, x
}

// TestContractManifold runs the shared conformance checks in the manifold
// mode.
func TestContractManifold(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"k": "4", "epochs": "1", "batch": "50", "kmeans-init": "3", "manifold": "true", "manifold-neighbors": "10"},
		Slow:     map[string]string{"k": "4", "epochs": "1000000", "batch": "50", "kmeans-init": "3", "manifold": "true"},
		Bad:      map[string]string{"manifold-neighbors": "1"},
		Train:    blobs(80, 1),
		Test:     blobs(24, 9),
	})
}

func TestManifoldBadSettings(t *testing.T) {
	o := tinyOptions(1)
	o.Manifold, o.SelfExpressive = true, true
	if err := o.Validate(); !errors.Is(err, ErrOption) {
		t.Errorf("manifold with self-expressive: error %v, want ErrOption", err)
	}
	o = tinyOptions(1)
	o.Manifold, o.ManifoldNeighbors = true, 200
	if _, _, err := (&Trainer{Options: o}).Fit(context.Background(), blobs(100, 1)); !errors.Is(err, ErrInput) {
		t.Errorf("200 neighbours of 100 images: error %v, want ErrInput", err)
	}
}
