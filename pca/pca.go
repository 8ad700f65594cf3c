package pca

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/matrix"
)

// Sentinel errors. ErrOption is declared with Options.
var (
	// ErrInput reports unusable data (shape, NaN, infinity). It wraps
	// detector.ErrInput.
	ErrInput = fmt.Errorf("pca: %w", detector.ErrInput)
	// ErrNoConvergence reports that the decomposition did not converge.
	ErrNoConvergence = errors.New("pca: decomposition failed")
)

// PCA is a fitted model.
type PCA struct {
	// Dim is the number of input features.
	Dim int
	// NComponents is the number of axes kept.
	NComponents int
	// Mean is the per-feature mean of the training rows.
	Mean []float64
	// Components holds NComponents unit-length axes of Dim values each,
	// row-major, by decreasing variance.
	Components []float64
	// ExplainedVariance is the variance of the training rows along each
	// axis (divisor n-1, as scikit-learn).
	ExplainedVariance []float64
	// ExplainedVarianceRatio is ExplainedVariance divided by TotalVariance.
	ExplainedVarianceRatio []float64
	// TotalVariance is the sum of the per-feature variances (divisor n-1).
	TotalVariance float64
}

func checkMatrix(x []float32, n, d int) error {
	if err := matrix.Check(x, n, d); err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	return nil
}

// Fit computes the principal axes of the n x d row-major matrix x (n >= 2):
// Options.Components(d) of them, at most min(n, d). opt must be valid
// (Options.Validate).
func Fit(x []float32, n, d int, opt Options) (*PCA, error) {
	return fit(context.Background(), x, n, d, opt)
}

// fit is Fit, stopping with ctx's error between blocks of the covariance
// once ctx is done.
func fit(ctx context.Context, x []float32, n, d int, opt Options) (*PCA, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := checkMatrix(x, n, d); err != nil {
		return nil, fmt.Errorf("pca fit: %w", err)
	}
	if n < 2 {
		return nil, fmt.Errorf("pca fit: %w: %d row; variance needs at least 2", ErrInput, n)
	}
	k := opt.Components(d)
	if k > min(n, d) {
		return nil, fmt.Errorf("pca fit: %w: components = %d: %d axes of %d rows of %d features; at most min(n, d) = %d", ErrOption, opt.NComponents, k, n, d, min(n, d))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	method := opt.Solver
	if method == Auto {
		method = SVD
		if n >= d {
			method = Covariance
		}
	}
	p := &PCA{Dim: d, NComponents: k, Mean: make([]float64, d)}
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : i*d+d] {
			p.Mean[j] += float64(v)
		}
	}
	for j := range p.Mean {
		p.Mean[j] /= float64(n)
	}
	var values []float64 // variances along all axes, decreasing
	axes := mat.NewDense(d, k, nil)
	switch method {
	case Covariance:
		cov, err := covariance(ctx, x, n, d, p.Mean, opt.Workers)
		if err != nil {
			return nil, err
		}
		var eig mat.EigenSym
		if !eig.Factorize(cov, true) {
			return nil, fmt.Errorf("pca fit: %w: symmetric eigendecomposition of %dx%d covariance", ErrNoConvergence, d, d)
		}
		asc := eig.Values(nil)
		var vec mat.Dense
		eig.VectorsTo(&vec)
		values = make([]float64, d)
		for c := 0; c < d; c++ {
			values[c] = max(asc[d-1-c], 0) // round-off can make a zero eigenvalue slightly negative
			if c < k {
				for j := 0; j < d; j++ {
					axes.Set(j, c, vec.At(j, d-1-c))
				}
			}
		}
	case SVD:
		cen := mat.NewDense(n, d, nil)
		for i := 0; i < n; i++ {
			for j, v := range x[i*d : i*d+d] {
				cen.Set(i, j, float64(v)-p.Mean[j])
			}
		}
		var svd mat.SVD
		if !svd.Factorize(cen, mat.SVDThin) {
			return nil, fmt.Errorf("pca fit: %w: SVD of %dx%d data", ErrNoConvergence, n, d)
		}
		s := svd.Values(nil)
		var v mat.Dense
		svd.VTo(&v)
		values = make([]float64, len(s))
		for c, sv := range s {
			values[c] = sv * sv / float64(n-1)
		}
		for c := 0; c < k; c++ {
			for j := 0; j < d; j++ {
				axes.Set(j, c, v.At(j, c))
			}
		}
	default:
		return nil, fmt.Errorf("pca fit: %w: solver = %d: unknown", ErrOption, method)
	}
	// Total variance straight from the data, so the ratio is right even
	// when only k axes were kept.
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : i*d+d] {
			t := float64(v) - p.Mean[j]
			p.TotalVariance += t * t
		}
	}
	p.TotalVariance /= float64(n - 1)
	p.Components = make([]float64, k*d)
	p.ExplainedVariance = values[:k:k]
	p.ExplainedVarianceRatio = make([]float64, k)
	for c := 0; c < k; c++ {
		row := p.Components[c*d : c*d+d]
		big := 0
		for j := 0; j < d; j++ {
			row[j] = axes.At(j, c)
			if math.Abs(row[j]) > math.Abs(row[big]) {
				big = j
			}
		}
		if row[big] < 0 {
			for j := range row {
				row[j] = -row[j]
			}
		}
		if p.TotalVariance > 0 {
			p.ExplainedVarianceRatio[c] = p.ExplainedVariance[c] / p.TotalVariance
		}
	}
	return p, nil
}

// covariance accumulates the d x d covariance (divisor n-1) of the rows
// centred on mean. The rows are cut into a number of parts fixed by n and d
// alone; parts are accumulated in parallel, each in blocks converted to
// float64, and summed in part order, so the result does not depend on the
// number of workers. It returns ctx's error when ctx is done before the
// last block.
func covariance(ctx context.Context, x []float32, n, d int, mean []float64, workers int) (*mat.SymDense, error) {
	const block = 1024
	parts := min((n+block-1)/block, 8, max(1, (256<<20)/(8*d*d)))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	partial := make([]*mat.SymDense, parts)
	var wg sync.WaitGroup
	next := make(chan int, parts)
	for q := 0; q < parts; q++ {
		next <- q
	}
	close(next)
	for w := 0; w < min(workers, parts); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float64, block*d)
			for q := range next {
				c := mat.NewSymDense(d, nil)
				for lo := q * n / parts; lo < (q+1)*n/parts; lo += block {
					if ctx.Err() != nil {
						break
					}
					hi := min((q+1)*n/parts, lo+block)
					b := buf[:(hi-lo)*d]
					for i := lo; i < hi; i++ {
						for j, v := range x[i*d : i*d+d] {
							b[(i-lo)*d+j] = float64(v) - mean[j]
						}
					}
					c.SymRankK(c, 1/float64(n-1), mat.NewDense(hi-lo, d, b).T())
				}
				partial[q] = c
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cov := partial[0]
	for _, c := range partial[1:] {
		cov.AddSym(cov, c)
	}
	return cov, nil
}

func (p *PCA) check(what string) error {
	if p == nil || p.Dim <= 0 || p.NComponents <= 0 || len(p.Mean) != p.Dim || len(p.Components) != p.NComponents*p.Dim {
		return fmt.Errorf("pca %s: %w: model not fitted", what, ErrInput)
	}
	return nil
}

// Transform projects the n x Dim rows of x onto the axes, returning n x
// NComponents scores, row-major.
func (p *PCA) Transform(x []float32, n int) ([]float64, error) {
	if err := p.check("transform"); err != nil {
		return nil, err
	}
	if err := checkMatrix(x, n, p.Dim); err != nil {
		return nil, fmt.Errorf("pca transform: %w", err)
	}
	d, k := p.Dim, p.NComponents
	z := make([]float64, n*k)
	cen := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : i*d+d] {
			cen[j] = float64(v) - p.Mean[j]
		}
		for c := 0; c < k; c++ {
			var s float64
			for j, a := range p.Components[c*d : c*d+d] {
				s += a * cen[j]
			}
			z[i*k+c] = s
		}
	}
	return z, nil
}

// InverseTransform maps n x NComponents scores back to n x Dim rows:
// mean + z * Components.
func (p *PCA) InverseTransform(z []float64, n int) ([]float64, error) {
	if err := p.check("inverse transform"); err != nil {
		return nil, err
	}
	d, k := p.Dim, p.NComponents
	if n <= 0 || len(z) != n*k {
		return nil, fmt.Errorf("pca inverse transform: %w: %d values for %d rows x %d components", ErrInput, len(z), n, k)
	}
	x := make([]float64, n*d)
	for i := 0; i < n; i++ {
		row := x[i*d : i*d+d]
		copy(row, p.Mean)
		for c := 0; c < k; c++ {
			zc := z[i*k+c]
			for j, a := range p.Components[c*d : c*d+d] {
				row[j] += zc * a
			}
		}
	}
	return x, nil
}

// ReconstructionError returns, for each of the n x Dim rows of x, the
// squared Euclidean distance between the row and its reconstruction from
// the kept axes: an anomaly score, higher = farther from the principal
// subspace of the training data.
func (p *PCA) ReconstructionError(x []float32, n int) ([]float64, error) {
	z, err := p.Transform(x, n)
	if err != nil {
		return nil, fmt.Errorf("pca reconstruction error: %w", err)
	}
	r, _ := p.InverseTransform(z, n)
	d := p.Dim
	e := make([]float64, n)
	for i := 0; i < n; i++ {
		var s float64
		for j, v := range x[i*d : i*d+d] {
			t := float64(v) - r[i*d+j]
			s += t * t
		}
		e[i] = s
	}
	return e, nil
}
