package iforest

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
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
	test := &data.Dataset{Name: "t", N: 3, Shape: []int{4}, X: []float32{0, 0, 0, 0, 5, 5, 5, 5, 0.5, -0.2, 0.1, 1}}
	_, a := detectortest.RoundTrip(t, m, test)
	if !(a[1] > a[0] && a[1] > m.Threshold) {
		t.Errorf("the far point scores %v (centre %v, threshold %v)", a[1], a[0], m.Threshold)
	}
}
