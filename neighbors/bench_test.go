package neighbors

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkSearch times both algorithms on Gaussian data of growing width
// (the tree's worst case: the intrinsic dimension is the width): 20,000
// training rows, 5,000 queries, k = 5; and the leave-one-out search of
// the training rows, k = 20, as LOF's Fit runs it.
//
//	go test ./neighbors -run - -bench Search -benchtime 2x
func BenchmarkSearch(b *testing.B) {
	const n, m = 20000, 5000
	ctx := context.Background()
	for _, d := range []int{2, 4, 8, 12, 16, 24, 32, 64} {
		x := data(n, d, 1, 0, 0)
		q := data(m, d, 2, 0, 0)
		for _, alg := range []Algorithm{Brute, KDTree} {
			ix, err := New(x, n, d, alg, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("d=%d/%s/query", d, alg), func(b *testing.B) {
				for range b.N {
					if _, err := ix.Search(ctx, q, m, 5); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("d=%d/%s/training", d, alg), func(b *testing.B) {
				for range b.N {
					if _, err := ix.SearchTraining(ctx, 20); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
