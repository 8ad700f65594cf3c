package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// LeakyReLU and its gradient, on every implementation level, against the
// definition written out with branches; lengths cover the vector body and
// every tail, values cover both signs of zero, infinities and NaN.
func TestLeakyReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-38, -1e-38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, level := range availableImpls() {
		old := setImpl(level)
		for _, slope := range []float32{0, 0.2, -0.5} {
			for n := 0; n <= 41; n++ {
				x := randSlice(rng, n)
				for i := range x {
					if rng.IntN(4) == 0 {
						x[i] = special[rng.IntN(len(special))]
					}
				}
				g := randSlice(rng, n)
				y := make([]float32, n)
				LeakyReLU(slope, x, y)
				dx := randSlice(rng, n)
				dx0 := append([]float32(nil), dx...)
				LeakyReLUGrad(slope, x, g, dx)
				for i, v := range x {
					want, wantG := slope*v, dx0[i]+slope*g[i]
					if v > 0 {
						want, wantG = v, dx0[i]+g[i]
					}
					if !same(y[i], want) || !same(dx[i], wantG) {
						t.Fatalf("level %d slope %v n %d x[%d]=%v: y %v (want %v), dx %v (want %v)", level, slope, n, i, v, y[i], want, dx[i], wantG)
					}
				}
			}
		}
		setImpl(old)
	}
}

// same is equality that also matches NaN with NaN and tells the zeros apart.
func same(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}
