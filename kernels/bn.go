package kernels

// Sum is
//
//	for _, v := range x {
//		s += v
//	}
//
// summed in a different order (eight or sixteen partial sums), so it may
// differ from the loop in the last bits.
func Sum(x []float32) float32 {
	s, done := sumAsm(x)
	for _, v := range x[done:] {
		s += v
	}
	return s
}

// SumSqDev is Σ (x[i] - mu)², with Sum's summation order: batch
// normalisation's second pass over a channel.
func SumSqDev(x []float32, mu float32) float32 {
	s, done := sumSqDevAsm(x, mu)
	for _, v := range x[done:] {
		d := v - mu
		s += d * d
	}
	return s
}

// BatchNormApply normalises one run of a channel and applies its affine
// map:
//
//	for i, v := range x {
//		xh[i] = (v - mu) * is
//		y[i] = g*xh[i] + b
//	}
func BatchNormApply(x, xh, y []float32, mu, is, g, b float32) {
	xh, y = xh[:len(x)], y[:len(x)]
	done := bnApplyAsm(x, xh, y, mu, is, g, b)
	for i := done; i < len(x); i++ {
		h := (x[i] - mu) * is
		xh[i] = h
		y[i] = g*h + b
	}
}

// BatchNormGrad is batch normalisation's input gradient in training mode for
// one run of a channel:
//
//	for i := range gx {
//		gx[i] += k * (dy[i] - md - xh[i]*mdx)
//	}
func BatchNormGrad(gx, dy, xh []float32, k, md, mdx float32) {
	dy, xh = dy[:len(gx)], xh[:len(gx)]
	done := bnGradAsm(gx, dy, xh, k, md, mdx)
	for i := done; i < len(gx); i++ {
		gx[i] += k * (dy[i] - md - xh[i]*mdx)
	}
}
