package kernels

// goKernel is the portable micro-kernel: a 4×4 tile held in scalars.
var goKernel = gemmKernel{name: "go", mr: 4, nr: 4, eff: 1, kc: 256, mc: 128, nc: 2048, tile: tileGo4x4}

// tileGo4x4 computes the 4×4 tile
//
//	for r := 0; r < 4; r++ {
//		for j := 0; j < 4; j++ {
//			var s float32
//			for l := 0; l < kc; l++ {
//				s += a[l*4+r] * b[l*4+j]
//			}
//			c[r*ldc+j] = alpha*s + beta*c[r*ldc+j] // c not read when beta == 0
//		}
//	}
//
// storing only r < rows, j < cols.
func tileGo4x4(kc int, a, b, c []float32, ldc int, alpha, beta float32, rows, cols int, _ pfChunk) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a, b = a[:kc*4], b[:kc*4]
	for l := 0; l < kc; l++ {
		ap := a[l*4 : l*4+4 : l*4+4]
		bp := b[l*4 : l*4+4 : l*4+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	if rows == 4 && cols == 4 {
		storeRow4(c[0:4], c00, c01, c02, c03, alpha, beta)
		storeRow4(c[ldc:ldc+4], c10, c11, c12, c13, alpha, beta)
		storeRow4(c[2*ldc:2*ldc+4], c20, c21, c22, c23, alpha, beta)
		storeRow4(c[3*ldc:3*ldc+4], c30, c31, c32, c33, alpha, beta)
		return
	}
	t := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for r := 0; r < rows; r++ {
		cr := c[r*ldc : r*ldc+cols]
		for j := range cr {
			if beta == 0 {
				cr[j] = alpha * t[r][j]
			} else {
				cr[j] = alpha*t[r][j] + beta*cr[j]
			}
		}
	}
}

func storeRow4(c []float32, s0, s1, s2, s3, alpha, beta float32) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	c[0] = alpha*s0 + beta*c[0]
	c[1] = alpha*s1 + beta*c[1]
	c[2] = alpha*s2 + beta*c[2]
	c[3] = alpha*s3 + beta*c[3]
}
