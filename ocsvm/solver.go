package ocsvm

import (
	"context"
	"math"
)

// The one-class dual (Schölkopf et al. 2001, eq. 7 with α scaled by νl,
// as libsvm scales it):
//
//	min_α ½ αᵀQα  subject to  0 ≤ α_i ≤ 1,  Σ α_i = νl,
//
// Q_ij = K(x_i, x_j). The gradient is ∇_i = (Qα)_i. With every label +1
// and every bound 1, libsvm's general solver reduces to what follows.

// Bound status of one α, as libsvm keeps it.
const (
	atLower int8 = iota // α = 0
	atUpper             // α = 1
	free                // 0 < α < 1
)

// tau replaces a non-positive curvature in the working-set selection and
// the update (libsvm's TAU).
const tau = 1e-12

// solution is the solver's result, in the rows' original order.
type solution struct {
	alpha []float64
	// grad is ∇ = Qα at the solution, computed with the float32 kernel
	// values of the cache (as libsvm's).
	grad      []float64
	rho       float64
	obj       float64
	iter      int
	converged bool
	// swaps counts the position exchanges shrinking made (for the tests).
	swaps int
}

// solver is libsvm's SMO solver (Fan, Chen and Lin 2005) for the
// one-class dual: second-order working-set selection, the two-variable
// analytic update, shrinking with gradient reconstruction, and a bounded
// cache of kernel columns. Positions 0 … active−1 are the active
// (unshrunk) variables; shrinking moves rows, and index keeps each
// position's original row.
type solver struct {
	k          *kernel
	cache      *colCache
	l, active  int
	alpha      []float64
	g, gbar    []float64 // gradient, and its part from α at the upper bound
	st         []int8
	index      []int
	eps        float64
	shrinking  bool
	unshrink   bool
	done       <-chan struct{}
	ctx        context.Context
	report     func(iter, maxIter int, gap float64)
	reportStep int
	pairs      [][2]int // shrink's position exchanges
	swaps      int
}

func statusOf(a float64) int8 {
	switch {
	case a >= 1:
		return atUpper
	case a <= 0:
		return atLower
	}
	return free
}

// q returns the kernel column of position i at positions 0 … n−1,
// computing only what the cache lacks.
func (s *solver) q(i, n int) []float32 {
	col, f := s.cache.get(i)
	if f < n {
		s.k.column(i, col, f, n)
		s.cache.setFilled(i, n)
	}
	return col[:n]
}

// qInit returns the whole kernel column of position i while the starting
// gradient is computed, copying the entries K(x_j, x_i), j < i, from the
// columns of earlier positions still in the cache rather than computing
// them again: the kernel is symmetric bit for bit (kernel.columnRange),
// and with ν = 0.5 this saves a quarter of the starting gradient's kernel
// values.
func (s *solver) qInit(i int) []float32 {
	c := s.cache
	col, f := c.get(i)
	if f >= s.l {
		return col[:s.l]
	}
	// Runs of positions whose column is gone are computed, the rest
	// copied.
	run := 0
	for j := 0; j < i; j++ {
		if cj := c.slot[j]; cj != nil && c.filled[j] > i {
			if run < j {
				s.k.column(i, col, run, j)
			}
			col[j] = cj[i]
			run = j + 1
		}
	}
	s.k.column(i, col, run, s.l)
	c.setFilled(i, s.l)
	return col[:s.l]
}

func (s *solver) cancelled() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// startAlpha is libsvm's starting point for the one-class dual: the first
// ⌊νl⌋ α at 1, the next at νl − ⌊νl⌋, the rest at 0, so that Σα = νl.
//
// scikit-learn's copy of libsvm (which supports sample weights) instead
// sums ν once per row and fills α greedily from that running sum; where
// the sum's rounding differs from νl (ν = 0.1, l = 80 gives
// 7.999999999999988), its start has one more free α, its path differs,
// and the two solutions agree to within the tolerance rather than to the
// last digits. For ν = 0.5 the two starts are the same.
func startAlpha(l int, nu float64) []float64 {
	alpha := make([]float64, l)
	nl := nu * float64(l)
	n := min(int(nl), l)
	for i := range n {
		alpha[i] = 1
	}
	if n < l {
		alpha[n] = nl - float64(n)
	}
	return alpha
}

// solveOneClass minimises the one-class dual for the kernel's l =
// len(alpha0) rows from the feasible point alpha0 (startAlpha's). It stops
// when the optimality gap is below eps, or after libsvm's iteration limit
// max(10⁷, 100·l) (then converged is false), or with ctx's error.
func solveOneClass(ctx context.Context, k *kernel, alpha0 []float64, eps float64, cacheCols int, shrinking bool,
	report func(iter, maxIter int, gap float64)) (*solution, error) {
	l := len(alpha0)
	s := &solver{k: k, cache: newColCache(l, cacheCols), l: l, active: l,
		alpha: append([]float64(nil), alpha0...), g: make([]float64, l), gbar: make([]float64, l),
		st: make([]int8, l), index: make([]int, l), eps: eps, shrinking: shrinking,
		done: ctx.Done(), ctx: ctx, report: report, reportStep: 1000}
	for i := range l {
		s.st[i] = statusOf(s.alpha[i])
		s.index[i] = i
	}
	// ∇ = Qα and ∇̄ = Σ_{α_i = 1} Q_i, from the columns of the non-zero α.
	for i := range l {
		if s.st[i] == atLower {
			continue
		}
		if s.cancelled() {
			return nil, ctx.Err()
		}
		qi := s.qInit(i)
		ai := s.alpha[i]
		for j, v := range qi {
			s.g[j] += ai * float64(v)
		}
		if s.st[i] == atUpper {
			for j, v := range qi {
				s.gbar[j] += float64(v)
			}
		}
	}

	maxIter := max(10_000_000, 100*l)
	counter := min(l, 1000) + 1
	iter := 0
	converged := false
	for iter < maxIter {
		if s.cancelled() {
			return nil, ctx.Err()
		}
		counter--
		if counter == 0 {
			counter = min(l, 1000)
			if s.shrinking {
				if err := s.shrink(); err != nil {
					return nil, err
				}
			}
		}
		i, j, gap, ok := s.selectWorkingSet()
		if !ok {
			// Optimal on the active set: check all variables.
			if err := s.reconstructGradient(); err != nil {
				return nil, err
			}
			s.active = l
			if i, j, gap, ok = s.selectWorkingSet(); !ok {
				converged = true
				break
			}
			counter = 1 // shrink at the next iteration
		}
		iter++
		if s.report != nil && iter%s.reportStep == 0 {
			s.report(iter, maxIter, gap)
		}
		s.update(i, j)
	}
	if !converged {
		if err := s.reconstructGradient(); err != nil {
			return nil, err
		}
		s.active = l
	}
	sol := &solution{alpha: make([]float64, l), grad: make([]float64, l), rho: s.rho(), iter: iter, converged: converged, swaps: s.swaps}
	for p := range l {
		sol.alpha[s.index[p]] = s.alpha[p]
		sol.grad[s.index[p]] = s.g[p]
		sol.obj += s.alpha[p] * s.g[p]
	}
	sol.obj /= 2
	return sol, nil
}

// selectWorkingSet is WSS 3 of Fan, Chen and Lin (2005), libsvm's
// select_working_set with every label +1: i maximises −∇_i over the α
// that can grow (I_up: α_i < 1); j, among the α that can shrink (I_low:
// α_j > 0) with ∇_j > ∇_i, maximises the second-order decrease
// (∇_j − ∇_i)² / (Q_ii + Q_jj − 2Q_ij). ok is false when the gap
// max_{I_low} ∇ − min_{I_up} ∇ is below eps (the stopping condition) or
// no pair decreases the objective.
func (s *solver) selectWorkingSet() (i, j int, gap float64, ok bool) {
	gmax, gmax2 := math.Inf(-1), math.Inf(-1)
	i, j = -1, -1
	g, st := s.g[:s.active], s.st[:s.active]
	for t, v := range g {
		if st[t] != atUpper && -v >= gmax {
			gmax, i = -v, t
		}
	}
	var qi []float32
	if i >= 0 {
		qi = s.q(i, s.active)
	}
	objMin := math.Inf(1)
	for t, v := range g {
		if st[t] == atLower {
			continue
		}
		gd := gmax + v
		if v >= gmax2 {
			gmax2 = v
		}
		if gd > 0 {
			// K(x, x) = 1 for the RBF kernel, so Q_ii + Q_tt = 2.
			quad := 2 - 2*float64(qi[t])
			if quad <= 0 {
				quad = tau
			}
			if obj := -(gd * gd) / quad; obj <= objMin {
				j, objMin = t, obj
			}
		}
	}
	gap = gmax + gmax2
	if gap < s.eps || j == -1 {
		return i, j, gap, false
	}
	return i, j, gap, true
}

// update solves the two-variable subproblem in α_i, α_j analytically
// (their sum fixed, each clipped to [0, 1]) and updates ∇ and ∇̄, as
// libsvm's Solve does for two labels of the same sign.
func (s *solver) update(i, j int) {
	qi := s.q(i, s.active)
	qj := s.q(j, s.active)
	oldI, oldJ := s.alpha[i], s.alpha[j]
	quad := 2 - 2*float64(qi[j])
	if quad <= 0 {
		quad = tau
	}
	delta := (s.g[i] - s.g[j]) / quad
	sum := oldI + oldJ
	ai, aj := oldI-delta, oldJ+delta
	if sum > 1 {
		if ai > 1 {
			ai, aj = 1, sum-1
		}
	} else if aj < 0 {
		aj, ai = 0, sum
	}
	if sum > 1 {
		if aj > 1 {
			aj, ai = 1, sum-1
		}
	} else if ai < 0 {
		ai, aj = 0, sum
	}
	s.alpha[i], s.alpha[j] = ai, aj
	di, dj := ai-oldI, aj-oldJ
	g := s.g[:s.active]
	qi, qj = qi[:len(g)], qj[:len(g)]
	for t := range g {
		g[t] += float64(qi[t])*di + float64(qj[t])*dj
	}
	ui, uj := s.st[i] == atUpper, s.st[j] == atUpper
	s.st[i], s.st[j] = statusOf(ai), statusOf(aj)
	for _, p := range [2]struct {
		k   int
		was bool
	}{{i, ui}, {j, uj}} {
		if p.was == (s.st[p.k] == atUpper) {
			continue
		}
		qk := s.q(p.k, s.l)
		if p.was {
			for t, v := range qk {
				s.gbar[t] -= float64(v)
			}
		} else {
			for t, v := range qk {
				s.gbar[t] += float64(v)
			}
		}
	}
}

// beShrunk says whether variable i, at a bound, cannot take part in the
// next steps given the current extreme gradients (libsvm's be_shrunk).
func (s *solver) beShrunk(i int, gmax1, gmax2 float64) bool {
	switch s.st[i] {
	case atUpper:
		return -s.g[i] > gmax1
	case atLower:
		return s.g[i] > gmax2
	}
	return false
}

// shrink removes from the active set the bounded variables that the
// optimality conditions say will stay at their bound, moving them past
// the end of the active positions (libsvm's do_shrinking). Once the gap
// is within 10·eps it first restores all variables, once.
func (s *solver) shrink() error {
	gmax1, gmax2 := math.Inf(-1), math.Inf(-1)
	for t := range s.active {
		if s.st[t] != atUpper {
			gmax1 = max(gmax1, -s.g[t])
		}
		if s.st[t] != atLower {
			gmax2 = max(gmax2, s.g[t])
		}
	}
	if !s.unshrink && gmax1+gmax2 <= s.eps*10 {
		s.unshrink = true
		if err := s.reconstructGradient(); err != nil {
			return err
		}
		s.active = s.l
	}
	s.pairs = s.pairs[:0]
	for i := 0; i < s.active; i++ {
		if !s.beShrunk(i, gmax1, gmax2) {
			continue
		}
		s.active--
		for s.active > i {
			if !s.beShrunk(s.active, gmax1, gmax2) {
				s.swap(i, s.active)
				s.pairs = append(s.pairs, [2]int{i, s.active})
				break
			}
			s.active--
		}
	}
	// Nothing reads the cache in the loop above: its columns are reordered
	// once, for all the pairs.
	s.cache.swapAll(s.pairs)
	s.swaps += len(s.pairs)
	return nil
}

// swap exchanges positions i and j everywhere but in the kernel cache
// (shrink reorders the cache once for all its pairs).
func (s *solver) swap(i, j int) {
	s.k.swap(i, j)
	s.alpha[i], s.alpha[j] = s.alpha[j], s.alpha[i]
	s.g[i], s.g[j] = s.g[j], s.g[i]
	s.gbar[i], s.gbar[j] = s.gbar[j], s.gbar[i]
	s.st[i], s.st[j] = s.st[j], s.st[i]
	s.index[i], s.index[j] = s.index[j], s.index[i]
}

// reconstructGradient recomputes ∇ of the shrunk variables from ∇̄ and
// the free α (libsvm's reconstruct_gradient), by whichever loop order
// computes fewer kernel values.
func (s *solver) reconstructGradient() error {
	l, a := s.l, s.active
	if a == l {
		return nil
	}
	for j := a; j < l; j++ {
		s.g[j] = s.gbar[j]
	}
	nFree := 0
	for t := range a {
		if s.st[t] == free {
			nFree++
		}
	}
	if nFree*l > 2*a*(l-a) {
		for i := a; i < l; i++ {
			if s.cancelled() {
				return s.ctx.Err()
			}
			qi := s.q(i, a)
			sum := s.g[i]
			for t, v := range qi {
				if s.st[t] == free {
					sum += s.alpha[t] * float64(v)
				}
			}
			s.g[i] = sum
		}
		return nil
	}
	for i := range a {
		if s.st[i] != free {
			continue
		}
		if s.cancelled() {
			return s.ctx.Err()
		}
		qi := s.q(i, l)
		ai := s.alpha[i]
		for j := a; j < l; j++ {
			s.g[j] += ai * float64(qi[j])
		}
	}
	return nil
}

// rho is the offset ρ of the decision function: the mean gradient over
// the free α (all equal at the exact optimum), or, when none is free, the
// middle of the interval the bounded ones leave (libsvm's calculate_rho).
// Where libsvm would return an infinite ρ (every α at one bound, as with
// ν = 1), this returns the finite end of the interval.
func (s *solver) rho() float64 {
	ub, lb := math.Inf(1), math.Inf(-1)
	nFree, sum := 0, 0.0
	for t := range s.active {
		switch s.st[t] {
		case atUpper:
			lb = max(lb, s.g[t])
		case atLower:
			ub = min(ub, s.g[t])
		default:
			nFree++
			sum += s.g[t]
		}
	}
	switch {
	case nFree > 0:
		return sum / float64(nFree)
	case math.IsInf(ub, 1):
		return lb
	case math.IsInf(lb, -1):
		return ub
	}
	return (ub + lb) / 2
}
