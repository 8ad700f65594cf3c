package ocsvm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func randRows(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	return x
}

// BenchmarkColumn times one kernel column of 4,000 rows, single-threaded.
func BenchmarkColumn(b *testing.B) {
	for _, d := range []int{6, 21, 36, 64} {
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			const l = 4000
			k := newKernel(randRows(l, d, 1), l, d, 1/float64(d)/0.08, 1)
			col := make([]float32, l)
			for i := range b.N {
				k.column(i%l, col, 0, l)
			}
		})
	}
}
