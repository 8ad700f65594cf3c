package ocsvm

import "sync"

// kernel is the RBF kernel K(x, y) = exp(−γ‖x−y‖²) on the training rows,
// in the solver's current order (the solver moves rows as libsvm does when
// it shrinks the active set).
//
// Training kernel values are computed as libsvm computes them, from the
// squared norms: ‖xi‖² + ‖xj‖² − 2·xi·xj, in float64 from the float32
// inputs; K(xi, xi) is then exactly 1, since the norm and the dot product
// are the same sum (dot.go). Rows are stored padded with zeros to a
// multiple of 4 values, for the vector dot products.
type kernel struct {
	d       int // padded row length
	gamma   float64
	x       []float64 // l rows of d values
	sq      []float64 // ‖x_i‖²
	workers int
}

func newKernel(x []float32, l, dim int, gamma float64, workers int) *kernel {
	d := (dim + 3) &^ 3
	k := &kernel{d: d, gamma: gamma, x: make([]float64, l*d), sq: make([]float64, l), workers: max(workers, 1)}
	for i := range l {
		r := k.x[i*d : i*d+d]
		for t, v := range x[i*dim : i*dim+dim] {
			r[t] = float64(v)
		}
		k.sq[i] = dot(r, r)
	}
	return k
}

func (k *kernel) row(i int) []float64 { return k.x[i*k.d : i*k.d+k.d] }

// swap exchanges rows i and j.
func (k *kernel) swap(i, j int) {
	a, b := k.row(i), k.row(j)
	for t := range a {
		a[t], b[t] = b[t], a[t]
	}
	k.sq[i], k.sq[j] = k.sq[j], k.sq[i]
}

// columnRange fills col[from:to] with K(x_i, x_j), j in [from, to), a
// block of rows at a time: their dot products with x_i (dots), then the
// exponentials.
func (k *kernel) columnRange(i int, col []float32, from, to int) {
	const block = 256
	var buf [block]float64
	d := k.d
	xi, sqi, g := k.row(i), k.sq[i], k.gamma
	for a := from; a < to; a += block {
		b := min(a+block, to)
		p := buf[:b-a]
		dots(xi, k.x[a*d:b*d], p)
		sq, out := k.sq[a:b], col[a:b]
		for j, v := range p {
			out[j] = float32(expNeg(-g * (sqi + sq[j] - 2*v)))
		}
	}
}

// parallelWork is the work (in multiply-adds, an exponential counted as
// 8) below which a column is computed by one goroutine: waking others
// costs microseconds, more on a busy machine, so only columns of some
// 50 µs or more are split. (A variable so that the tests can split short
// columns too.)
var parallelWork = 1 << 17

// column fills col[from:to] with K(x_i, x_j), split among the workers when
// the column is long enough. Each value depends only on i and j, so the
// split does not change the result.
func (k *kernel) column(i int, col []float32, from, to int) {
	n := to - from
	w := min(k.workers, n*(k.d+8)/parallelWork)
	if w <= 1 {
		k.columnRange(i, col, from, to)
		return
	}
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for a := from + step; a < to; a += step {
		wg.Add(1)
		go func(a int) {
			defer wg.Done()
			k.columnRange(i, col, a, min(a+step, to))
		}(a)
	}
	k.columnRange(i, col, from, from+step)
	wg.Wait()
}

// resolveGamma returns γ for the setting and the training rows: the fixed
// value, 1/d ("auto"), or 1/(d·Var) with the variance of all n·d values
// ("scale", scikit-learn's definition; 1 when the variance is 0, as there).
func resolveGamma(setting string, x []float32, d int) float64 {
	g, _ := parseGamma(setting) // Validate has checked it
	switch {
	case g > 0:
		return g
	case g < 0:
		return 1 / float64(d)
	}
	v := variance(x)
	if v == 0 {
		return 1
	}
	return 1 / (float64(d) * v)
}

// variance is the population variance of x in float64, two passes, each
// summed in blocks of 256 so that the rounding error grows with the log
// of the length, close to NumPy's pairwise summation.
func variance(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	blockSum := func(f func(v float32) float64) float64 {
		var parts []float64
		for a := 0; a < len(x); a += 256 {
			s := 0.0
			for _, v := range x[a:min(a+256, len(x))] {
				s += f(v)
			}
			parts = append(parts, s)
		}
		for len(parts) > 1 {
			var next []float64
			for i := 0; i < len(parts); i += 2 {
				if i+1 < len(parts) {
					next = append(next, parts[i]+parts[i+1])
				} else {
					next = append(next, parts[i])
				}
			}
			parts = next
		}
		return parts[0]
	}
	n := float64(len(x))
	mean := blockSum(func(v float32) float64 { return float64(v) }) / n
	return blockSum(func(v float32) float64 { e := float64(v) - mean; return e * e }) / n
}
