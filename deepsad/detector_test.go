package deepsad

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
	"github.com/oddity-ml/oddity/tensor"
)

func planted(seed uint64, d int) (unl, lab, test *data.Dataset) {
	s := detectortest.Planted(seed, d, 0.08, [2]int{800, 16}, [2]int{16, 16}, [2]int{300, 30})
	return s[0], s[1], s[2]
}

func fastOptions(seed uint64) Options {
	o := DefaultOptions()
	o.AEEpochs, o.Epochs, o.Seed = 5, 10, seed
	return o
}

// TestLossGradient checks the Deep SAD loss and its gradient against a
// float64 re-implementation and central differences.
func TestLossGradient(t *testing.T) {
	m := &Detector{Options: DefaultOptions(), c: []float32{0.3, -0.2, 0.5}}
	r := rand.New(rand.NewPCG(1, 2))
	z := tensor.Param("z", 5, 3)
	for i := range z.Data {
		z.Data[i] = float32(r.NormFloat64())
	}
	idx := []int{0, 7, 2, 9, 3} // nU = 5: rows 1 and 3 are labelled anomalies
	naive := func() float64 {
		var lu, la float64
		for b, i := range idx {
			var s float64
			for j := 0; j < 3; j++ {
				t := float64(z.Data[b*3+j]) - float64(m.c[j])
				s += t * t
			}
			if i < 5 {
				lu += s / 3
			} else {
				la += 1 / (s + 1e-6) / 2
			}
		}
		return lu + la
	}
	tp := tensor.NewTape()
	loss := m.sadLoss(tp, z, idx, 5)
	if want := naive(); math.Abs(float64(loss.Item())-want) > 1e-5*max(1, want) {
		t.Fatalf("loss %v, naive %v", loss.Item(), want)
	}
	tp.Backward(loss)
	g := z.Grad()
	for i := range z.Data {
		if num := detectortest.CentralDifference(z.Data, i, 1e-3, naive); math.Abs(num-float64(g[i])) > 2e-3*max(1, math.Abs(num)) {
			t.Errorf("z[%d]: gradient %v, finite difference %v", i, g[i], num)
		}
	}
}

// TestCentre: with no Deep SAD epochs, c is the mean of φ over the training
// rows (coordinates pushed away from 0 to ±0.1).
func TestCentre(t *testing.T) {
	unl, lab, _ := planted(2, 5)
	o := fastOptions(2)
	o.Epochs = 0
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: unl, Anomalies: lab}); err != nil {
		t.Fatal(err)
	}
	all, _ := data.Concat("all", unl, lab)
	z := m.encode(tensor.NoGrad, tensor.FromData(all.X, all.N, 5))
	for j := range m.c {
		var s float64
		for i := 0; i < all.N; i++ {
			s += float64(z.Data[i*o.Rep+j])
		}
		s /= float64(all.N)
		want := s
		if math.Abs(s) < 0.1 {
			want = math.Copysign(0.1, s)
		}
		if math.Abs(float64(m.c[j])-want) > 1e-5 {
			t.Errorf("c[%d] = %v, want %v", j, m.c[j], want)
		}
	}
}

func TestPlantedAnomaliesSeedSaveLoad(t *testing.T) {
	unl, lab, test := planted(3, 6)
	ctx := context.Background()
	mod, err := detector.Fit(ctx, New(fastOptions(5)), detector.TrainSet{X: unl, Anomalies: lab}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := mod.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	auc, _ := metrics.ROCAUC(sc, test.Y)
	if auc < 0.9 {
		t.Errorf("AUC-ROC %.3f, want >= 0.9", auc)
	}
	s2 := detectortest.FitScore(t, New(fastOptions(5)), detector.TrainSet{X: unl, Anomalies: lab}, test)
	detectortest.RoundTrip(t, mod, test)
	detectortest.WantScores(t, "same seed", s2, sc)
}

func TestBadInput(t *testing.T) {
	unl, lab, _ := planted(4, 4)
	ctx := context.Background()
	o := fastOptions(1)
	o.Rep = 0
	if err := New(o).Fit(ctx, detector.TrainSet{X: unl, Anomalies: lab}); !errors.Is(err, ErrOption) {
		t.Errorf("rep 0: %v", err)
	}
	if err := New(fastOptions(1)).Fit(ctx, detector.TrainSet{}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no data: %v", err)
	}
	wide := &data.Dataset{X: make([]float32, 10), N: 2, Shape: []int{5}}
	if err := New(fastOptions(1)).Fit(ctx, detector.TrainSet{X: unl, Anomalies: wide}); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("width mismatch: %v", err)
	}
	if _, err := New(fastOptions(1)).Score(ctx, unl); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("unfitted: %v", err)
	}
}
