package kernels

import "math"

// AdamUpdate is Adam's element-wise update (package optim owns the bias
// corrections and the hyper-parameters; ob1 = 1-b1, ob2 = 1-b2, bc2 =
// sqrt(1-b2^t), step = lr/(1-b1^t)):
//
//	for j := range w {
//		m[j] = m[j]*b1 + ob1*g[j]
//		v[j] = v[j]*b2 + ob2*g[j]*g[j]
//		w[j] -= step * (m[j] / (sqrt(v[j])/bc2 + eps))
//	}
//
// Large tensors are split across goroutines. Every level gives the same
// bits: the vector code does the same float32 operations in the same order
// (a float32 square root is correctly rounded either way).
func AdamUpdate(w, g, m, v []float32, b1, ob1, b2, ob2, bc2, eps, step float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	Parallel(len(w), 1<<16, func(lo, hi int) {
		w, g, m, v := w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
		for j := adamAsm(w, g, m, v, b1, ob1, b2, ob2, bc2, eps, step); j < len(w); j++ {
			// The conversions forbid fused multiply-adds (GOAMD64=v3), which
			// would change the last bit against the vector code.
			gj := g[j]
			mj := float32(m[j]*b1) + float32(ob1*gj)
			vj := float32(v[j]*b2) + float32(float32(ob2*gj)*gj)
			m[j], v[j] = mj, vj
			w[j] -= step * (mj / (float32(math.Sqrt(float64(vj)))/bc2 + eps))
		}
	})
}
