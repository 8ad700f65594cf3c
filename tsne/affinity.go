package tsne

import (
	"math"
	"slices"
)

// Binary-search settings of the perplexity calibration (scikit-learn's).
const (
	perplexitySteps     = 100
	perplexityTolerance = 1e-5
)

// conditionalP calibrates, for each point, the Gaussian precision beta_i so
// that the conditional distribution p_{j|i} ∝ exp(-beta_i·d²_ij) over its k
// nearest neighbours has entropy log(perplexity) (natural log), and returns
// those distributions (n×k, each row summing to 1). dist holds squared
// distances, ascending per row.
func conditionalP(dist []float64, n, k int, perplexity float64, workers int) []float64 {
	p := make([]float64, n*k)
	target := math.Log(perplexity)
	parallelFor(workers, n, 256, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			calibrateRow(dist[i*k:(i+1)*k], p[i*k:(i+1)*k], target)
		}
	})
	return p
}

// calibrateRow finds beta for one row and writes the normalised
// probabilities into p; it returns beta. Distances are shifted by their
// minimum, which leaves the normalised distribution and its entropy unchanged
// but keeps exp from underflowing for far-apart data.
func calibrateRow(d, p []float64, target float64) float64 {
	dmin := math.Inf(1)
	for _, v := range d {
		dmin = math.Min(dmin, v)
	}
	beta, lo, hi := 1.0, math.Inf(-1), math.Inf(1)
	for range perplexitySteps {
		var sum, sumDP float64
		for m, v := range d {
			e := math.Exp(-(v - dmin) * beta)
			p[m] = e
			sum += e
			sumDP += (v - dmin) * e
		}
		// sum ≥ 1 because the nearest neighbour contributes exp(0).
		h := math.Log(sum) + beta*sumDP/sum
		for m := range p {
			p[m] /= sum
		}
		diff := h - target
		if math.Abs(diff) <= perplexityTolerance {
			break
		}
		if diff > 0 { // too flat: sharpen
			lo = beta
			if math.IsInf(hi, 1) {
				beta *= 2
			} else {
				beta = (beta + hi) / 2
			}
		} else {
			hi = beta
			if math.IsInf(lo, -1) {
				beta /= 2
			} else {
				beta = (beta + lo) / 2
			}
		}
	}
	return beta
}

// csr is a sparse symmetric affinity matrix in compressed-row form.
type csr struct {
	n      int
	rowPtr []int32
	col    []int32
	val    []float64
}

// symmetrise forms P = (C + Cᵀ) / sum(C + Cᵀ) from the conditional
// distributions C (row i over the neighbours nbr[i*k:(i+1)*k]), merging
// entries that appear in both directions. Columns are sorted within rows.
func symmetrise(nbr []int32, cond []float64, n, k int) *csr {
	count := make([]int32, n+1)
	for i := range n {
		for m := range k {
			count[i+1]++
			count[nbr[i*k+m]+1]++
		}
	}
	for i := range n {
		count[i+1] += count[i]
	}
	col := make([]int32, count[n])
	val := make([]float64, count[n])
	fill := slices.Clone(count[:n])
	for i := range n {
		for m := range k {
			j := nbr[i*k+m]
			v := cond[i*k+m]
			col[fill[i]], val[fill[i]] = j, v
			fill[i]++
			col[fill[j]], val[fill[j]] = int32(i), v
			fill[j]++
		}
	}
	// Sort each row by column and merge duplicates, compacting in place.
	out := &csr{n: n, rowPtr: make([]int32, n+1)}
	type ent struct {
		j int32
		v float64
	}
	var buf []ent
	var total float64
	w := int32(0)
	for i := range n {
		buf = buf[:0]
		for e := count[i]; e < count[i+1]; e++ {
			buf = append(buf, ent{col[e], val[e]})
		}
		slices.SortFunc(buf, func(a, b ent) int { return int(a.j - b.j) })
		for t := 0; t < len(buf); {
			j, v := buf[t].j, buf[t].v
			t++
			for t < len(buf) && buf[t].j == j {
				v += buf[t].v
				t++
			}
			col[w], val[w] = j, v
			total += v
			w++
		}
		out.rowPtr[i+1] = w
	}
	total = math.Max(total, math.SmallestNonzeroFloat64)
	out.col = col[:w:w]
	out.val = val[:w:w]
	for e := range out.val {
		out.val[e] /= total
	}
	return out
}
