package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The batched lowering must equal n per-image lowerings side by side, and
// its adjoint n per-image col2im calls, on geometries that exercise both
// paths (row copies, offset table), padding on every side, strides that do
// not divide the image, and batches that are not a multiple of the chunk.
func TestIm2colBatchMatchesPerImage(t *testing.T) {
	geoms := []ConvGeom{
		{C: 3, H: 32, W: 32, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
		{C: 2, H: 28, W: 28, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 1, StrideW: 1},
		{C: 5, H: 7, W: 9, KH: 3, KW: 2, PadH: 0, PadW: 1, StrideH: 2, StrideW: 3},
		{C: 1, H: 4, W: 4, KH: 4, KW: 4, PadH: 0, PadW: 0, StrideH: 1, StrideW: 1},
		{C: 4, H: 20, W: 19, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 1, StrideW: 1},
		{C: 3, H: 6, W: 5, KH: 1, KW: 1, PadH: 0, PadW: 0, StrideH: 1, StrideW: 1},
		// Stride 2 with output widths 4, 8 and 12 (the vector path's 4- and
		// 8-wide steps), 14, 7 and 3 (the DCEC autoencoder's, with scalar
		// tails), and a height stride that differs from the width's.
		{C: 2, H: 8, W: 8, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
		{C: 3, H: 16, W: 16, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
		{C: 2, H: 9, W: 24, KH: 3, KW: 4, PadH: 2, PadW: 1, StrideH: 3, StrideW: 2},
		{C: 2, H: 28, W: 28, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 2, StrideW: 2},
		{C: 3, H: 14, W: 14, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 2, StrideW: 2},
		{C: 2, H: 7, W: 7, KH: 3, KW: 3, PadH: 0, PadW: 0, StrideH: 2, StrideW: 2},
	}
	forEachImpl(t, func(t *testing.T) { testIm2colBatch(t, geoms) })
}

func testIm2colBatch(t *testing.T, geoms []ConvGeom) {
	for _, g := range geoms {
		for _, n := range []int{1, 3, 17, 33} {
			t.Run(fmt.Sprintf("%+v/n%d", g, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 7))
				img := g.C * g.H * g.W
				ohw := g.OutH() * g.OutW()
				rows := g.C * g.KH * g.KW
				x := randSlice(rng, n*img)
				want := make([]float32, rows*n*ohw)
				for i := 0; i < n; i++ {
					Im2colLD(g, x[i*img:(i+1)*img], want[i*ohw:], n*ohw)
				}
				got := make([]float32, len(want))
				for i := range got {
					got[i] = 99 // every entry must be written
				}
				Im2colBatch(g, x, n, got)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("im2col entry %d: got %v, want %v", i, got[i], want[i])
					}
				}
				col := randSlice(rng, len(want))
				base := randSlice(rng, n*img)
				wantX := append([]float32(nil), base...)
				for i := 0; i < n; i++ {
					Col2imLD(g, col[i*ohw:], wantX[i*img:(i+1)*img], n*ohw)
				}
				gotX := append([]float32(nil), base...)
				Col2imBatch(g, col, n, gotX)
				for i := range wantX {
					if d := gotX[i] - wantX[i]; d > 1e-5 || d < -1e-5 {
						t.Fatalf("col2im entry %d: got %v, want %v", i, gotX[i], wantX[i])
					}
				}
			})
		}
	}
}
