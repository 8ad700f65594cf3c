package kernels

// validRange returns the output columns [x0, x1) whose input column
// x*stride - pad + kj falls inside [0, w).
func validRange(ow, w, stride, pad, kj int) (x0, x1 int) {
	// x*stride >= pad-kj and x*stride <= w-1+pad-kj.
	lo := pad - kj
	if lo > 0 {
		x0 = (lo + stride - 1) / stride
	}
	hi := w - 1 + pad - kj
	if hi < 0 {
		return 0, 0
	}
	x1 = min(ow, hi/stride+1)
	if x0 > x1 {
		x0 = x1
	}
	return x0, x1
}

func im2col(g ConvGeom, src, dst []float32, ld int) {
	oh, ow := g.OutH(), g.OutW()
	n := oh * ow
	if n <= 0 || g.C == 0 {
		return
	}
	src = src[:g.C*g.H*g.W]
	dst = dst[:(g.C*g.KH*g.KW-1)*ld+n]
	row := 0
	for c := 0; c < g.C; c++ {
		img := src[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				d := dst[row*ld : row*ld+n]
				row++
				x0, x1 := validRange(ow, g.W, g.StrideW, g.PadW, kj)
				off := kj - g.PadW // input column of output column 0
				for y := 0; y < oh; y++ {
					dr := d[y*ow : (y+1)*ow]
					iy := y*g.StrideH - g.PadH + ki
					if iy < 0 || iy >= g.H {
						clear(dr)
						continue
					}
					sr := img[iy*g.W : (iy+1)*g.W]
					clear(dr[:x0])
					clear(dr[x1:])
					if g.StrideW == 1 {
						copy(dr[x0:x1], sr[x0+off:x1+off])
						continue
					}
					for x := x0; x < x1; x++ {
						dr[x] = sr[x*g.StrideW+off]
					}
				}
			}
		}
	}
}

func col2im(g ConvGeom, src, dst []float32, ld int) {
	oh, ow := g.OutH(), g.OutW()
	n := oh * ow
	if n <= 0 || g.C == 0 {
		return
	}
	src = src[:(g.C*g.KH*g.KW-1)*ld+n]
	dst = dst[:g.C*g.H*g.W]
	row := 0
	for c := 0; c < g.C; c++ {
		img := dst[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				s := src[row*ld : row*ld+n]
				row++
				x0, x1 := validRange(ow, g.W, g.StrideW, g.PadW, kj)
				if x0 == x1 {
					continue
				}
				off := kj - g.PadW
				for y := 0; y < oh; y++ {
					iy := y*g.StrideH - g.PadH + ki
					if iy < 0 || iy >= g.H {
						continue
					}
					sr := s[y*ow+x0 : y*ow+x1]
					dr := img[iy*g.W : (iy+1)*g.W]
					if g.StrideW == 1 {
						dr = dr[x0+off : x1+off]
						if len(sr) >= 16 {
							axpy(1, sr, dr)
							continue
						}
						for i, v := range sr {
							dr[i] += v
						}
						continue
					}
					for i, v := range sr {
						dr[(x0+i)*g.StrideW+off] += v
					}
				}
			}
		}
	}
}
