package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The batch-norm loops against their definitions computed in float64, on
// every implementation level and on lengths that leave every tail (0 to 7
// values after the vector part, and runs shorter than one vector).
func TestBatchNormLoops(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 1))
		for _, n := range []int{0, 1, 5, 8, 13, 16, 23, 64, 257} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				x := randSlice(rng, n)
				mu, is, g, b := float32(0.3), float32(1.7), float32(-0.8), float32(0.25)
				var s, ss float64
				for _, v := range x {
					s += float64(v)
					ss += (float64(v) - float64(mu)) * (float64(v) - float64(mu))
				}
				tol := 1e-5 * float64(n+1)
				if got := Sum(x); math.Abs(float64(got)-s) > tol {
					t.Errorf("Sum: got %v, want %v", got, s)
				}
				if got := SumSqDev(x, mu); math.Abs(float64(got)-ss) > tol {
					t.Errorf("SumSqDev: got %v, want %v", got, ss)
				}
				xh, y := randSlice(rng, n), randSlice(rng, n)
				BatchNormApply(x, xh, y, mu, is, g, b)
				for i, v := range x {
					h := (float64(v) - float64(mu)) * float64(is)
					if math.Abs(float64(xh[i])-h) > 1e-5 || math.Abs(float64(y[i])-(float64(g)*h+float64(b))) > 1e-5 {
						t.Fatalf("BatchNormApply [%d]: got %v, %v, want %v, %v", i, xh[i], y[i], h, float64(g)*h+float64(b))
					}
				}
				dy, gx := randSlice(rng, n), randSlice(rng, n)
				want := make([]float64, n)
				k, md, mdx := float32(0.7), float32(-0.2), float32(0.45)
				for i := range gx {
					want[i] = float64(gx[i]) + float64(k)*(float64(dy[i])-float64(md)-float64(xh[i])*float64(mdx))
				}
				BatchNormGrad(gx, dy, xh, k, md, mdx)
				for i := range gx {
					if math.Abs(float64(gx[i])-want[i]) > 1e-5 {
						t.Fatalf("BatchNormGrad [%d]: got %v, want %v", i, gx[i], want[i])
					}
				}
			})
		}
	})
}
