package metrics

import "math"

// MaxAssignment solves the rectangular assignment problem: it matches rows
// to columns one-to-one (min(rows, cols) pairs) so that the sum of the
// matched weights is as large as possible, with the Hungarian
// (Kuhn-Munkres) algorithm using potentials, O(r^2 c) for r <= c. It returns
// rowToCol (the column matched to each row, or -1 for rows left unmatched
// when there are more rows than columns) and the total weight. The weights
// must form a rectangular matrix; an empty matrix gives an empty matching.
func MaxAssignment(w [][]int64) (rowToCol []int, total int64) {
	r := len(w)
	if r == 0 || len(w[0]) == 0 {
		return make([]int, r), 0
	}
	c := len(w[0])
	transposed := r > c
	nr, nc := r, c
	if transposed {
		nr, nc = c, r
	}
	// cost(i, j) for the internal problem with nr <= nc rows: minimise the
	// negated weight.
	cost := func(i, j int) int64 {
		if transposed {
			return -w[j][i]
		}
		return -w[i][j]
	}
	// 1-based arrays as in the classical formulation; index 0 is a sentinel.
	const inf = math.MaxInt64 / 4
	u := make([]int64, nr+1)
	v := make([]int64, nc+1)
	p := make([]int, nc+1) // p[j] = row matched to column j (0 = none)
	way := make([]int, nc+1)
	minv := make([]int64, nc+1)
	used := make([]bool, nc+1)
	for i := 1; i <= nr; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0 := p[j0]
			delta := int64(inf)
			j1 := 0
			for j := 1; j <= nc; j++ {
				if used[j] {
					continue
				}
				cur := cost(i0-1, j-1) - u[i0] - v[j]
				if cur < minv[j] {
					minv[j] = cur
					way[j] = j0
				}
				if minv[j] < delta {
					delta = minv[j]
					j1 = j
				}
			}
			for j := 0; j <= nc; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	rowToCol = make([]int, r)
	for i := range rowToCol {
		rowToCol[i] = -1
	}
	for j := 1; j <= nc; j++ {
		if p[j] == 0 {
			continue
		}
		i := p[j] - 1 // internal row i, internal column j-1
		if transposed {
			rowToCol[j-1] = i
			total += w[j-1][i]
		} else {
			rowToCol[i] = j - 1
			total += w[i][j-1]
		}
	}
	return rowToCol, total
}
