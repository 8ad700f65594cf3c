package kernels

// LeakyReLU is
//
//	for i, v := range x {
//		y[i] = v if v > 0, else slope*v
//	}
//
// (slope 0 is ReLU; zero and NaN inputs take the slope branch, as PyTorch's
// derivative does).
func LeakyReLU(slope float32, x, y []float32) {
	y = y[:len(x)]
	done := 0
	if impl >= implAVX2 {
		leakyAsm(slope, x, y)
		done = len(x) &^ 7
	}
	f := [2]float32{1, slope}
	for i := done; i < len(x); i++ {
		y[i] = x[i] * f[notPositive(x[i])]
	}
}

// LeakyReLUGrad is the backward pass of LeakyReLU:
//
//	for i, v := range x {
//		dx[i] += g[i] if v > 0, else slope*g[i]
//	}
func LeakyReLUGrad(slope float32, x, g, dx []float32) {
	g, dx = g[:len(x)], dx[:len(x)]
	done := 0
	if impl >= implAVX2 {
		leakyGradAsm(slope, x, g, dx)
		done = len(x) &^ 7
	}
	f := [2]float32{1, slope}
	for i := done; i < len(x); i++ {
		dx[i] += g[i] * f[notPositive(x[i])]
	}
}

// notPositive is 0 when x > 0 and 1 otherwise (zeros, negatives and NaN, as
// the comparison in the vector code). The compiler turns it into a
// conditional move: activations run over every pixel of every feature map,
// and a data-dependent branch there costs more than the arithmetic.
func notPositive(x float32) int {
	k := 1
	if x > 0 {
		k = 0
	}
	return k
}
