package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// AdamUpdate against its loop definition, bit for bit, on every
// implementation level, for lengths with every tail and one long enough to
// be split across goroutines; gradients include zeros (v stays 0 there) and
// large values.
func TestAdamUpdateMatchesLoop(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 4))
		for _, n := range []int{1, 7, 8, 19, 64, 1<<16 + 5} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				w, g, m, v := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
				for i := range v {
					v[i] = v[i] * v[i]
					if i%5 == 0 {
						g[i] = 0
					}
					if i%7 == 0 {
						g[i] *= 1e4
					}
				}
				b1, b2, lr, eps, t1 := float32(0.9), float32(0.999), 1e-3, float32(1e-8), 3.0
				ob1, ob2 := 1-b1, 1-b2
				bc2 := float32(math.Sqrt(1 - math.Pow(float64(b2), t1)))
				step := float32(lr / (1 - math.Pow(float64(b1), t1)))
				ww, wm, wv := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
				for j := range ww {
					wm[j] = float32(wm[j]*b1) + float32(ob1*g[j])
					wv[j] = float32(wv[j]*b2) + float32(float32(ob2*g[j])*g[j])
					ww[j] -= step * (wm[j] / (float32(math.Sqrt(float64(wv[j])))/bc2 + eps))
				}
				AdamUpdate(w, g, m, v, b1, ob1, b2, ob2, bc2, eps, step)
				for j := range w {
					if w[j] != ww[j] || m[j] != wm[j] || v[j] != wv[j] {
						t.Fatalf("entry %d: got w %v m %v v %v, want %v %v %v", j, w[j], m[j], v[j], ww[j], wm[j], wv[j])
					}
				}
			})
		}
	})
}
