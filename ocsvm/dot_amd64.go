//go:build !noasm

package ocsvm

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly dot products (dot_amd64.s).
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func dotsAVX2(xi, xs *float64, n, m int, out *float64)

//go:noescape
func dot1AVX2(a, b *float64, n int) float64

// dots sets out[r] to the dot product of xi with row r of xs (rows of
// len(xi) values, a multiple of 4), for r < len(out).
func dots(xi, xs, out []float64) {
	n, m := len(xi), len(out)
	if !useAVX2 || n == 0 || m == 0 {
		dotsGo(xi, xs, out)
		return
	}
	_ = xs[m*n-1]
	m4 := m &^ 3
	if m4 > 0 {
		dotsAVX2(&xi[0], &xs[0], n, m4, &out[0])
	}
	for r := m4; r < m; r++ {
		out[r] = dot1AVX2(&xi[0], &xs[r*n], n)
	}
}

// dot is the dot product of two rows of the same length (a multiple of
// 4), summed as dots sums.
func dot(a, b []float64) float64 {
	if !useAVX2 || len(a) == 0 {
		return dotGo(a, b)
	}
	_ = b[len(a)-1]
	return dot1AVX2(&a[0], &b[0], len(a))
}
