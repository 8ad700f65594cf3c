package pca

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestDetectorSaveLoad(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Points on the plane z = x + y in 3-D: one component pair explains all.
	train := &data.Dataset{N: 300, Shape: []int{3}, X: make([]float32, 900)}
	for i := 0; i < 300; i++ {
		x, y := float32(r.NormFloat64()), float32(r.NormFloat64())
		train.X[3*i], train.X[3*i+1], train.X[3*i+2] = x, y, x+y
	}
	m, err := detector.Fit(context.Background(), NewDetector(Options{NComponents: 2}), detector.TrainSet{X: train}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	test := &data.Dataset{N: 2, Shape: []int{3}, X: []float32{1, 1, 2, 1, 1, -2}}
	_, a := detectortest.RoundTrip(t, m, test)
	// On the plane: no error; (1,1,-2) is 4/sqrt(3) off it, squared 16/3.
	if a[0] > 1e-6 || math.Abs(a[1]-16.0/3) > 1e-4 {
		t.Errorf("scores %v, want [0, 5.333]", a)
	}
}
