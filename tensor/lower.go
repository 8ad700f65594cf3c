package tensor

import "github.com/oddity-ml/oddity/kernels"

// im2colLD is kernels.Im2col writing row r of the patch matrix at dst[r*ld:],
// so a batch's patch matrices can be laid side by side without a copy.
func im2colLD(g kernels.ConvGeom, src, dst []float32, ld int) {
	oh, ow := g.OutH(), g.OutW()
	row := 0
	for c := 0; c < g.C; c++ {
		img := src[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				d := dst[row*ld : row*ld+oh*ow]
				row++
				// valid output columns: 0 <= x*s - p + kj < W
				x0, x1 := validRange(ow, g.StrideW, g.PadW-kj, g.W)
				for y := 0; y < oh; y++ {
					iy := y*g.StrideH - g.PadH + ki
					dr := d[y*ow : (y+1)*ow]
					if iy < 0 || iy >= g.H {
						clear(dr)
						continue
					}
					sr := img[iy*g.W : (iy+1)*g.W]
					clear(dr[:x0])
					clear(dr[x1:])
					if g.StrideW == 1 {
						copy(dr[x0:x1], sr[x0-g.PadW+kj:])
						continue
					}
					ix := x0*g.StrideW - g.PadW + kj
					for x := x0; x < x1; x++ {
						dr[x] = sr[ix]
						ix += g.StrideW
					}
				}
			}
		}
	}
}

// col2imLD is the adjoint of im2colLD: it adds row r of the patch matrix at
// src[r*ld:] back into the image dst.
func col2imLD(g kernels.ConvGeom, src, dst []float32, ld int) {
	oh, ow := g.OutH(), g.OutW()
	row := 0
	for c := 0; c < g.C; c++ {
		img := dst[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				s := src[row*ld : row*ld+oh*ow]
				row++
				x0, x1 := validRange(ow, g.StrideW, g.PadW-kj, g.W)
				for y := 0; y < oh; y++ {
					iy := y*g.StrideH - g.PadH + ki
					if iy < 0 || iy >= g.H {
						continue
					}
					sr := s[y*ow : (y+1)*ow]
					dr := img[iy*g.W : (iy+1)*g.W]
					ix := x0*g.StrideW - g.PadW + kj
					if g.StrideW == 1 {
						kernels.Axpy(1, sr[x0:x1], dr[ix:])
						continue
					}
					for x := x0; x < x1; x++ {
						dr[ix] += sr[x]
						ix += g.StrideW
					}
				}
			}
		}
	}
}

// validRange returns the output columns [x0, x1) of a row of ow outputs whose
// input column x*stride - off lies in [0, w).
func validRange(ow, stride, off, w int) (int, int) {
	x0 := 0
	if off > 0 {
		x0 = (off + stride - 1) / stride
	}
	// largest x with x*stride - off <= w-1
	x1 := 0
	if w-1+off >= 0 {
		x1 = (w-1+off)/stride + 1
	}
	x0, x1 = min(x0, ow), min(x1, ow)
	if x1 < x0 {
		x1 = x0
	}
	return x0, x1
}
