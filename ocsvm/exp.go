package ocsvm

import "math"

// expTableBits is the table size of expNeg: 2^expTableBits entries.
const expTableBits = 7

// expTail holds 2^(j/N) for j < N = 2^expTableBits as bit patterns, less
// j·2^(52−expTableBits), so that adding k·2^(52−expTableBits) for k =
// q·N + j adds q to the exponent and cancels the j.
var expTail = func() (t [1 << expTableBits]uint64) {
	for j := range t {
		t[j] = math.Float64bits(math.Exp2(float64(j)/(1<<expTableBits))) - uint64(j)<<(52-expTableBits)
	}
	return t
}()

// expNeg returns e^x for x ≤ 0, within two units in the last place of
// math.Exp's value and about twice as fast: x = (k/N)·ln 2 + r with
// |r| ≤ ln 2/(2N), e^x = 2^(k/N)·e^r, 2^(k/N) from a table of N = 128
// values and e^r from its Taylor polynomial of degree 5 (the truncation,
// below r⁶/720 ≈ 5·10⁻¹⁹, is under half a unit). The training kernel
// values are rounded to float32 for the cache, as libsvm's are, which
// hides the difference from math.Exp but for about one value in 10⁸; in
// scores it is a few parts in 10¹⁶.
//
// The kernel's exponents are −γ‖x−y‖² ≤ 0 (a rounding error can make one a
// few units above 0, which the formula handles); below −700 it falls back
// to math.Exp, which takes care of underflow.
func expNeg(x float64) float64 {
	const (
		n     = 1 << expTableBits
		invLn = n / math.Ln2
		// ln 2 / N split in two (fdlibm's split of ln 2): hi has 32
		// trailing zero bits, so that k·hi is exact for |k| < 2²⁰ (here
		// |k| < 700·N/ln 2 ≈ 1.3·10⁵).
		ln2hi = 6.93147180369123816490e-01 / n
		ln2lo = 1.90821492927058770002e-10 / n
		shift = 0x1.8p52
	)
	if !(x > -700) {
		return math.Exp(x)
	}
	kd := x*invLn + shift
	ki := math.Float64bits(kd)
	kd -= shift
	r := x - kd*ln2hi - kd*ln2lo
	scale := math.Float64frombits(expTail[ki%n] + ki<<(52-expTableBits))
	r2 := r * r
	p := r + r2*(0.5+r*(1.0/6)+r2*(1.0/24+r*(1.0/120)))
	return scale + scale*p
}
