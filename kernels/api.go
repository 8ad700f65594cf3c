package kernels

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(X) is X or its transpose. op(A) is m×k, op(B) is k×n and C is m×n; lda,
// ldb and ldc are the row strides of A, B and C as stored. When beta is zero C
// is overwritten without being read, so it may hold NaNs or garbage.
//
// The reference semantics are
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for l := 0; l < k; l++ {
//				s += opA(i, l) * opB(l, j)
//			}
//			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
//		}
//	}
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// ConvGeom describes one 2-D convolution window sweep over a single C×H×W
// image: kernel KH×KW, zero padding PadH/PadW on each side, and strides.
type ConvGeom struct {
	C, H, W          int
	KH, KW           int
	PadH, PadW       int
	StrideH, StrideW int
}

// OutH is the output height of the sweep.
func (g ConvGeom) OutH() int { return (g.H+2*g.PadH-g.KH)/g.StrideH + 1 }

// OutW is the output width of the sweep.
func (g ConvGeom) OutW() int { return (g.W+2*g.PadW-g.KW)/g.StrideW + 1 }

// Im2col lowers one C×H×W image src into the (C·KH·KW)×(OutH·OutW) matrix dst,
// row-major, so that a convolution becomes a matrix multiply. Padding reads as
// zero. dst must have room for C·KH·KW·OutH·OutW values.
func Im2col(g ConvGeom, src, dst []float32) { im2col(g, src, dst, g.OutH()*g.OutW()) }

// Im2colLD is Im2col writing row r of the patch matrix at dst[r*ld:], so
// the patch matrices of a batch of images can sit side by side in one wide
// matrix (ld ≥ OutH·OutW) and one multiply serves the whole batch.
func Im2colLD(g ConvGeom, src, dst []float32, ld int) { im2col(g, src, dst, ld) }

// Col2im is the adjoint of Im2col: it adds every entry of the
// (C·KH·KW)×(OutH·OutW) matrix src into the image position it was read from,
// accumulating into dst (C×H×W). Entries that fell on padding are dropped.
func Col2im(g ConvGeom, src, dst []float32) { col2im(g, src, dst, g.OutH()*g.OutW()) }

// Col2imLD is the adjoint of Im2colLD: Col2im reading row r of the patch
// matrix at src[r*ld:].
func Col2imLD(g ConvGeom, src, dst []float32, ld int) { col2im(g, src, dst, ld) }

// Axpy is
//
//	for i, v := range x {
//		y[i] += alpha * v
//	}
func Axpy(alpha float32, x, y []float32) { axpy(alpha, x, y) }

// Dot is
//
//	for i, v := range x {
//		s += v * y[i]
//	}
func Dot(x, y []float32) float32 { return dot(x, y) }

// Scale is
//
//	for i := range x {
//		x[i] *= alpha
//	}
func Scale(alpha float32, x []float32) { scale(alpha, x) }

// Im2colBatch lowers a batch of n images src (n×C×H×W) into the
// (C·KH·KW)×(n·OutH·OutW) matrix dst: row r holds the r-th patch row of
// image 0, then of image 1, and so on, exactly as n calls of Im2colLD with
// ld = n·OutH·OutW and dst offset by i·OutH·OutW would, but faster (see
// im2col_batch.go). It spreads the work over GOMAXPROCS goroutines.
func Im2colBatch(g ConvGeom, src []float32, n int, dst []float32) { im2colBatch(g, src, n, dst) }

// Col2imBatch is the adjoint of Im2colBatch: it adds every entry of the
// batch patch matrix src into the image position it was read from,
// accumulating into dst (n×C×H×W). Entries that fell on padding are dropped.
func Col2imBatch(g ConvGeom, src []float32, n int, dst []float32) { col2imBatch(g, src, n, dst) }
