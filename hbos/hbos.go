package hbos

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/oddity-ml/oddity/detector"
)

// ErrInput reports data the histograms cannot take. It wraps
// detector.ErrInput.
var ErrInput = fmt.Errorf("hbos: %w", detector.ErrInput)

// MaxCells bounds features × bins, the size of the fitted histograms
// (each cell holds an edge, a density and a score term: 24 bytes).
const MaxCells = 1 << 26

// Histograms is a fitted HBOS model: for each feature, a static histogram
// of Bins equal-width bins over the feature's training range, and each
// bin's score term log2(density + alpha). It is read-only once built and
// safe for concurrent use.
type Histograms struct {
	d, bins    int
	alpha, tol float64
	// edges[j*(bins+1)+i] is feature j's i-th bin edge; density[j*bins+i]
	// its i-th bin's density: count / (width · n), as numpy.histogram
	// with density=True.
	edges, density []float64
	// logd[j*bins+i] = log2(density + alpha); least[j] is its minimum
	// over feature j's bins; scale[j] = bins / (last edge − first edge).
	logd, least, scale []float64
}

// D returns the number of features.
func (h *Histograms) D() int { return h.d }

// Bins returns the number of bins of each histogram.
func (h *Histograms) Bins() int { return h.bins }

// Edges returns feature j's bin edges (Bins()+1 values, ascending),
// sharing storage.
func (h *Histograms) Edges(j int) []float64 { return h.edges[j*(h.bins+1) : (j+1)*(h.bins+1)] }

// Density returns feature j's bin densities, sharing storage.
func (h *Histograms) Density(j int) []float64 { return h.density[j*h.bins : (j+1)*h.bins] }

// Fit builds the histograms of the n rows of d features in x (row-major,
// finite values) with o's bins, alpha and tol. Each feature's range is
// its training minimum to maximum, widened to ±0.5 around a constant
// feature's value (as numpy.histogram does); its edges are
// numpy.linspace's over that range, to the last bit, and a value on an
// inner edge counts in the bin above it, the maximum in the last bin.
func Fit(ctx context.Context, x []float32, n, d int, o Options) (*Histograms, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if n < 1 || d < 1 || len(x) != n*d {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d features", ErrInput, len(x), n, d)
	}
	nb := o.Bins
	if d*(nb+1) > MaxCells {
		return nil, fmt.Errorf("%w: %d features × %d bins exceeds %d cells", ErrOption, d, nb, MaxCells)
	}
	workers := min(o.workers(), max(1, n*d/minWork))
	rows := (n + workers - 1) / workers

	// The range of each feature: per-worker minima and maxima, merged.
	lo, hi := make([]float64, workers*d), make([]float64, workers*d)
	err := parallel(ctx, workers, func(w int) {
		l, h := lo[w*d:(w+1)*d], hi[w*d:(w+1)*d]
		for j := range d {
			l[j], h[j] = math.Inf(1), math.Inf(-1)
		}
		for i := w * rows; i < min(n, (w+1)*rows); i++ {
			if i%checkRows == 0 && ctx.Err() != nil {
				return
			}
			for j, v := range x[i*d : (i+1)*d] {
				l[j] = min(l[j], float64(v))
				h[j] = max(h[j], float64(v))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	h := &Histograms{d: d, bins: nb, alpha: o.Alpha, tol: o.Tol, edges: make([]float64, d*(nb+1))}
	for j := range d {
		a, b := lo[j], hi[j]
		for w := 1; w < workers; w++ {
			a, b = min(a, lo[w*d+j]), max(b, hi[w*d+j])
		}
		if a == b {
			a, b = a-0.5, b+0.5
		}
		e := h.Edges(j)
		linspace(e, a, b)
		for i := range nb {
			if !(e[i] < e[i+1]) {
				return nil, fmt.Errorf("%w: feature %d spans [%v, %v], too narrow for %d bins at float64 precision", ErrInput, j, lo[j], hi[j], nb)
			}
		}
	}
	h.setScale()

	// The counts: per-worker, merged in worker order (integers: exact).
	counts := make([]int64, workers*d*nb)
	err = parallel(ctx, workers, func(w int) {
		c := counts[w*d*nb : (w+1)*d*nb]
		for i := w * rows; i < min(n, (w+1)*rows); i++ {
			if i%checkRows == 0 && ctx.Err() != nil {
				return
			}
			for j, v := range x[i*d : (i+1)*d] {
				c[j*nb+bin(h.Edges(j), h.scale[j], float64(v))]++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	h.density = make([]float64, d*nb)
	for j := range d {
		e := h.Edges(j)
		for i := range nb {
			var c int64
			for w := range workers {
				c += counts[(w*d+j)*nb+i]
			}
			// numpy: count / width / total, in that order.
			h.density[j*nb+i] = float64(c) / (e[i+1] - e[i]) / float64(n)
		}
	}
	h.derive()
	return h, nil
}

// setScale computes each feature's bins per unit of value, which gives
// bin its first guess.
func (h *Histograms) setScale() {
	h.scale = make([]float64, h.d)
	for j := range h.d {
		e := h.Edges(j)
		h.scale[j] = float64(h.bins) / (e[h.bins] - e[0])
	}
}

// derive computes the score terms from the densities (and the scales
// from the edges).
func (h *Histograms) derive() {
	h.setScale()
	h.logd = make([]float64, len(h.density))
	h.least = make([]float64, h.d)
	for j := range h.d {
		least := math.Inf(1)
		for i := range h.bins {
			v := math.Log2(h.density[j*h.bins+i] + h.alpha)
			h.logd[j*h.bins+i] = v
			least = min(least, v)
		}
		h.least[j] = least
	}
}

// linspace fills e with len(e) values from lo to hi as numpy.linspace
// computes them: e[i] = i·step + lo with step = (hi − lo)/(len(e)−1),
// rounded after each operation (never fused), the last exactly hi.
func linspace(e []float64, lo, hi float64) {
	div := float64(len(e) - 1)
	delta := hi - lo
	step := delta / div
	for i := range e {
		var y float64
		if step == 0 { // numpy's path for a denormal step
			y = float64(float64(i)/div) * delta
		} else {
			y = float64(float64(i) * step)
		}
		e[i] = y + lo
	}
	e[len(e)-1] = hi
}

// bin returns the bin of v among the edges e, for e[0] ≤ v ≤ e[last]:
// the i with e[i] ≤ v < e[i+1], the last bin for v = e[last] (as
// numpy.histogram counts). scale = bins/(e[last] − e[0]) gives a first
// guess, which the comparisons with the edges then correct.
func bin(e []float64, scale, v float64) int {
	nb := len(e) - 1
	f := (v - e[0]) * scale
	i := nb - 1
	if f < float64(nb-1) {
		i = max(0, int(f))
	}
	for i > 0 && v < e[i] {
		i--
	}
	for i < nb-1 && v >= e[i+1] {
		i++
	}
	return i
}

// term returns feature j's score term of value v: log2(density + alpha)
// of the bin v lies in. A value below the first edge (or at or above the
// last) by at most Tol bin widths counts in the edge bin; one further out
// scores the feature's least dense bin, as PyOD's HBOS does.
func (h *Histograms) term(j int, v float64) float64 {
	e := h.Edges(j)
	nb := h.bins
	logd := h.logd[j*nb : (j+1)*nb]
	switch {
	case v < e[0]:
		if e[0]-v <= (e[1]-e[0])*h.tol {
			return logd[0]
		}
		return h.least[j]
	case v >= e[nb]:
		if v-e[nb] <= (e[nb]-e[nb-1])*h.tol {
			return logd[nb-1]
		}
		return h.least[j]
	}
	return logd[bin(e, h.scale[j], v)]
}

// Score returns the HBOS score of each of the m rows of x (row-major, d
// features, finite): −Σ_j log2(density_j + alpha) over the features, the
// negated log of the product of the (regularised) densities. When attr
// is not nil it receives each row's per-feature terms −log2(density_j +
// alpha) (attr[i*d+j]), which add up to the score.
func (h *Histograms) Score(ctx context.Context, x []float32, m, workers int, attr []float32) ([]float64, error) {
	d := h.d
	if len(x) != m*d {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d features", ErrInput, len(x), m, d)
	}
	out := make([]float64, m)
	const block = 1024
	blocks := (m + block - 1) / block
	workers = min(workers, blocks, max(1, m*d/minWork))
	err := parallel(ctx, workers, func(w int) {
		for b := w; b < blocks; b += workers {
			if ctx.Err() != nil {
				return
			}
			for i := b * block; i < min(m, (b+1)*block); i++ {
				var s float64
				for j, v := range x[i*d : (i+1)*d] {
					t := -h.term(j, float64(v))
					s += t
					if attr != nil {
						attr[i*d+j] = float32(t)
					}
				}
				out[i] = s
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// minWork is the fewest values a goroutine is started for; checkRows is
// how many rows Fit's passes go between checks of their context.
const (
	minWork   = 1 << 15
	checkRows = 1 << 10
)

// parallel runs fn(w) for w = 0..workers−1 at once and returns ctx's
// error, which the caller's loops check between blocks.
func parallel(ctx context.Context, workers int, fn func(w int)) error {
	if workers <= 1 {
		fn(0)
		return ctx.Err()
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w)
		}()
	}
	wg.Wait()
	return ctx.Err()
}
