package iforest

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// BenchmarkDetectorScore100k scores 100,000 rows of 20 features through
// the Detector (input checks included), as oddity score and serve do.
func BenchmarkDetectorScore100k(b *testing.B) {
	const n, d = 100000, 20
	r := rand.New(rand.NewPCG(1, 2))
	x := &data.Dataset{Name: "b", N: n, Shape: []int{d}, X: make([]float32, n*d)}
	for i := range x.X {
		x.X[i] = float32(r.NormFloat64())
	}
	det := newDet()
	if err := det.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := det.Score(context.Background(), x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
func newDet() detector.Detector { return New(DefaultOptions()) }
