package umap

import (
	"math"
	"slices"

	"github.com/oddity-ml/oddity/neighbors"
)

// Bisection of σ: umap-learn's iteration limit and tolerance on the
// membership sum, and its floor on σ relative to the mean neighbour
// distance.
const (
	sigmaIters = 64
	sigmaTol   = 1e-5
	minSigma   = 1e-3
)

// directed is the membership of each point's neighbours: row i's are
// w[i*k:(i+1)*k] for the points nb.Index[i*k:(i+1)*k].
type directed struct {
	k   int
	nbr []int32
	w   []float64
}

// memberships turns each point's k nearest other points into the
// memberships of its local fuzzy set (paper §3.1): 1 for the nearest and
// exp(-(d - ρ)/σ) beyond, with σ chosen so that they sum to log₂(k+1).
func memberships(nb *neighbors.Result, n int) directed {
	k := nb.K
	out := directed{k: k, nbr: nb.Index, w: make([]float64, n*k)}
	target := math.Log2(float64(k + 1))
	var total float64
	for _, v := range nb.Dist {
		total += v
	}
	globalMean := total / float64(n*(k+1)) // each point's own distance 0 counts, as in umap-learn
	for i := range n {
		dist := nb.Dist[i*k : (i+1)*k]
		rho, sum := 0.0, 0.0
		for _, v := range dist {
			if v > 0 && rho == 0 {
				rho = v // ascending: the first nonzero is the smallest
			}
			sum += v
		}
		lo, hi, mid := 0.0, math.Inf(1), 1.0
		for range sigmaIters {
			var psum float64
			for _, v := range dist {
				if e := v - rho; e > 0 {
					psum += math.Exp(-e / mid)
				} else {
					psum++
				}
			}
			if math.Abs(psum-target) < sigmaTol {
				break
			}
			if psum > target {
				hi = mid
				mid = (lo + hi) / 2
			} else {
				lo = mid
				if math.IsInf(hi, 1) {
					mid *= 2
				} else {
					mid = (lo + hi) / 2
				}
			}
		}
		floor := minSigma * globalMean
		if rho > 0 {
			floor = minSigma * sum / float64(k+1)
		}
		sigma := max(mid, floor)
		for j, v := range dist {
			w := 1.0
			if e := v - rho; e > 0 && sigma > 0 {
				w = math.Exp(-e / sigma)
			}
			out.w[i*k+j] = w
		}
	}
	return out
}

// graph is a symmetric weighted graph as a list of directed edges sorted
// by head, then tail; each undirected edge appears in both directions.
type graph struct {
	head, tail []int32
	w          []float64
}

// fuzzyUnion symmetrises the local fuzzy sets by the probabilistic union
// w_ij + w_ji - w_ij·w_ji (paper §3.1) and drops zero weights.
func fuzzyUnion(m directed, n int) graph {
	k := m.k
	// Count the entries of every row of W + Wᵀ (before merging).
	start := make([]int, n+1)
	for i := range n {
		for j := range k {
			if m.w[i*k+j] == 0 {
				continue
			}
			start[i+1]++
			start[int(m.nbr[i*k+j])+1]++
		}
	}
	for i := range n {
		start[i+1] += start[i]
	}
	type entry struct {
		col int32
		w   float64
		own bool // i's own membership (else the transpose's)
	}
	ent := make([]entry, start[n])
	fill := slices.Clone(start[:n])
	for i := range n {
		for j := range k {
			w := m.w[i*k+j]
			if w == 0 {
				continue
			}
			c := m.nbr[i*k+j]
			ent[fill[i]] = entry{c, w, true}
			fill[i]++
			ent[fill[c]] = entry{int32(i), w, false}
			fill[c]++
		}
	}
	var g graph
	for i := range n {
		row := ent[start[i]:start[i+1]]
		slices.SortFunc(row, func(a, b entry) int {
			if a.col != b.col {
				return int(a.col - b.col)
			}
			if a.own == b.own {
				return 0
			}
			if a.own {
				return -1
			}
			return 1
		})
		for t := 0; t < len(row); t++ {
			w := row[t].w
			if t+1 < len(row) && row[t+1].col == row[t].col {
				// Both directions: w_ij (own) and w_ji (transposed).
				w = w + row[t+1].w - w*row[t+1].w
				t++
			}
			if w > 0 {
				g.head = append(g.head, int32(i))
				g.tail = append(g.tail, row[t].col)
				g.w = append(g.w, w)
			}
		}
	}
	return g
}
