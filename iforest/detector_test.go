package iforest

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

func TestDetectorSaveLoad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	train := &data.Dataset{Name: "g", N: 500, Shape: []int{4}, X: make([]float32, 2000)}
	for i := range train.X {
		train.X[i] = float32(r.NormFloat64())
	}
	m, err := detector.Fit(context.Background(), NewDetector(Options{Seed: 9}), detector.TrainSet{X: train}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := detector.Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	test := &data.Dataset{Name: "t", N: 3, Shape: []int{4}, X: []float32{0, 0, 0, 0, 5, 5, 5, 5, 0.5, -0.2, 0.1, 1}}
	a, _ := m.Score(context.Background(), test)
	b, err := m2.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("score %d: %v before, %v after load", i, a[i], b[i])
		}
	}
	if !(a[1] > a[0] && a[1] > m.Threshold) {
		t.Errorf("the far point scores %v (centre %v, threshold %v)", a[1], a[0], m.Threshold)
	}
}
