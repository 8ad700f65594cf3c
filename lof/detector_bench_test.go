package lof

import (
	"context"
	"fmt"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

// BenchmarkFitScore fits on 20,000 rows and scores 5,000, with the tree
// (8 features) and the blocked SGEMM (64 features):
//
//	go test ./lof -run - -bench FitScore -benchtime 3x
//
// scripts/reference/knn_lof.py --timing compares the same work with
// scikit-learn's on real data.
func BenchmarkFitScore(b *testing.B) {
	for _, d := range []int{8, 64} {
		train := detectortest.Gaussian(20000, d, 0, 0, 1)
		test := detectortest.Gaussian(5000, d, 0.5, 0, 2)
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			for range b.N {
				det := New(DefaultOptions())
				if err := det.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
					b.Fatal(err)
				}
				if _, err := det.Score(context.Background(), test); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
