package ocsvm

// The training kernel's dot products, in one fixed order of summation
// shared by the assembly (dot_amd64.s) and this Go version: rows padded
// with zeros to a multiple of 4 values, four running sums s_k of the
// products of elements k, k+4, k+8, …, and the result (s₀ + s₂) + (s₁ + s₃),
// which is how a 4-lane vector register sums and folds. One order for
// every product makes the kernel symmetric bit for bit and K(x, x) = 1
// exactly (‖x‖² is the same sum). The conversions float64(a*b) forbid the
// compiler to fuse a multiply and an add, which the assembly does not do
// either.

// dotGo is dot in Go.
func dotGo(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	for t := 0; t+4 <= len(a); t += 4 {
		s0 += float64(a[t] * b[t])
		s1 += float64(a[t+1] * b[t+1])
		s2 += float64(a[t+2] * b[t+2])
		s3 += float64(a[t+3] * b[t+3])
	}
	return (s0 + s2) + (s1 + s3)
}

// dotsGo is dots in Go.
func dotsGo(xi, xs, out []float64) {
	n := len(xi)
	for r := range out {
		out[r] = dotGo(xi, xs[r*n:r*n+n])
	}
}
