package neighbors

import "math"

// sqDist is the one exact squared distance every search path reports:
// Σ_l (q_l − x_l)² in float64, x's float32 values widened exactly, summed
// into four accumulators by l mod 4 that are joined as (s0+s1)+(s2+s3).
// Each square is rounded before it is added (the conversions forbid the
// compiler to fuse them into multiply-adds), so boxDist, written the same
// way, rounds alike on every architecture. The brute-force path's final
// re-check calls it, and the tree's leaf kernels (leaf.go) compute the
// same sums several rows at a time, so the two algorithms return
// bit-for-bit the same distances.
func sqDist(q []float64, x []float32) float64 {
	x = x[:len(q)]
	var s0, s1, s2, s3 float64
	l := 0
	for ; l+4 <= len(q); l += 4 {
		d0 := q[l] - float64(x[l])
		d1 := q[l+1] - float64(x[l+1])
		d2 := q[l+2] - float64(x[l+2])
		d3 := q[l+3] - float64(x[l+3])
		s0 += float64(d0 * d0)
		s1 += float64(d1 * d1)
		s2 += float64(d2 * d2)
		s3 += float64(d3 * d3)
	}
	switch len(q) - l {
	case 3:
		d2 := q[l+2] - float64(x[l+2])
		s2 += float64(d2 * d2)
		fallthrough
	case 2:
		d1 := q[l+1] - float64(x[l+1])
		s1 += float64(d1 * d1)
		fallthrough
	case 1:
		d0 := q[l] - float64(x[l])
		s0 += float64(d0 * d0)
	}
	return (s0 + s1) + (s2 + s3)
}

// boxDist is the squared distance from q to the box [lo, hi] (float32
// bounds widened exactly to float64), summed with exactly sqDist's pattern
// of accumulators. For a point x inside the box
// each term is at most x's (rounding is monotone), so boxDist(q, box) ≤
// sqDist(q, x) as computed, not only as real numbers: pruning a node whose
// boxDist exceeds the current k-th distance can never drop a point that
// sqDist would have accepted.
func boxDist(q []float64, lo, hi []float64) float64 {
	lo, hi = lo[:len(q)], hi[:len(q)]
	var s [4]float64
	for l, v := range q {
		// At most one of the two gaps is positive (lo ≤ hi).
		a, b := lo[l]-v, v-hi[l]
		var g float64
		if a > 0 {
			g = a
		}
		if b > 0 {
			g = b
		}
		s[l&3] += float64(g * g)
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

// topK keeps the k smallest (distance, index) pairs seen, in ascending
// order of distance and then of index, so that ties are broken the same way
// by every search path whatever order the candidates arrive in. (Sorted
// insertion measured a little faster than a binary heap up to k = 20.)
//
// A strict topK is for callers that want the k smallest distances and not
// which rows are at them: its bound is the largest float64 below the k-th
// distance, so a row tied with the k-th is not taken and a tree node whose
// box is at exactly that distance is not searched. Rows with many
// duplicates make such ties common.
type topK struct {
	k      int
	n      int
	d      []float64
	i      []int32
	bound  float64 // keep a pair only at distance ≤ bound: +Inf while fewer than k
	strict bool
}

func newTopK(k int, strict bool) *topK {
	return &topK{k: k, d: make([]float64, k), i: make([]int32, k), bound: math.Inf(1), strict: strict}
}

// reset empties t and starts its bound at b: only pairs at distance at
// most b are kept until k are held. b must be at least the k-th smallest
// distance to come (an upper bound known in advance), or +Inf.
func (t *topK) reset(b float64) { t.n, t.bound = 0, b }

// push offers the pair (d, i) and reports whether t kept it.
func (t *topK) push(d float64, i int32) bool {
	p := t.n
	if p == t.k {
		if last := t.k - 1; d > t.d[last] || (d == t.d[last] && (t.strict || i > t.i[last])) {
			return false
		}
		p = t.k - 1
	} else {
		t.n++
	}
	for p > 0 && (d < t.d[p-1] || (d == t.d[p-1] && i < t.i[p-1])) {
		t.d[p], t.i[p] = t.d[p-1], t.i[p-1]
		p--
	}
	t.d[p], t.i[p] = d, i
	if t.n == t.k {
		t.bound = t.d[t.k-1]
		if t.strict {
			t.bound = math.Nextafter(t.bound, math.Inf(-1))
		}
	}
	return true
}
