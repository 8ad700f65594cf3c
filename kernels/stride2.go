package kernels

// gather2 is
//
//	for y := 0; y < rows; y++ {
//		for x := 0; x < w; x++ {
//			dst[y*w+x] = src[y*stride+2*x]
//		}
//	}
//
// the lowering of one kernel offset of a stride-2 convolution over one
// padded plane. The vector code reads src up to y*stride+2w, one value past
// the last it keeps, so src must extend that far (callers leave slack after
// their planes).
func gather2(dst, src []float32, rows, w, stride int) {
	if gather2Asm(dst, src, rows, w, stride) {
		return
	}
	for y := 0; y < rows; y++ {
		d, s := dst[y*w:(y+1)*w], src[y*stride:]
		for x := range d {
			d[x] = s[2*x]
		}
	}
}

// scatter2 is gather2's adjoint:
//
//	for y := 0; y < rows; y++ {
//		for x := 0; x < w; x++ {
//			dst[y*stride+2*x] += src[y*w+x]
//		}
//	}
//
// The vector code also rewrites the values between those it accumulates
// into (adding zero) and the one after the last, so dst must extend to
// y*stride+2w and nothing else may write there concurrently.
func scatter2(dst, src []float32, rows, w, stride int) {
	if scatter2Asm(dst, src, rows, w, stride) {
		return
	}
	for y := 0; y < rows; y++ {
		s, d := src[y*w:(y+1)*w], dst[y*stride:]
		for x, v := range s {
			d[2*x] += v
		}
	}
}
