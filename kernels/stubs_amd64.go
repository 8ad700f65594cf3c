//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasBMI2 // the AVX-512 code uses SHLX
)

// avx2Kernels and avx512Kernels list the micro-kernels of each instruction
// set the CPU has; SGEMM picks among them by shape (pickKernel).
func avx2Kernels() []*gemmKernel {
	if !hasAVX2 {
		return nil
	}
	return []*gemmKernel{
		{name: "avx2-6x16", mr: 6, nr: 16, eff: 1, kc: 256, mc: 96, nc: 4096, tile: tile6x16AVX2},
	}
}

func avx512Kernels() []*gemmKernel {
	if !hasAVX512 {
		return nil
	}
	// eff: relative speeds measured on Sapphire Rapids (2 cores, the
	// shapes of the NumPy reference).
	return []*gemmKernel{
		{name: "avx512-14x32", mr: 14, nr: 32, eff: 1, kc: 256, mc: 238, nc: 4096, tile: tile14x32AVX512},
		{name: "avx512-12x32", mr: 12, nr: 32, eff: 0.95, kc: 256, mc: 240, nc: 4096, tile: tile12x32AVX512},
		{name: "avx512-8x48", mr: 8, nr: 48, eff: 0.97, kc: 192, mc: 240, nc: 4080, tile: tile8x48AVX512},
	}
}

func tile6x16AVX2(kc int, a, b, c []float32, ldc int, alpha, beta float32, rows, cols int, pf pfChunk) {
	_, _, _ = a[6*kc-1], b[16*kc-1], c[(rows-1)*ldc+cols-1]
	sgemmKernel6x16AVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, rows, cols, pf.p, pf.ld, pf.lines, pf.rows)
}

func tile12x32AVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32, rows, cols int, pf pfChunk) {
	_, _, _ = a[12*kc-1], b[32*kc-1], c[(rows-1)*ldc+cols-1]
	sgemmKernel12x32AVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, rows, cols, pf.p, pf.ld, pf.lines, pf.rows)
}

func tile14x32AVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32, rows, cols int, pf pfChunk) {
	_, _, _ = a[14*kc-1], b[32*kc-1], c[(rows-1)*ldc+cols-1]
	sgemmKernel14x32AVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, rows, cols, pf.p, pf.ld, pf.lines, pf.rows)
}

func tile8x48AVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32, rows, cols int, pf pfChunk) {
	_, _, _ = a[8*kc-1], b[48*kc-1], c[(rows-1)*ldc+cols-1]
	sgemmKernel8x48AVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, rows, cols, pf.p, pf.ld, pf.lines, pf.rows)
}

// The micro-kernels (sgemm_*_amd64.s, written by asm_gen.go) compute one tile
// and store its rows×cols corner; see gemmKernel.tile.

//go:noescape
func sgemmKernel6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, pf *float32, pfLd, pfLines, pfRows int)

//go:noescape
func sgemmKernel12x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, pf *float32, pfLd, pfLines, pfRows int)

//go:noescape
func sgemmKernel14x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, pf *float32, pfLd, pfLines, pfRows int)

//go:noescape
func sgemmKernel8x48AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, pf *float32, pfLd, pfLines, pfRows int)

// axpyAVX2 is
//
//	for i, v := range x {
//		y[i] += alpha * v
//	}
//
// with len(y) >= len(x).
//
//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

// dotAVX2 is
//
//	for i, v := range x {
//		s += v * y[i]
//	}
//
// with len(y) >= len(x).
//
//go:noescape
func dotAVX2(x, y []float32) float32

// scaleAVX2 is
//
//	for i := range x {
//		x[i] *= alpha
//	}
//
//go:noescape
func scaleAVX2(alpha float32, x []float32)

func axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	if impl >= implAVX2 {
		axpyAVX2(alpha, x, y)
		return
	}
	axpyRef(alpha, x, y)
}

func dot(x, y []float32) float32 {
	y = y[:len(x)]
	if impl >= implAVX2 {
		return dotAVX2(x, y)
	}
	return dotRef(x, y)
}

func scale(alpha float32, x []float32) {
	if impl >= implAVX2 {
		scaleAVX2(alpha, x)
		return
	}
	scaleRef(alpha, x)
}

// packTransAsm is packTrans for h == width; it reports false where it has no
// fast path.
func packTransAsm(dst, src []float32, ld, r0, l0, kc, width int) bool {
	if impl < implAVX2 || kc == 0 {
		return false
	}
	var f func(dst, src *float32, ld, kc, width int)
	rows := width
	avx512 := impl >= implAVX512
	switch {
	case avx512 && width == 8:
		f = packTrans16x8
	case avx512 && width == 12:
		f = packTrans16x12
	case avx512 && width == 14:
		f = packTrans16x14
	case avx512 && width%16 == 0:
		f, rows = packTrans16x16, 16
	case width == 6:
		f = packTrans8x6
	case width%8 == 0:
		f, rows = packTrans8x8, 8
	default:
		return false
	}
	_, _ = dst[kc*width-1], src[(r0+width-1)*ld+l0+kc-1]
	for g := 0; g < width; g += rows {
		f(&dst[g], &src[(r0+g)*ld+l0], ld, kc, width)
	}
	return true
}

// packTrans16xR (pack_avx512_amd64.s) and packTrans8xR (pack_avx2_amd64.s),
// written by asm_gen.go, are
//
//	for l := 0; l < kc; l++ {
//		for r := 0; r < R; r++ {
//			dst[l*width+r] = src[r*ld+l]
//		}
//	}

//go:noescape
func packTrans8x6(dst, src *float32, ld, kc, width int)

//go:noescape
func packTrans8x8(dst, src *float32, ld, kc, width int)

//go:noescape
func packTrans16x8(dst, src *float32, ld, kc, width int)

//go:noescape
func packTrans16x12(dst, src *float32, ld, kc, width int)

//go:noescape
func packTrans16x14(dst, src *float32, ld, kc, width int)

//go:noescape
func packTrans16x16(dst, src *float32, ld, kc, width int)

// leakyAVX2 is LeakyReLU on the first len(x)&^7 values.
//
//go:noescape
func leakyAVX2(slope float32, x, y []float32)

// leakyGradAVX2 is LeakyReLUGrad on the first len(x)&^7 values.
//
//go:noescape
func leakyGradAVX2(slope float32, x, g, dx []float32)

func leakyAsm(slope float32, x, y []float32)         { leakyAVX2(slope, x, y) }
func leakyGradAsm(slope float32, x, g, dx []float32) { leakyGradAVX2(slope, x, g, dx) }

// gather2AVX2 is gather2 without its checks.
//
//go:noescape
func gather2AVX2(dst, src *float32, rows, w, stride int)

// scatter2AVX2 is scatter2 without its checks.
//
//go:noescape
func scatter2AVX2(dst, src *float32, rows, w, stride int)

func gather2Asm(dst, src []float32, rows, w, stride int) bool {
	if impl < implAVX2 || rows == 0 || w == 0 {
		return false
	}
	_, _ = dst[rows*w-1], src[(rows-1)*stride+2*w-1]
	gather2AVX2(&dst[0], &src[0], rows, w, stride)
	return true
}

func scatter2Asm(dst, src []float32, rows, w, stride int) bool {
	if impl < implAVX2 || rows == 0 || w == 0 {
		return false
	}
	_, _ = src[rows*w-1], dst[(rows-1)*stride+2*w-1]
	scatter2AVX2(&dst[0], &src[0], rows, w, stride)
	return true
}

// copyRowsAVX2 copies rows runs of 16·n16 values, ld apart in src, to
// consecutive places in dst.
//
//go:noescape
func copyRowsAVX2(dst, src *float32, rows, ld, n16 int)

func copyRowsAsm(dst, src []float32, rows, ld, width int) bool {
	if impl < implAVX2 || width%16 != 0 || rows == 0 || width == 0 {
		return false
	}
	_, _ = dst[rows*width-1], src[(rows-1)*ld+width-1]
	copyRowsAVX2(&dst[0], &src[0], rows, ld, width/16)
	return true
}

// The batch-norm loops of bn.go on the first len(x)&^7 values.

//go:noescape
func sumAVX2(x []float32) float32

//go:noescape
func sumSqDevAVX2(x []float32, mu float32) float32

//go:noescape
func bnApplyAVX2(x, xh, y []float32, mu, is, gm, bt float32)

//go:noescape
func bnGradAVX2(gx, dy, xh []float32, k, md, mdx float32)

func sumAsm(x []float32) (float32, int) {
	if impl < implAVX2 {
		return 0, 0
	}
	return sumAVX2(x), len(x) &^ 7
}

func sumSqDevAsm(x []float32, mu float32) (float32, int) {
	if impl < implAVX2 {
		return 0, 0
	}
	return sumSqDevAVX2(x, mu), len(x) &^ 7
}

func bnApplyAsm(x, xh, y []float32, mu, is, g, b float32) int {
	if impl < implAVX2 {
		return 0
	}
	bnApplyAVX2(x, xh, y, mu, is, g, b)
	return len(x) &^ 7
}

func bnGradAsm(gx, dy, xh []float32, k, md, mdx float32) int {
	if impl < implAVX2 {
		return 0
	}
	bnGradAVX2(gx, dy, xh, k, md, mdx)
	return len(gx) &^ 7
}

//go:noescape
func adamAVX2(w, g, m, v []float32, b1, ob1, b2, ob2, bc2, eps, step float32)

func adamAsm(w, g, m, v []float32, b1, ob1, b2, ob2, bc2, eps, step float32) int {
	if impl < implAVX2 {
		return 0
	}
	adamAVX2(w, g, m, v, b1, ob1, b2, ob2, bc2, eps, step)
	return len(w) &^ 7
}
