package spectral

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/kernels"
	"github.com/oddity-ml/oddity/kmeans"
)

// ErrInput is wrapped by every error about an unusable matrix or setting;
// it wraps detector.ErrInput.
var ErrInput = fmt.Errorf("spectral: %w", detector.ErrInput)

// DenseBelow is the size under which TopEigen always uses the dense
// solver: below it a full decomposition takes well under a second.
const DenseBelow = 300

// EigenOptions tunes TopEigen. The zero value is usable.
type EigenOptions struct {
	// Algebraic asks for the r largest eigenvalues (most positive) rather
	// than the r largest in magnitude.
	Algebraic bool
	// Oversample is the number of vectors iterated beyond the r wanted
	// ones; more make each iteration dearer and convergence faster when
	// the wanted eigenvalues are close to the next ones. 0 means
	// max(10, r/4).
	Oversample int
	// Tol is the relative residual ‖Av − θv‖/max|θ| at which every wanted
	// pair counts as converged; 0 means 1e-4 (the multiply is in float32,
	// whose rounding sits near 1e-6).
	Tol float64
	// MaxIter bounds the iterations; 0 means 300. The pairs reached by
	// then are returned with Converged false.
	MaxIter int
	// Seed drives the random starting block.
	Seed uint64
}

// Eigen holds eigenpairs of a symmetric matrix.
type Eigen struct {
	// Values are the eigenvalues, by decreasing magnitude (decreasing
	// value with EigenOptions.Algebraic).
	Values []float64
	// Vectors is n×r row-major: column j is the unit eigenvector of
	// Values[j].
	Vectors []float64
	// Iterations is the number of subspace iterations run (0 for the dense
	// solver).
	Iterations int
	// Residual is the largest ‖Av − θv‖/max|θ| of the returned pairs.
	Residual float64
	// Converged tells whether Residual reached Tol (always true for the
	// dense solver).
	Converged bool
}

// checkSquare verifies that a is an n×n finite symmetric matrix; the
// symmetry test allows float32 rounding relative to the largest entry.
func checkSquare(a []float32, n int) (maxAbs float64, err error) {
	if n < 1 {
		return 0, fmt.Errorf("%w: matrix of size %d", ErrInput, n)
	}
	if len(a) != n*n {
		return 0, fmt.Errorf("%w: %d values for a %d×%d matrix", ErrInput, len(a), n, n)
	}
	for _, v := range a {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%w: the matrix holds NaN or infinity", ErrInput)
		}
		maxAbs = max(maxAbs, math.Abs(f))
	}
	tol := 1e-5 * maxAbs
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if math.Abs(float64(a[i*n+j])-float64(a[j*n+i])) > tol {
				return 0, fmt.Errorf("%w: the matrix is not symmetric (entry %d,%d is %g, entry %d,%d is %g)", ErrInput, i, j, a[i*n+j], j, i, a[j*n+i])
			}
		}
	}
	return maxAbs, nil
}

// TopEigen returns the r eigenpairs of largest magnitude (or, with
// o.Algebraic, of largest value) of the symmetric n×n matrix a
// (row-major). It checks ctx between iterations.
func TopEigen(ctx context.Context, a []float32, n, r int, o EigenOptions) (*Eigen, error) {
	if _, err := checkSquare(a, n); err != nil {
		return nil, err
	}
	if r < 1 || r > n {
		return nil, fmt.Errorf("%w: %d eigenpairs of a %d×%d matrix", ErrInput, r, n, n)
	}
	if o.Oversample < 0 || o.MaxIter < 0 || math.IsNaN(o.Tol) || o.Tol < 0 {
		return nil, fmt.Errorf("%w: eigen options %+v", ErrInput, o)
	}
	over := o.Oversample
	if over == 0 {
		over = max(10, r/4)
	}
	b := min(n, r+over)
	if n <= DenseBelow || 4*b >= n {
		return denseTop(a, n, r, o.Algebraic)
	}
	tol := o.Tol
	if tol == 0 {
		tol = 1e-4
	}
	maxIter := o.MaxIter
	if maxIter == 0 {
		maxIter = 300
	}
	return subspaceTop(ctx, a, n, r, b, tol, maxIter, o.Seed, o.Algebraic)
}

// denseTop solves the whole problem with gonum's symmetric solver.
func denseTop(a []float32, n, r int, algebraic bool) (*Eigen, error) {
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, float64(a[i*n+j]))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, fmt.Errorf("spectral: the dense eigen-solver did not converge")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	order := ordered(vals, algebraic)
	e := &Eigen{Values: make([]float64, r), Vectors: make([]float64, n*r), Converged: true}
	for j := 0; j < r; j++ {
		e.Values[j] = vals[order[j]]
		for i := 0; i < n; i++ {
			e.Vectors[i*r+j] = vecs.At(i, order[j])
		}
	}
	return e, nil
}

// ordered returns the indices of vals by decreasing value (algebraic) or
// by decreasing |value|, ties by decreasing value, so the order is
// deterministic.
func ordered(vals []float64, algebraic bool) []int {
	order := make([]int, len(vals))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		vx, vy := vals[order[x]], vals[order[y]]
		if !algebraic {
			if ax, ay := math.Abs(vx), math.Abs(vy); ax != ay {
				return ax > ay
			}
		}
		return vx > vy
	})
	return order
}

// general wraps a row-major rows×cols slice for gonum's BLAS and LAPACK.
func general(data []float64, rows, cols int) blas64.General {
	return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: data}
}

// orthonormalize replaces the columns of the n×b matrix q by an
// orthonormal basis of their span (Householder QR, thin Q).
func orthonormalize(q []float64, n, b int) {
	g := general(q, n, b)
	tau := make([]float64, b)
	work := make([]float64, 1)
	lapack64.Geqrf(g, tau, work, -1)
	lw := int(work[0])
	lapack64.Orgqr(g, tau, work, -1)
	lw = max(lw, int(work[0]), b)
	work = make([]float64, lw)
	lapack64.Geqrf(g, tau, work, lw)
	lapack64.Orgqr(g, tau, work, lw)
}

// chebDegree is the degree of the Chebyshev filter of the algebraic
// iteration: each iteration multiplies by A this many times.
const chebDegree = 8

// multiplier computes A·X for n×b blocks X through the float32 SGEMM.
type multiplier struct {
	a        []float32
	n, b     int
	x32, y32 []float32
}

func newMultiplier(a []float32, n, b int) *multiplier {
	return &multiplier{a: a, n: n, b: b, x32: make([]float32, n*b), y32: make([]float32, n*b)}
}

// mul writes A·x into y.
func (m *multiplier) mul(x, y []float64) {
	for i, v := range x {
		m.x32[i] = float32(v)
	}
	kernels.Sgemm(false, false, m.n, m.b, m.n, 1, m.a, m.n, m.x32, m.b, 0, m.y32, m.b)
	for i, v := range m.y32 {
		y[i] = float64(v)
	}
}

// chebFilter replaces q by p(A)q, p the degree-chebDegree Chebyshev
// polynomial of the first kind mapped so that [lo, cut] goes to [-1, 1]:
// components there stay bounded by 1 while those above cut grow like
// cosh(degree·acosh(x)), far faster than a plain power step (Zhou and
// Saad, 2007). A global rescaling after each step keeps the numbers in
// range without changing any span.
func chebFilter(m *multiplier, q, prev, cur []float64, lo, cut float64) {
	e, c := (cut-lo)/2, (cut+lo)/2
	copy(prev, q)
	m.mul(prev, cur)
	for i := range cur {
		cur[i] = (cur[i] - c*prev[i]) / e
	}
	for k := 2; k <= chebDegree; k++ {
		m.mul(cur, q) // q is scratch here
		var top float64
		for i := range q {
			v := 2*(q[i]-c*cur[i])/e - prev[i]
			q[i] = v
			top = max(top, math.Abs(v))
		}
		if top == 0 {
			top = 1
		}
		for i := range q {
			prev[i] = cur[i] / top
			cur[i] = q[i] / top
		}
	}
	copy(q, cur)
}

// gershgorin returns max_i Σ_j |a_ij|, a bound on every |eigenvalue|.
func gershgorin(a []float32, n int) float64 {
	var top float64
	for i := 0; i < n; i++ {
		var s float64
		for _, v := range a[i*n : (i+1)*n] {
			s += math.Abs(float64(v))
		}
		top = max(top, s)
	}
	return top
}

// subspaceTop is block subspace iteration with Rayleigh–Ritz on b vectors.
// By magnitude, each iteration is one power step; with algebraic, one
// Chebyshev filter that damps everything between a lower bound of the
// spectrum (Gershgorin's) and the smallest Ritz value of the block.
func subspaceTop(ctx context.Context, a []float32, n, r, b int, tol float64, maxIter int, seed uint64, algebraic bool) (*Eigen, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5bec))
	q := make([]float64, n*b)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	orthonormalize(q, n, b)
	mul := newMultiplier(a, n, b)
	y := make([]float64, n*b)
	h := make([]float64, b*b)
	w := make([]float64, b*b)
	v := make([]float64, n*b)
	av := make([]float64, n*b)
	var prev, cur []float64
	lo := 0.0
	if algebraic {
		prev, cur = make([]float64, n*b), make([]float64, n*b)
		lo = -gershgorin(a, n)
	}
	hs := mat.NewSymDense(b, nil)
	var es mat.EigenSym
	var wd mat.Dense
	e := &Eigen{}
	cut := math.NaN()
	for it := 1; ; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if algebraic && cut > lo {
			chebFilter(mul, q, prev, cur, lo, cut)
			orthonormalize(q, n, b)
		}
		mul.mul(q, y)
		// H = QᵀAQ, symmetrised against rounding.
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, general(q, n, b), general(y, n, b), 0, general(h, b, b))
		for i := 0; i < b; i++ {
			for j := i; j < b; j++ {
				hs.SetSym(i, j, 0.5*(h[i*b+j]+h[j*b+i]))
			}
		}
		if !es.Factorize(hs, true) {
			return nil, fmt.Errorf("spectral: the Rayleigh–Ritz eigen-solver did not converge")
		}
		theta := es.Values(nil)
		es.VectorsTo(&wd)
		order := ordered(theta, algebraic)
		sorted := make([]float64, b)
		var scale float64
		for j, c := range order {
			sorted[j] = theta[c]
			scale = max(scale, math.Abs(theta[c]))
			for i := 0; i < b; i++ {
				w[i*b+j] = wd.At(i, c)
			}
		}
		// Ritz vectors V = QW and their images AV = YW.
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, general(q, n, b), general(w, b, b), 0, general(v, n, b))
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, general(y, n, b), general(w, b, b), 0, general(av, n, b))
		worst := 0.0
		if scale > 0 {
			for j := 0; j < r; j++ {
				var s float64
				for i := 0; i < n; i++ {
					d := av[i*b+j] - sorted[j]*v[i*b+j]
					s += d * d
				}
				worst = max(worst, math.Sqrt(s)/scale)
			}
		}
		if worst <= tol || it >= maxIter {
			e.Values = sorted[:r]
			e.Vectors = make([]float64, n*r)
			for i := 0; i < n; i++ {
				copy(e.Vectors[i*r:(i+1)*r], v[i*b:i*b+r])
			}
			e.Iterations, e.Residual, e.Converged = it, worst, worst <= tol
			return e, nil
		}
		if algebraic {
			copy(q, v) // filtered at the top of the next iteration
			cut = sorted[b-1]
		} else {
			copy(q, av)
			orthonormalize(q, n, b)
		}
	}
}

// Options configures Cluster.
type Options struct {
	// K is the number of clusters (at least 1, at most n).
	K int
	// NInit is the number of k-means++ restarts on the embedding; 0 means
	// 10.
	NInit int
	// Seed drives the eigen-solver's starting block and k-means.
	Seed uint64
	// Eigen tunes the eigen-solver (its Seed is replaced by Seed).
	Eigen EigenOptions
}

// Result is a spectral clustering.
type Result struct {
	// Labels holds one cluster in [0, K) per point.
	Labels []int
	// Embedding is the n×K row-normalised spectral embedding k-means ran
	// on.
	Embedding []float32
	// Values are the K largest eigenvalues of D^(-1/2) A D^(-1/2), in
	// decreasing order (1 for each connected component of the graph).
	Values []float64
	// Eigen reports the solver's iterations, residual and convergence.
	Eigen Eigen
}

// Cluster partitions the n points of the symmetric nonnegative affinity a
// (n×n, row-major) into o.K clusters by normalised spectral clustering
// (package comment). It checks ctx between iterations.
func Cluster(ctx context.Context, a []float32, n int, o Options) (*Result, error) {
	if _, err := checkSquare(a, n); err != nil {
		return nil, err
	}
	if o.K < 1 || o.K > n {
		return nil, fmt.Errorf("%w: %d clusters of %d points", ErrInput, o.K, n)
	}
	deg := make([]float64, n)
	for i := 0; i < n; i++ {
		var s float64
		for j, v := range a[i*n : (i+1)*n] {
			if v < 0 {
				return nil, fmt.Errorf("%w: negative affinity %g at %d,%d", ErrInput, v, i, j)
			}
			s += float64(v)
		}
		if s > 0 {
			deg[i] = 1 / math.Sqrt(s)
		}
	}
	m := make([]float32, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			m[i*n+j] = float32(deg[i] * float64(a[i*n+j]) * deg[j])
		}
	}
	eo := o.Eigen
	eo.Seed, eo.Algebraic = o.Seed, true
	e, err := TopEigen(ctx, m, n, o.K, eo)
	if err != nil {
		return nil, err
	}
	k := o.K
	res := &Result{Embedding: make([]float32, n*k), Values: make([]float64, k), Eigen: *e}
	res.Eigen.Vectors = nil
	copy(res.Values, e.Values)
	for i := 0; i < n; i++ {
		row := e.Vectors[i*k : (i+1)*k]
		var s float64
		for _, x := range row {
			s += x * x
		}
		if s > 0 {
			s = 1 / math.Sqrt(s)
		}
		for j, x := range row {
			res.Embedding[i*k+j] = float32(x * s)
		}
	}
	km, err := kmeans.Fit(ctx, res.Embedding, n, k, kmeans.Options{K: k, NInit: o.NInit, Seed: o.Seed})
	if err != nil {
		return nil, fmt.Errorf("spectral: k-means on the embedding: %w", err)
	}
	res.Labels = km.Labels
	return res, nil
}
