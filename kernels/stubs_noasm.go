//go:build !amd64 || noasm

package kernels

func avx2Kernels() []*gemmKernel   { return nil }
func avx512Kernels() []*gemmKernel { return nil }

func axpy(alpha float32, x, y []float32) { axpyRef(alpha, x, y) }
func dot(x, y []float32) float32         { return dotRef(x, y) }
func scale(alpha float32, x []float32)   { scaleRef(alpha, x) }

func packTransAsm(dst, src []float32, ld, r0, l0, kc, width int) bool { return false }

func leakyAsm(slope float32, x, y []float32)         {}
func leakyGradAsm(slope float32, x, g, dx []float32) {}

func gather2Asm(dst, src []float32, rows, w, stride int) bool  { return false }
func scatter2Asm(dst, src []float32, rows, w, stride int) bool { return false }

func copyRowsAsm(dst, src []float32, rows, ld, width int) bool { return false }

func sumAsm(x []float32) (float32, int)                       { return 0, 0 }
func sumSqDevAsm(x []float32, mu float32) (float32, int)      { return 0, 0 }
func bnApplyAsm(x, xh, y []float32, mu, is, g, b float32) int { return 0 }
func bnGradAsm(gx, dy, xh []float32, k, md, mdx float32) int  { return 0 }

func adamAsm(w, g, m, v []float32, b1, ob1, b2, ob2, bc2, eps, step float32) int { return 0 }
