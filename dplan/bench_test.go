package dplan

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

func randomSet(r *rand.Rand, n, d int) *data.Dataset {
	ds := &data.Dataset{N: n, Shape: []int{d}, X: make([]float32, n*d)}
	for i := range ds.X {
		ds.X[i] = float32(r.Float64())
	}
	return ds
}

// BenchmarkFitDefault times the default training (10 episodes × 2,000
// steps) on 5,000 unlabelled rows + 60 labelled anomalies of 100 features.
func BenchmarkFitDefault(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	unl, lab := randomSet(r, 5000, 100), randomSet(r, 60, 100)
	for i := 0; i < b.N; i++ {
		if err := New(DefaultOptions()).Fit(context.Background(), detector.TrainSet{X: unl, Anomalies: lab}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScore21 scores 1,000,000 rows of 21 features with 2 workers;
// rows/s = 1e6 / (ns/op · 1e-9).
func BenchmarkScore21(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	q, _ := NewQNet(21, 20, r)
	x := randomSet(r, 1000000, 21)
	b.SetBytes(int64(len(x.X) * 4))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := q.ScoreAnomaly(x.X, x.N, 2); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(x.N)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
