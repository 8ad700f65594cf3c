//go:build !amd64 || noasm

package ocsvm

// useAVX2 is false: there is no assembly for this build.
const useAVX2 = false

// dots sets out[r] to the dot product of xi with row r of xs (rows of
// len(xi) values, a multiple of 4), for r < len(out).
func dots(xi, xs, out []float64) { dotsGo(xi, xs, out) }

// dot is the dot product of two rows of the same length (a multiple of
// 4), summed as dots sums.
func dot(a, b []float64) float64 { return dotGo(a, b) }
