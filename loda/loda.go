package loda

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/oddity-ml/oddity/detector"
)

// ErrInput reports data LODA cannot take. It wraps detector.ErrInput.
var ErrInput = fmt.Errorf("loda: %w", detector.ErrInput)

// pseudoCount is added to every bin's count before the counts are
// normalised, as PyOD does (1e-12), so that an empty bin has a tiny but
// positive probability: a projected value in it costs about 27.6 + log n
// nats, not an infinite score.
const pseudoCount = 1e-12

// stream is the second word of every projection's PCG seed ("LODA").
const stream = 0x4c4f4441

// projectionRand returns projection t's random source. The first seed
// word mixes the seed and t through splitmix64: PCG states that differ
// by one (seed, t and t+1 taken as they are) give related sequences, and
// projections drawn from them were measurably less diverse (a lower mean
// AUC-ROC than the NumPy reference's on the ADBench files).
func projectionRand(seed uint64, t int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed^splitmix64(uint64(t))), stream))
}

// splitmix64 is Steele, Lea and Flood's 64-bit mixing function.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Ensemble is a fitted LODA model: k sparse projections, each with the
// histogram of the training data projected on it. It is read-only once
// built and safe for concurrent use.
type Ensemble struct {
	d, k, m, bins int
	// feat[t*m+i] and w[t*m+i] are projection t's i-th feature (ascending)
	// and weight.
	feat []int32
	w    []float32
	// edges[t*(bins+1)+b] are projection t's bin edges; density[t*bins+b]
	// its bins' densities; nlog[t*bins+b] = −log density.
	edges, density, nlog []float64
}

// Nonzero returns the number of features each projection of data with d
// features reads: ⌊√d⌋ (at least 1), the paper's d^{1/2}.
func Nonzero(d int) int { return max(1, int(math.Sqrt(float64(d)))) }

// Fit draws o.Projections sparse projections for rows of d features and
// builds each one's histogram of the n training rows of x (row-major,
// finite), with o.Bins equal-width bins over the projected training range
// (widened to ±0.5 when it is a single value, as numpy.histogram does).
// Projection t draws from its own PCG source seeded from (o.Seed, t): its
// ⌊√d⌋ features uniformly without replacement, and a weight for each from
// N(0, 1) (rounded to float32). The result does not depend on o.Workers.
func Fit(ctx context.Context, x []float32, n, d int, o Options) (*Ensemble, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if n < 1 || d < 1 || len(x) != n*d {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d features", ErrInput, len(x), n, d)
	}
	k, nb, m := o.Projections, o.Bins, Nonzero(d)
	e := &Ensemble{d: d, k: k, m: m, bins: nb,
		feat: make([]int32, k*m), w: make([]float32, k*m),
		edges: make([]float64, k*(nb+1)), density: make([]float64, k*nb), nlog: make([]float64, k*nb)}
	workers := min(o.workers(), k)
	var (
		mu      sync.Mutex
		next    int
		failure error
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z := make([]float64, n)
			perm := make([]int32, d)
			counts := make([]int64, nb)
			for ctx.Err() == nil {
				mu.Lock()
				t := next
				next++
				mu.Unlock()
				if t >= k {
					return
				}
				e.draw(t, o.Seed, perm)
				if err := e.fitHistogram(t, x, n, z, counts); err != nil {
					mu.Lock()
					failure = err
					next = k
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, failure
	}
	return e, nil
}

// draw draws projection t: m features without replacement (a partial
// Fisher–Yates shuffle), sorted, and their N(0, 1) weights.
func (e *Ensemble) draw(t int, seed uint64, perm []int32) {
	r := projectionRand(seed, t)
	for i := range perm {
		perm[i] = int32(i)
	}
	for i := range e.m {
		j := i + r.IntN(e.d-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	f := e.feat[t*e.m : (t+1)*e.m]
	copy(f, perm[:e.m])
	slices.Sort(f)
	for i := range f {
		e.w[t*e.m+i] = float32(r.NormFloat64())
	}
}

// project returns row's projection on t: Σ_i w_i·row[feat_i], in float64,
// features in ascending order.
func (e *Ensemble) project(t int, row []float32) float64 {
	var s float64
	w := e.w[t*e.m : (t+1)*e.m]
	for i, f := range e.feat[t*e.m : (t+1)*e.m] {
		s += float64(w[i]) * float64(row[f])
	}
	return s
}

// fitHistogram projects the training rows on t and builds t's histogram:
// counts by numpy.histogram's rule, probabilities (count + 1e-12)
// normalised to sum 1, densities probability / width.
func (e *Ensemble) fitHistogram(t int, x []float32, n int, z []float64, counts []int64) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range n {
		v := e.project(t, x[i*e.d:(i+1)*e.d])
		z[i] = v
		lo, hi = min(lo, v), max(hi, v)
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return fmt.Errorf("%w: projection %d overflows", ErrInput, t)
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	nb := e.bins
	edges := e.edges[t*(nb+1) : (t+1)*(nb+1)]
	linspace(edges, lo, hi)
	for b := range nb {
		if !(edges[b] < edges[b+1]) {
			return fmt.Errorf("%w: projection %d spans [%v, %v], too narrow for %d bins at float64 precision", ErrInput, t, lo, hi, nb)
		}
	}
	clear(counts)
	for _, v := range z[:n] {
		counts[bin(edges, v)]++
	}
	total := float64(n) + float64(nb)*pseudoCount
	for b, c := range counts {
		p := (float64(c) + pseudoCount) / total
		dens := p / (edges[b+1] - edges[b])
		e.density[t*nb+b] = dens
		e.nlog[t*nb+b] = -math.Log(dens)
	}
	return nil
}

// Score returns the LODA score of each of the m rows of x (row-major, d
// features, finite): −(1/k) Σ_t log p̂_t(w_tᵀx), the mean over the
// projections of the negated log density of the projected value. A value
// outside a histogram's range takes its edge bin's density.
func (e *Ensemble) Score(ctx context.Context, x []float32, m, workers int) ([]float64, error) {
	if len(x) != m*e.d {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d features", ErrInput, len(x), m, e.d)
	}
	out := make([]float64, m)
	if m == 0 {
		return out, ctx.Err()
	}
	const block = 256
	blocks := (m + block - 1) / block
	workers = max(1, min(workers, blocks, m*e.k*e.m/minWork))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nb := e.bins
			for b := w; b < blocks; b += workers {
				if ctx.Err() != nil {
					return
				}
				for i := b * block; i < min(m, (b+1)*block); i++ {
					row := x[i*e.d : (i+1)*e.d]
					var s float64
					for t := range e.k {
						edges := e.edges[t*(nb+1) : (t+1)*(nb+1)]
						v := e.project(t, row)
						var c int
						switch {
						case v < edges[0]:
							c = 0
						case v >= edges[nb]:
							c = nb - 1
						default:
							c = bin(edges, v)
						}
						s += e.nlog[t*nb+c]
					}
					out[i] = s / float64(e.k)
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// minWork is about the fewest multiply-adds a scoring goroutine is
// started for.
const minWork = 1 << 16

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
// numpy.histogram counts).
func bin(e []float64, v float64) int {
	nb := len(e) - 1
	f := (v - e[0]) / (e[nb] - e[0]) * float64(nb)
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
