package metrics

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Comparing several methods over several data sets (Demšar, "Statistical
// comparisons of classifiers over multiple data sets", JMLR 2006; Benavoli,
// Corani and Mangili, "Should we really use post-hoc tests based on
// mean-ranks?", JMLR 2016): average ranks, the Friedman test of whether
// any method differs, and pairwise Wilcoxon signed-rank tests with Holm's
// correction for which ones do. Wilcoxon–Holm rather than the Nemenyi
// test: Benavoli et al. show that mean-rank post-hoc tests make a pair's
// verdict depend on which other methods are in the comparison, which the
// paired Wilcoxon test does not.

// Ranks returns each method's rank on each data set, higher values better
// (rank 1 is the best), ties given their average rank: scores[i][j] is
// method j's measure on data set i. Every row must have the same number
// of methods, at least 2, and finite values.
func Ranks(scores [][]float64) ([][]float64, error) {
	if len(scores) == 0 {
		return nil, fmt.Errorf("%w: no data sets", ErrEmpty)
	}
	k := len(scores[0])
	if k < 2 {
		return nil, fmt.Errorf("%w: ranks need at least 2 methods, got %d", ErrLength, k)
	}
	out := make([][]float64, len(scores))
	for i, row := range scores {
		if len(row) != k {
			return nil, fmt.Errorf("%w: data set %d has %d methods, the first %d", ErrLength, i, len(row), k)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: data set %d, method %d: %v", ErrNotFinite, i, j, v)
			}
		}
		idx := make([]int, k)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		r := make([]float64, k)
		for lo := 0; lo < k; {
			hi := lo + 1
			for hi < k && row[idx[hi]] == row[idx[lo]] {
				hi++
			}
			avg := float64(lo+1+hi) / 2 // ranks lo+1 .. hi
			for _, j := range idx[lo:hi] {
				r[j] = avg
			}
			lo = hi
		}
		out[i] = r
	}
	return out, nil
}

// FriedmanResult is the outcome of Friedman's test.
type FriedmanResult struct {
	// AverageRanks holds each method's mean rank over the data sets.
	AverageRanks []float64
	// N data sets, K methods.
	N, K int
	// ChiSquare is Friedman's statistic, chi-square with K−1 degrees of
	// freedom under the null hypothesis that all methods are equivalent;
	// PChiSquare its p-value.
	ChiSquare, PChiSquare float64
	// F is Iman and Davenport's correction, F-distributed with K−1 and
	// (K−1)(N−1) degrees of freedom, less conservative than the chi-square
	// (Demšar 2006 recommends it); PF its p-value.
	F, PF float64
}

// Friedman runs Friedman's test on scores[i][j], method j's measure on data
// set i (higher better), from the ranks of Ranks:
//
//	χ²_F = 12N/(K(K+1)) · (Σ_j R_j² − K(K+1)²/4),  F_F = (N−1)χ²_F / (N(K−1) − χ²_F),
//
// R_j the average ranks, χ²_F divided by the tie correction
// 1 − Σ(t³ − t)/(N K (K² − 1)) over groups of t tied values within a data
// set, as scipy.stats.friedmanchisquare does. It needs at least 2 data
// sets.
func Friedman(scores [][]float64) (*FriedmanResult, error) {
	ranks, err := Ranks(scores)
	if err != nil {
		return nil, err
	}
	n, k := len(ranks), len(ranks[0])
	if n < 2 {
		return nil, fmt.Errorf("%w: Friedman's test needs at least 2 data sets, got %d", ErrLength, n)
	}
	res := &FriedmanResult{AverageRanks: make([]float64, k), N: n, K: k}
	for _, r := range ranks {
		for j, v := range r {
			res.AverageRanks[j] += v / float64(n)
		}
	}
	nf, kf := float64(n), float64(k)
	sum := 0.0
	for _, r := range res.AverageRanks {
		sum += r * r
	}
	res.ChiSquare = 12 * nf / (kf * (kf + 1)) * (sum - kf*(kf+1)*(kf+1)/4)
	ties := 0.0
	for _, r := range ranks {
		c := slices.Clone(r)
		slices.Sort(c)
		for lo := 0; lo < len(c); {
			hi := lo + 1
			for hi < len(c) && c[hi] == c[lo] {
				hi++
			}
			t := float64(hi - lo)
			ties += t*t*t - t
			lo = hi
		}
	}
	if corr := 1 - ties/(nf*kf*(kf*kf-1)); corr > 0 {
		res.ChiSquare /= corr
	}
	res.PChiSquare = distuv.ChiSquared{K: kf - 1}.Survival(res.ChiSquare)
	if den := nf*(kf-1) - res.ChiSquare; den > 0 {
		res.F = (nf - 1) * res.ChiSquare / den
		res.PF = distuv.F{D1: kf - 1, D2: (kf - 1) * (nf - 1)}.Survival(res.F)
	} else {
		res.F, res.PF = math.Inf(1), 0
	}
	return res, nil
}

// Wilcoxon returns the two-sided p-value of the Wilcoxon signed-rank test
// of paired samples a and b, as scipy.stats.wilcoxon (1.10) computes it by
// default (zero differences dropped, "wilcox"): exact when there are at
// most 50 differences, none of them zero, and no ties among their
// magnitudes; by the normal approximation (with the tie correction of the
// variance and no continuity correction) otherwise. Equal samples give
// p = 1.
func Wilcoxon(a, b []float64) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%w: %d and %d paired values", ErrLength, len(a), len(b))
	}
	var d []float64
	zeros := 0
	for i := range a {
		if math.IsNaN(a[i]) || math.IsNaN(b[i]) || math.IsInf(a[i], 0) || math.IsInf(b[i], 0) {
			return 0, fmt.Errorf("%w: pair %d", ErrNotFinite, i)
		}
		if v := a[i] - b[i]; v != 0 {
			d = append(d, v)
		} else {
			zeros++
		}
	}
	n := len(d)
	if n == 0 {
		return 1, nil
	}
	abs := make([]float64, n)
	for i, v := range d {
		abs[i] = math.Abs(v)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return abs[idx[x]] < abs[idx[y]] })
	rank := make([]float64, n)
	ties := false
	tieTerm := 0.0
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && abs[idx[hi]] == abs[idx[lo]] {
			hi++
		}
		if hi-lo > 1 {
			ties = true
			t := float64(hi - lo)
			tieTerm += t*t*t - t
		}
		for _, i := range idx[lo:hi] {
			rank[i] = float64(lo+1+hi) / 2
		}
		lo = hi
	}
	wPlus := 0.0
	for i, v := range d {
		if v > 0 {
			wPlus += rank[i]
		}
	}
	total := float64(n*(n+1)) / 2
	if n <= 50 && !ties && zeros == 0 {
		// Exact: the null distribution of W+ is that of a sum of a random
		// subset of 1..n; count subsets by sum.
		count := make([]float64, int(total)+1)
		count[0] = 1
		for r := 1; r <= n; r++ {
			for s := int(total); s >= r; s-- {
				count[s] += count[s-r]
			}
		}
		w := math.Min(wPlus, total-wPlus)
		tail := 0.0
		for s := 0; s <= int(w); s++ {
			tail += count[s]
		}
		return math.Min(1, 2*tail/math.Pow(2, float64(n))), nil
	}
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	sd := math.Sqrt(nf*(nf+1)*(2*nf+1)/24 - tieTerm/48)
	if sd == 0 {
		return 1, nil
	}
	z := (wPlus - mean) / sd
	return math.Min(1, 2*distuv.UnitNormal.Survival(math.Abs(z))), nil
}

// Holm adjusts p-values for multiple comparisons by Holm's step-down
// method: the i-th smallest of m p-values becomes max over j ≤ i of
// min(1, (m − j + 1)·p_(j)). A hypothesis is rejected at level α when its
// adjusted p-value is at most α.
func Holm(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	out := make([]float64, m)
	run := 0.0
	for k, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-k)*p[i]))
		out[i] = run
	}
	return out
}

// PairwiseWilcoxonHolm tests every pair of methods (columns of scores,
// rows the data sets) by Wilcoxon's signed-rank test and adjusts the
// p-values by Holm's method over all pairs: adjusted[a][b] is the pair's
// adjusted p-value (symmetric; 1 on the diagonal).
func PairwiseWilcoxonHolm(scores [][]float64) ([][]float64, error) {
	if _, err := Ranks(scores); err != nil {
		return nil, err
	}
	k := len(scores[0])
	col := func(j int) []float64 {
		c := make([]float64, len(scores))
		for i, r := range scores {
			c[i] = r[j]
		}
		return c
	}
	var raw []float64
	var pairs [][2]int
	for a := 0; a < k; a++ {
		for b := a + 1; b < k; b++ {
			p, err := Wilcoxon(col(a), col(b))
			if err != nil {
				return nil, err
			}
			raw = append(raw, p)
			pairs = append(pairs, [2]int{a, b})
		}
	}
	adj := Holm(raw)
	out := make([][]float64, k)
	for i := range out {
		out[i] = make([]float64, k)
		out[i][i] = 1
	}
	for n, pr := range pairs {
		out[pr[0]][pr[1]], out[pr[1]][pr[0]] = adj[n], adj[n]
	}
	return out, nil
}

// Cliques returns the groups drawn as bars in a critical-difference
// diagram: methods ordered by average rank, each maximal run of
// consecutive methods in which no pair differs significantly (adjusted
// p-value above alpha), runs of one method left out. Each clique lists
// positions in order, the indices into avgRanks.
func Cliques(avgRanks []float64, adjusted [][]float64, alpha float64) [][]int {
	order := make([]int, len(avgRanks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return avgRanks[order[a]] < avgRanks[order[b]] })
	var out [][]int
	lastEnd := -1
	for s := range order {
		e := s
		for e+1 < len(order) {
			ok := true
			for x := s; x <= e+1 && ok; x++ {
				for y := x + 1; y <= e+1; y++ {
					if adjusted[order[x]][order[y]] <= alpha {
						ok = false
						break
					}
				}
			}
			if !ok {
				break
			}
			e++
		}
		if e > s && e > lastEnd {
			out = append(out, slices.Clone(order[s:e+1]))
			lastEnd = e
		}
	}
	return out
}
