// Package kmeans owns k-means clustering: Lloyd's algorithm with greedy
// k-means++ initialisation, restarted NInit times keeping the run of lowest
// inertia, as scikit-learn's KMeans(algorithm="lloyd") does. It initialises
// the deep clustering centroids (best of 20 k-means++ runs on the embedding)
// and serves as a baseline clusterer and detector (distance to the nearest
// centroid).
//
// It is written by hand because gonum has no k-means and the project needs
// scikit-learn's exact recipe (greedy k-means++ with 2+ln(k) local trials,
// tolerance relative to the mean feature variance, relocation of empty
// clusters to the farthest points) with seeded, scheduling-independent
// results. Data are float32; distances, sums and centroids are float64. The
// assignment step runs in parallel over a fixed partition of the rows whose
// partial sums are combined in partition order, so results are bit-for-bit
// identical for a given seed whatever the number of workers.
package kmeans

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/oddity-ml/oddity/internal/matrix"
)

// Sentinel errors.
var (
	// ErrInput reports unusable data (shape, NaN, infinity, fewer rows than
	// clusters).
	ErrInput = errors.New("kmeans: bad input")
	// ErrOption reports an invalid option.
	ErrOption = errors.New("kmeans: bad option")
)

// Options configures Fit. The zero value of a field other than K selects its
// default.
type Options struct {
	// K is the number of clusters (required, >= 1).
	K int
	// NInit is the number of k-means++ restarts; the run of lowest inertia
	// is kept. 0 means 10 (scikit-learn's default before 1.4).
	NInit int
	// MaxIter bounds the Lloyd iterations of each run; 0 means 300.
	MaxIter int
	// Tol stops a run when the summed squared centroid shift falls to
	// Tol * (mean over features of the feature variance) or below; 0 means
	// 1e-4. A run also stops when no label changes. For no tolerance use
	// a tiny positive value such as 1e-300.
	Tol float64
	// Seed seeds every random choice.
	Seed uint64
	// Workers bounds the goroutines of the assignment step; 0 means
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
	// Init, when set, gives the K x d initial centroids (row-major) and
	// replaces k-means++; NInit must then be 0 or 1.
	Init []float64
}

// Result is a fitted clustering.
type Result struct {
	// K and Dim are the number of clusters and of features.
	K, Dim int
	// Centroids holds K x Dim centroids, row-major.
	Centroids []float64
	// Labels holds the cluster of each training row (its nearest centroid).
	Labels []int
	// Inertia is the sum of squared distances of the rows to their
	// centroids.
	Inertia float64
	// NIter is the number of Lloyd iterations of the kept run.
	NIter int
	// History holds, for the kept run, the inertia at each iteration's
	// assignment step (rows assigned to the nearest centroid of the
	// previous update); it never increases.
	History []float64
}

func (o Options) withDefaults(n, d int) (Options, error) {
	if o.NInit == 0 {
		o.NInit = 10
		if o.Init != nil {
			o.NInit = 1
		}
	}
	if o.MaxIter == 0 {
		o.MaxIter = 300
	}
	if o.Tol == 0 {
		o.Tol = 1e-4
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case o.K < 1:
		return o, fmt.Errorf("%w: K = %d", ErrOption, o.K)
	case o.K > n:
		return o, fmt.Errorf("%w: K = %d clusters for %d rows", ErrInput, o.K, n)
	case o.NInit < 0 || o.MaxIter < 0 || o.Workers < 0:
		return o, fmt.Errorf("%w: NInit %d, MaxIter %d, Workers %d", ErrOption, o.NInit, o.MaxIter, o.Workers)
	case !(o.Tol > 0) || math.IsInf(o.Tol, 0):
		return o, fmt.Errorf("%w: Tol %v", ErrOption, o.Tol)
	case o.Init != nil && len(o.Init) != o.K*d:
		return o, fmt.Errorf("%w: Init has %d values, want K*d = %d", ErrOption, len(o.Init), o.K*d)
	case o.Init != nil && o.NInit != 1:
		return o, fmt.Errorf("%w: NInit %d with explicit Init", ErrOption, o.NInit)
	}
	for i, v := range o.Init {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return o, fmt.Errorf("%w: Init[%d] = %v", ErrOption, i, v)
		}
	}
	return o, nil
}

func checkMatrix(x []float32, n, d int) error {
	if err := matrix.Check(x, n, d); err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	return nil
}

// Fit clusters the n x d row-major matrix x. ctx is checked between
// iterations.
func Fit(ctx context.Context, x []float32, n, d int, opt Options) (*Result, error) {
	if err := checkMatrix(x, n, d); err != nil {
		return nil, fmt.Errorf("kmeans fit: %w", err)
	}
	opt, err := opt.withDefaults(n, d)
	if err != nil {
		return nil, fmt.Errorf("kmeans fit: %w", err)
	}
	e := newEngine(x, n, d, opt.K, opt.Workers)
	tol := opt.Tol * meanVariance(x, n, d)
	var best *Result
	for run := 0; run < opt.NInit; run++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kmeans fit: %w", err)
		}
		var init []float64
		if opt.Init != nil {
			init = slices.Clone(opt.Init)
		} else {
			rng := rand.New(rand.NewPCG(opt.Seed, 0x6b6d65616e73^uint64(run)*0x9e3779b97f4a7c15))
			init = e.plusPlus(rng)
		}
		r, err := e.lloyd(ctx, init, opt.MaxIter, tol)
		if err != nil {
			return nil, fmt.Errorf("kmeans fit: run %d: %w", run, err)
		}
		if best == nil || r.Inertia < best.Inertia {
			best = r
		}
	}
	return best, nil
}

// meanVariance is the mean over features of the population variance.
func meanVariance(x []float32, n, d int) float64 {
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : i*d+d] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	var s float64
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : i*d+d] {
			t := float64(v) - mean[j]
			s += t * t
		}
	}
	return s / float64(n) / float64(d)
}

// engine holds the data and the fixed row partition.
type engine struct {
	x          []float32
	n, d, k    int
	workers    int
	parts      [][2]int // row ranges, fixed by n only
	partSums   [][]float64
	partCounts [][]int64
	partInert  []float64
	partMoved  []int
}

const maxParts = 32

func newEngine(x []float32, n, d, k, workers int) *engine {
	e := &engine{x: x, n: n, d: d, k: k, workers: workers}
	np := min(maxParts, (n+1023)/1024)
	for p := 0; p < np; p++ {
		e.parts = append(e.parts, [2]int{p * n / np, (p + 1) * n / np})
	}
	e.partSums = make([][]float64, np)
	e.partCounts = make([][]int64, np)
	for p := range e.parts {
		e.partSums[p] = make([]float64, k*d)
		e.partCounts[p] = make([]int64, k)
	}
	e.partInert = make([]float64, np)
	e.partMoved = make([]int, np)
	return e
}

// forParts runs f on every partition, in parallel.
func (e *engine) forParts(f func(p, lo, hi int)) {
	w := min(e.workers, len(e.parts))
	if w <= 1 {
		for p, r := range e.parts {
			f(p, r[0], r[1])
		}
		return
	}
	var wg sync.WaitGroup
	ch := make(chan int, len(e.parts))
	for p := range e.parts {
		ch <- p
	}
	close(ch)
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				f(p, e.parts[p][0], e.parts[p][1])
			}
		}()
	}
	wg.Wait()
}

func sqDist(row []float32, c []float64) float64 {
	var s float64
	c = c[:len(row)]
	for j, v := range row {
		t := float64(v) - c[j]
		s += t * t
	}
	return s
}

// nearest returns the index of the centroid nearest to row and the squared
// distance (ties go to the lower index). buf (length d) receives the row in
// float64; two centroids are measured per pass over it.
func nearest(row []float32, buf, centers []float64, k, d int) (int, float64) {
	buf = buf[:len(row)]
	for j, v := range row {
		buf[j] = float64(v)
	}
	best, bd := 0, math.Inf(1)
	c := 0
	for ; c+2 <= k; c += 2 {
		c0 := centers[c*d : c*d+d]
		c1 := centers[(c+1)*d : (c+2)*d]
		c0 = c0[:len(buf)]
		c1 = c1[:len(buf)]
		var s0, s1 float64
		for j, v := range buf {
			t0 := v - c0[j]
			t1 := v - c1[j]
			s0 += t0 * t0
			s1 += t1 * t1
		}
		if s0 < bd {
			best, bd = c, s0
		}
		if s1 < bd {
			best, bd = c+1, s1
		}
	}
	if c < k {
		c0 := centers[c*d : c*d+d]
		c0 = c0[:len(buf)]
		var s0 float64
		for j, v := range buf {
			t0 := v - c0[j]
			s0 += t0 * t0
		}
		if s0 < bd {
			best, bd = c, s0
		}
	}
	return best, bd
}

// assign sets labels to the nearest centroids, accumulates per-partition
// sums and counts, and returns the inertia and the number of labels that
// changed.
func (e *engine) assign(centers []float64, labels []int, accumulate bool) (float64, int) {
	d, k := e.d, e.k
	e.forParts(func(p, lo, hi int) {
		sums, counts := e.partSums[p], e.partCounts[p]
		if accumulate {
			clear(sums)
			clear(counts)
		}
		var inert float64
		moved := 0
		buf := make([]float64, d)
		for i := lo; i < hi; i++ {
			row := e.x[i*d : i*d+d]
			c, dd := nearest(row, buf, centers, k, d)
			inert += dd
			if labels[i] != c {
				moved++
				labels[i] = c
			}
			if accumulate {
				counts[c]++
				s := sums[c*d : c*d+d]
				for j, v := range row {
					s[j] += float64(v)
				}
			}
		}
		e.partInert[p] = inert
		e.partMoved[p] = moved
	})
	var inert float64
	moved := 0
	for p := range e.parts {
		inert += e.partInert[p]
		moved += e.partMoved[p]
	}
	return inert, moved
}

// lloyd runs Lloyd's iterations from init.
func (e *engine) lloyd(ctx context.Context, init []float64, maxIter int, tol float64) (*Result, error) {
	n, d, k := e.n, e.d, e.k
	centers := init
	next := make([]float64, k*d)
	counts := make([]int64, k)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	r := &Result{K: k, Dim: d}
	for it := 0; it < maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		inert, moved := e.assign(centers, labels, true)
		r.History = append(r.History, inert)
		r.NIter = it + 1
		// Combine partition sums in order.
		clear(next)
		clear(counts)
		for p := range e.parts {
			for c := 0; c < k; c++ {
				counts[c] += e.partCounts[p][c]
			}
			for j, v := range e.partSums[p] {
				next[j] += v
			}
		}
		relocated := e.relocateEmpty(centers, labels, next, counts)
		var shift float64
		for c := 0; c < k; c++ {
			cs := next[c*d : c*d+d]
			inv := 1 / float64(counts[c])
			for j := range cs {
				cs[j] *= inv
				t := cs[j] - centers[c*d+j]
				shift += t * t
			}
		}
		centers, next = next, centers
		if !relocated && (moved == 0 || shift <= tol) {
			break
		}
	}
	// Final assignment so labels and inertia match the returned centroids.
	r.Inertia, _ = e.assign(centers, labels, false)
	r.Centroids = centers
	r.Labels = labels
	return r, nil
}

// relocateEmpty gives each empty cluster the row farthest from its current
// centroid (largest distances first, ties to the lower row), moving that
// row's contribution out of its old cluster's sum, as scikit-learn does. It
// reports whether any cluster was empty.
func (e *engine) relocateEmpty(centers []float64, labels []int, sums []float64, counts []int64) bool {
	var empty []int
	for c, m := range counts {
		if m == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return false
	}
	d := e.d
	type far struct {
		i    int
		dist float64
	}
	fars := make([]far, e.n)
	for i := range fars {
		row := e.x[i*d : i*d+d]
		fars[i] = far{i, sqDist(row, centers[labels[i]*d:labels[i]*d+d])}
	}
	slices.SortFunc(fars, func(a, b far) int {
		if c := cmp.Compare(b.dist, a.dist); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	for t, c := range empty {
		i := fars[t].i
		old := labels[i]
		row := e.x[i*d : i*d+d]
		for j, v := range row {
			sums[old*d+j] -= float64(v)
			sums[c*d+j] = float64(v)
		}
		counts[old]--
		counts[c] = 1
		if counts[old] == 0 {
			// Only possible when the old cluster held this row alone;
			// keep its centroid where it was.
			copy(sums[old*d:old*d+d], centers[old*d:old*d+d])
			counts[old] = 1
		}
	}
	return true
}

// plusPlus chooses k initial centroids by greedy k-means++: the first row
// uniformly at random; then, k-1 times, 2+floor(ln k) candidate rows drawn
// with probability proportional to their squared distance to the nearest
// chosen centroid, keeping the candidate that most reduces the total.
func (e *engine) plusPlus(rng *rand.Rand) []float64 {
	n, d, k := e.n, e.d, e.k
	centers := make([]float64, k*d)
	trials := 2 + int(math.Log(float64(k)))
	first := rng.IntN(n)
	setRow := func(c, i int) {
		for j, v := range e.x[i*d : i*d+d] {
			centers[c*d+j] = float64(v)
		}
	}
	setRow(0, first)
	closest := make([]float64, n)
	e.forParts(func(p, lo, hi int) {
		for i := lo; i < hi; i++ {
			closest[i] = sqDist(e.x[i*d:i*d+d], centers[:d])
		}
	})
	pot := e.sumParts(closest)
	cum := make([]float64, n)
	cand := make([][]float64, trials)
	for t := range cand {
		cand[t] = make([]float64, n)
	}
	candRows := make([]int, trials)
	candPot := make([]float64, trials)
	cvec := make([][]float64, trials)
	for t := range cvec {
		cvec[t] = make([]float64, d)
	}
	for c := 1; c < k; c++ {
		var s float64
		for i, v := range closest {
			s += v
			cum[i] = s
		}
		for t := 0; t < trials; t++ {
			v := rng.Float64() * pot
			i, _ := slices.BinarySearch(cum, v) // first cum[i] >= v
			candRows[t] = min(i, n-1)
			for j, x := range e.x[candRows[t]*d : candRows[t]*d+d] {
				cvec[t][j] = float64(x)
			}
		}
		e.forParts(func(p, lo, hi int) {
			for i := lo; i < hi; i++ {
				row := e.x[i*d : i*d+d]
				for t := 0; t < trials; t++ {
					cand[t][i] = min(closest[i], sqDist(row, cvec[t]))
				}
			}
		})
		bestT := 0
		for t := 0; t < trials; t++ {
			candPot[t] = e.sumParts(cand[t])
			if candPot[t] < candPot[bestT] {
				bestT = t
			}
		}
		pot = candPot[bestT]
		copy(closest, cand[bestT])
		setRow(c, candRows[bestT])
	}
	return centers
}

// sumParts sums v partition by partition, in partition order.
func (e *engine) sumParts(v []float64) float64 {
	var s float64
	for _, r := range e.parts {
		var ps float64
		for _, x := range v[r[0]:r[1]] {
			ps += x
		}
		s += ps
	}
	return s
}

// Predict returns the nearest centroid of each row of the n x Dim matrix x
// and the squared distance to it (a distance-based anomaly score).
func (r *Result) Predict(x []float32, n int) (labels []int, dist2 []float64, err error) {
	if r == nil || r.K == 0 || len(r.Centroids) != r.K*r.Dim {
		return nil, nil, fmt.Errorf("kmeans predict: %w: no fitted centroids", ErrInput)
	}
	if err := checkMatrix(x, n, r.Dim); err != nil {
		return nil, nil, fmt.Errorf("kmeans predict: %w", err)
	}
	labels = make([]int, n)
	dist2 = make([]float64, n)
	d := r.Dim
	buf := make([]float64, d)
	for i := 0; i < n; i++ {
		labels[i], dist2[i] = nearest(x[i*d:i*d+d], buf, r.Centroids, r.K, d)
	}
	return labels, dist2, nil
}
