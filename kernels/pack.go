package kernels

// packA packs rows [i0, i0+mcur) and columns [l0, l0+kc) of op(A) into
// mr-high slivers: sliver s holds rows i0+s·mr.. and stores element (r, l) at
// dst[s·kc·mr + l·mr + r]. Rows past mcur are zero.
func packA(dst []float32, trans bool, a []float32, lda, i0, mcur, l0, kc, mr int) {
	for s := 0; s*mr < mcur; s++ {
		h := min(mr, mcur-s*mr)
		d := dst[s*kc*mr : (s+1)*kc*mr]
		r0 := i0 + s*mr
		if trans {
			// op(A)(i, l) = a[l*lda+i]: a sliver's values for one l are
			// contiguous.
			packCopy(d, a, lda, l0, kc, r0, h, mr)
		} else {
			packTrans(d, a, lda, r0, h, l0, kc, mr)
		}
	}
}

// packBSliver packs op(B)[l0:l0+kc, j0:j0+w] into one nr-wide sliver: element
// (l, j) at dst[l·nr + j]. Columns past w are zero.
func packBSliver(dst []float32, trans bool, b []float32, ldb, l0, kc, j0, w, nr int) {
	if trans {
		packTrans(dst, b, ldb, j0, w, l0, kc, nr)
	} else {
		packCopy(dst, b, ldb, l0, kc, j0, w, nr)
	}
}

// packCopy is
//
//	for l := 0; l < kc; l++ {
//		for j := 0; j < width; j++ {
//			dst[l*width+j] = src[(l0+l)*ld+j0+j] // 0 for j >= w
//		}
//	}
func packCopy(dst, src []float32, ld, l0, kc, j0, w, width int) {
	// Full slivers of the micro-kernels' widths (multiples of 16) go
	// through a vector loop: copy, or a fixed-size array assignment, calls
	// memmove once per 64-192 bytes.
	if w == width && copyRowsAsm(dst, src[l0*ld+j0:], kc, ld, width) {
		return
	}
	for l := 0; l < kc; l++ {
		d := dst[l*width : l*width+width]
		o := (l0+l)*ld + j0
		copy(d, src[o:o+w])
		clear(d[w:])
	}
}

// packTrans is
//
//	for l := 0; l < kc; l++ {
//		for r := 0; r < width; r++ {
//			dst[l*width+r] = src[(r0+r)*ld+l0+l] // 0 for r >= h
//		}
//	}
func packTrans(dst, src []float32, ld, r0, h, l0, kc, width int) {
	if h == width && packTransAsm(dst, src, ld, r0, l0, kc, width) {
		return
	}
	dst = dst[:kc*width]
	for r := 0; r < h; r++ {
		o := (r0+r)*ld + l0
		s := src[o : o+kc]
		for l, v := range s {
			dst[l*width+r] = v
		}
	}
	for r := h; r < width; r++ {
		for l := 0; l < kc; l++ {
			dst[l*width+r] = 0
		}
	}
}
