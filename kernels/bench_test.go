package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are the shapes of ../shared/reference/gemm_reference.py plus
// the small and transposed ones the networks produce.
var benchShapes = []struct {
	transA, transB bool
	m, n, k        int
}{
	{false, false, 256, 128, 1152},
	{false, false, 512, 512, 512},
	{false, false, 1024, 1024, 1024},
	{false, false, 12544, 64, 800},
	{false, false, 64, 800, 12544},
	{false, false, 4096, 256, 2048},
	{false, false, 32, 21, 20},
	{false, false, 256, 10, 1152},
	{false, true, 64, 800, 3136},
	{true, false, 800, 3136, 64},
	{false, true, 256, 1152, 128},
	{true, false, 1152, 128, 256},
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		t := func(x bool) string {
			if x {
				return "T"
			}
			return "N"
		}
		b.Run(fmt.Sprintf("%s%s_%dx%dx%d", t(s.transA), t(s.transB), s.m, s.n, s.k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			a := randSlice(rng, s.m*s.k)
			bb := randSlice(rng, s.k*s.n)
			c := make([]float32, s.m*s.n)
			lda, ldb := s.k, s.n
			if s.transA {
				lda = s.m
			}
			if s.transB {
				ldb = s.k
			}
			b.SetBytes(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkVector(b *testing.B) {
	for _, n := range []int{64, 4096, 1 << 18} {
		rng := rand.New(rand.NewPCG(1, 1))
		x, y := randSlice(rng, n), randSlice(rng, n)
		b.Run(fmt.Sprintf("Axpy/%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for i := 0; i < b.N; i++ {
				Axpy(0.5, x, y)
			}
		})
		b.Run(fmt.Sprintf("Dot/%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			var s float32
			for i := 0; i < b.N; i++ {
				s += Dot(x, y)
			}
			_ = s
		})
		b.Run(fmt.Sprintf("Scale/%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for i := 0; i < b.N; i++ {
				Scale(1.0001, x)
			}
		})
	}
}

func BenchmarkIm2col(b *testing.B) {
	for _, g := range []ConvGeom{
		{C: 32, H: 28, W: 28, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 1, StrideW: 1},
		{C: 64, H: 16, W: 16, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
		{C: 128, H: 14, W: 14, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 1, StrideW: 1},
		{C: 128, H: 8, W: 8, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
		{C: 64, H: 7, W: 7, KH: 3, KW: 3, PadH: 0, PadW: 0, StrideH: 2, StrideW: 2},
	} {
		rng := rand.New(rand.NewPCG(1, 1))
		x := randSlice(rng, g.C*g.H*g.W)
		col := make([]float32, g.C*g.KH*g.KW*g.OutH()*g.OutW())
		name := fmt.Sprintf("%dx%dx%d_k%d_s%d", g.C, g.H, g.W, g.KH, g.StrideH)
		b.Run("Im2col/"+name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(col)))
			for i := 0; i < b.N; i++ {
				Im2col(g, x, col)
			}
		})
		b.Run("Col2im/"+name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(col)))
			for i := 0; i < b.N; i++ {
				Col2im(g, col, x)
			}
		})
	}
}

// BenchmarkIm2colBatch times the batched lowering on GANomaly's and DCEC's
// layers at their training batch sizes.
func BenchmarkIm2colBatch(b *testing.B) {
	for _, c := range []struct {
		g ConvGeom
		n int
	}{
		{ConvGeom{C: 64, H: 16, W: 16, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2}, 64},
		{ConvGeom{C: 128, H: 8, W: 8, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2}, 64},
		{ConvGeom{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 2, StrideW: 2}, 256},
		{ConvGeom{C: 32, H: 14, W: 14, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 2, StrideW: 2}, 256},
	} {
		g, n := c.g, c.n
		rng := rand.New(rand.NewPCG(1, 1))
		x := randSlice(rng, n*g.C*g.H*g.W)
		col := make([]float32, g.C*g.KH*g.KW*g.OutH()*g.OutW()*n)
		name := fmt.Sprintf("%dx%dx%d_k%d_s%d_n%d", g.C, g.H, g.W, g.KH, g.StrideH, n)
		b.Run("Im2col/"+name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(col)))
			for i := 0; i < b.N; i++ {
				Im2colBatch(g, x, n, col)
			}
		})
		b.Run("Col2im/"+name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(col)))
			for i := 0; i < b.N; i++ {
				Col2imBatch(g, col, n, x)
			}
		})
	}
}
