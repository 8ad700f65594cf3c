package kernels

// Plain Go versions of every routine. They are the portable path and the
// reference the optimised paths are tested against.

func sgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(ci)
		} else if beta != 1 {
			for j := range ci {
				ci[j] *= beta
			}
		}
		for l := 0; l < k; l++ {
			var av float32
			if transA {
				av = a[l*lda+i]
			} else {
				av = a[i*lda+l]
			}
			av *= alpha
			if av == 0 {
				continue
			}
			if transB {
				for j := range ci {
					ci[j] += av * b[j*ldb+l]
				}
			} else {
				bl := b[l*ldb : l*ldb+n]
				for j, bv := range bl {
					ci[j] += av * bv
				}
			}
		}
	}
}

func im2colRef(g ConvGeom, src, dst []float32) {
	oh, ow := g.OutH(), g.OutW()
	row := 0
	for c := 0; c < g.C; c++ {
		img := src[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				d := dst[row*oh*ow : (row+1)*oh*ow]
				row++
				for y := 0; y < oh; y++ {
					iy := y*g.StrideH - g.PadH + ki
					dr := d[y*ow : (y+1)*ow]
					if iy < 0 || iy >= g.H {
						clear(dr)
						continue
					}
					sr := img[iy*g.W : (iy+1)*g.W]
					for x := 0; x < ow; x++ {
						ix := x*g.StrideW - g.PadW + kj
						if ix < 0 || ix >= g.W {
							dr[x] = 0
						} else {
							dr[x] = sr[ix]
						}
					}
				}
			}
		}
	}
}

func col2imRef(g ConvGeom, src, dst []float32) {
	oh, ow := g.OutH(), g.OutW()
	row := 0
	for c := 0; c < g.C; c++ {
		img := dst[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				s := src[row*oh*ow : (row+1)*oh*ow]
				row++
				for y := 0; y < oh; y++ {
					iy := y*g.StrideH - g.PadH + ki
					if iy < 0 || iy >= g.H {
						continue
					}
					sr := s[y*ow : (y+1)*ow]
					dr := img[iy*g.W : (iy+1)*g.W]
					for x := 0; x < ow; x++ {
						ix := x*g.StrideW - g.PadW + kj
						if ix >= 0 && ix < g.W {
							dr[ix] += sr[x]
						}
					}
				}
			}
		}
	}
}

func axpyRef(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func dotRef(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func scaleRef(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}
