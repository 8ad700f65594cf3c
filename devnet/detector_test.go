package devnet

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/metrics"
)

// planted returns unlabelled data (normals around 0.5, 2% anomalies), a few
// labelled anomalies (shifted in features 0-1) and a labelled test set.
func planted(seed uint64, d int) (unl, lab, test *data.Dataset) {
	s := detectortest.Planted(seed, d, 0.1, [2]int{1000, 20}, [2]int{20, 20}, [2]int{300, 30})
	return s[0], s[1], s[2]
}

func fastOptions(seed uint64) Options {
	o := DefaultOptions()
	o.Epochs, o.BatchesPerEpoch, o.BatchSize, o.Seed = 10, 10, 64, seed
	return o
}

// TestGradientMatchesFiniteDifferences checks lossGrad's gradient against
// central differences of a float64 re-implementation of the loss (away from
// its kinks).
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	const d, b = 3, 6
	m := New(DefaultOptions())
	m.Options.Hidden = 4
	r := rand.New(rand.NewPCG(2, 3))
	if err := m.initParams(d, r); err != nil {
		t.Fatal(err)
	}
	for i := range m.b1.Data {
		m.b1.Data[i] = 0.2
	}
	m.b2.Data[0] = 0.3
	bb := newBuffers(b, d, 4)
	for i := range bb.x {
		bb.x[i] = float32(r.Float64())
	}
	copy(bb.y, []float32{0, 1, 0, 1, 0, 1})
	mu, sigma := 0.05, 1.1
	naive := func() float64 {
		var l float64
		for i := 0; i < b; i++ {
			s := float64(m.b2.Data[0])
			for j := 0; j < 4; j++ {
				a := float64(m.b1.Data[j])
				for k := 0; k < d; k++ {
					a += float64(m.w1.Data[j*d+k]) * float64(bb.x[i*d+k])
				}
				s += float64(m.w2.Data[j]) * max(a, 0)
			}
			dev := (s - mu) / sigma
			if bb.y[i] == 0 {
				l += math.Abs(dev)
			} else {
				l += max(0, 5-dev)
			}
		}
		var l2 float64
		for _, w := range m.w1.Data {
			l2 += float64(w) * float64(w)
		}
		return l/b + 0.01*l2
	}
	got := m.lossGrad(bb, b, mu, sigma)
	if want := naive(); math.Abs(got-want) > 1e-5 {
		t.Fatalf("loss %v, naive %v", got, want)
	}
	for _, p := range m.params() {
		g := p.Grad()
		for i := range p.Data {
			if num := detectortest.CentralDifference(p.Data, i, 1e-3, naive); math.Abs(num-float64(g[i])) > 2e-3*max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: gradient %v, finite difference %v", p.Name, i, g[i], num)
			}
		}
	}
}

func fit(t *testing.T, o Options, unl, lab *data.Dataset) *Detector {
	t.Helper()
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: unl, Anomalies: lab}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPlantedAnomalies(t *testing.T) {
	unl, lab, test := planted(1, 6)
	m := fit(t, fastOptions(1), unl, lab)
	sc, err := m.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	auc, _ := metrics.ROCAUC(sc, test.Y)
	if auc < 0.95 {
		t.Errorf("AUC-ROC %.3f, want >= 0.95", auc)
	}
	if first, last := m.Losses[0], m.Losses[len(m.Losses)-1]; !(last < first) {
		t.Errorf("loss did not fall: %v -> %v", first, last)
	}
}

func TestSeedAndSaveLoad(t *testing.T) {
	unl, lab, test := planted(2, 5)
	ts := detector.TrainSet{X: unl, Anomalies: lab}
	sa := detectortest.FitScore(t, New(fastOptions(4)), ts, test)
	sb := detectortest.FitScore(t, New(fastOptions(4)), ts, test)
	detectortest.WantScores(t, "same seed", sb, sa)
	mod, err := detector.Fit(context.Background(), New(fastOptions(4)), ts, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	_, s2 := detectortest.RoundTrip(t, mod, test)
	detectortest.WantScores(t, "model via detector.Fit", s2, sa)
}

func TestBadInput(t *testing.T) {
	unl, lab, _ := planted(3, 4)
	ctx := context.Background()
	if err := New(fastOptions(1)).Fit(ctx, detector.TrainSet{X: unl}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no anomalies: %v", err)
	}
	wide := &data.Dataset{X: make([]float32, 10), N: 2, Shape: []int{5}}
	if err := New(fastOptions(1)).Fit(ctx, detector.TrainSet{X: unl, Anomalies: wide}); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("anomalies of another width: %v", err)
	}
	o := fastOptions(1)
	o.BatchSize = 1
	if err := New(o).Fit(ctx, detector.TrainSet{X: unl, Anomalies: lab}); !errors.Is(err, ErrOption) {
		t.Errorf("batch 1: %v", err)
	}
	if _, err := New(o).Score(ctx, unl); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("unfitted: %v", err)
	}
	m := fit(t, fastOptions(1), unl, lab)
	if _, err := m.Score(ctx, wide); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("wrong width: %v", err)
	}
}
