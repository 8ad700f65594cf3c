package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gather2 and scatter2 against their loop definitions, on every
// implementation level, with buffers cut to the exact length the vector
// code may touch (so an overrun fails the bounds check or the comparison),
// for widths that take the 8-wide steps, the 4-wide tail and the scalar
// path.
func TestStride2MatchesLoops(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 9))
		for _, w := range []int{1, 2, 3, 4, 7, 8, 12, 14, 16, 20} {
			for _, rows := range []int{1, 2, 5} {
				stride := 2*w + rng.IntN(5)
				t.Run(fmt.Sprintf("w%d/rows%d", w, rows), func(t *testing.T) {
					n := (rows-1)*stride + 2*w
					src := randSlice(rng, n)
					got := randSlice(rng, rows*w)
					gather2(got, src, rows, w, stride)
					for y := 0; y < rows; y++ {
						for x := 0; x < w; x++ {
							if want := src[y*stride+2*x]; got[y*w+x] != want {
								t.Fatalf("gather2 [%d,%d]: got %v, want %v", y, x, got[y*w+x], want)
							}
						}
					}
					vals := randSlice(rng, rows*w)
					dst := randSlice(rng, n)
					want := append([]float32(nil), dst...)
					for y := 0; y < rows; y++ {
						for x := 0; x < w; x++ {
							want[y*stride+2*x] += vals[y*w+x]
						}
					}
					scatter2(dst, vals, rows, w, stride)
					for i := range want {
						if dst[i] != want[i] {
							t.Fatalf("scatter2 entry %d: got %v, want %v", i, dst[i], want[i])
						}
					}
				})
			}
		}
	})
}
