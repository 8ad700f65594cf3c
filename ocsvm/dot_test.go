package ocsvm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dots and dot (the assembly, where the CPU has AVX2) sum exactly as
// dotGo, bit for bit, and agree with a plain sum to rounding.
func TestDotsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{4, 8, 12, 36, 64, 260} {
		for _, m := range []int{0, 1, 3, 4, 5, 8, 13} {
			xi := make([]float64, n)
			xs := make([]float64, n*m)
			for i := range xi {
				xi[i] = r.NormFloat64()
			}
			for i := range xs {
				xs[i] = r.NormFloat64()
			}
			out := make([]float64, m)
			dots(xi, xs, out)
			for j := range m {
				row := xs[j*n : j*n+n]
				want := dotGo(xi, row)
				if math.Float64bits(out[j]) != math.Float64bits(want) {
					t.Errorf("n=%d m=%d row %d: dots %v, dotGo %v", n, m, j, out[j], want)
				}
				if got := dot(xi, row); math.Float64bits(got) != math.Float64bits(want) {
					t.Errorf("n=%d: dot %v, dotGo %v", n, got, want)
				}
				plain, abs := 0.0, 0.0
				for k := range n {
					plain += xi[k] * row[k]
					abs += math.Abs(xi[k] * row[k])
				}
				if math.Abs(plain-want) > 1e-14*abs {
					t.Errorf("n=%d: dot %v, plain sum %v", n, want, plain)
				}
			}
		}
	}
	t.Logf("assembly: %v", useAVX2)
}
