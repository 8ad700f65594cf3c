package tsne

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"
)

// Init names how the embedding is initialised.
type Init string

const (
	// InitPCA starts from the first two principal components of the input,
	// scaled so the first has standard deviation 1e-4 (scikit-learn's default).
	InitPCA Init = "pca"
	// InitRandom starts from N(0, 1e-4²) draws.
	InitRandom Init = "random"
)

// ErrBadInput is wrapped by every error about the input matrix or options.
var ErrBadInput = errors.New("tsne: bad input")

// Options configures Embed. The zero value of every field selects the default
// noted beside it, so Options{} is scikit-learn's TSNE with the Barnes-Hut
// method.
type Options struct {
	// Perplexity is the effective number of neighbours (default 30). It must be
	// smaller than the number of points.
	Perplexity float64
	// EarlyExaggeration multiplies the affinities during the first
	// ExaggerationIters iterations (default 12).
	EarlyExaggeration float64
	// ExaggerationIters is the length of the early-exaggeration phase
	// (default 250).
	ExaggerationIters int
	// Iterations is the total number of gradient steps, exaggeration phase
	// included (default 1000).
	Iterations int
	// LearningRate is the gradient step; zero selects "auto",
	// max(N/EarlyExaggeration/4, 50).
	LearningRate float64
	// Theta is the Barnes-Hut opening angle: a quadtree cell of side s at
	// distance r is summarised when s/r < Theta (default 0.5; smaller is more
	// exact and slower).
	Theta float64
	// Init selects the initial layout (default InitPCA).
	Init Init
	// PCADims, when positive and smaller than the input dimension, projects
	// the input onto that many principal components before the neighbour
	// search (50 is common practice). Zero searches the raw input, as
	// scikit-learn does.
	PCADims int
	// Seed drives every random choice (PCA sketch, random init).
	Seed uint64
	// Workers is the number of goroutines (default GOMAXPROCS).
	Workers int
	// MinGradNorm stops the descent when the gradient norm falls below it at a
	// check (default 1e-7).
	MinGradNorm float64
	// IterWithoutProgress stops the descent after this many iterations without
	// a lower KL divergence at the checks (default 300; the exaggeration phase
	// uses its own length, as scikit-learn does).
	IterWithoutProgress int
	// CheckEvery is the interval of the KL evaluation, convergence checks and
	// progress reports (default 50).
	CheckEvery int
	// OnProgress, when set, is called once the affinities are ready (Stage
	// "affinities", Iter 0) and at every check of the descent.
	OnProgress func(Progress)
}

// Progress reports the state of a running embedding.
type Progress struct {
	// Stage is "affinities" when the neighbour search and perplexity
	// calibration are done, "optimise" during the descent.
	Stage string
	// Iter is the number of gradient steps done; Iterations the planned total.
	Iter, Iterations int
	// KL is the Barnes-Hut estimate of the KL divergence at Iter (with the
	// exaggerated affinities while Exaggerated is true).
	KL float64
	// GradNorm is the Euclidean norm of the last gradient.
	GradNorm float64
	// Exaggerated is true during early exaggeration.
	Exaggerated bool
	// Elapsed is the time since Embed started.
	Elapsed time.Duration
}

// Timings splits the run time of Embed by stage.
type Timings struct {
	// PCA covers the optional input reduction and the PCA initialisation.
	PCA time.Duration
	// Neighbors is the exact k-nearest-neighbour search.
	Neighbors time.Duration
	// Affinities is the perplexity calibration and symmetrisation.
	Affinities time.Duration
	// Optimize is the gradient descent.
	Optimize time.Duration
}

// Result is a finished embedding.
type Result struct {
	// Y holds the N×2 embedding row-major: point i is (Y[2i], Y[2i+1]).
	Y []float64
	// N is the number of points.
	N int
	// KL is the KL divergence of the final embedding (Barnes-Hut estimate,
	// un-exaggerated affinities).
	KL float64
	// Iterations is the number of gradient steps taken.
	Iterations int
	// Neighbors is the number of nearest neighbours used for the affinities.
	Neighbors int
	// Timings splits the run time.
	Timings Timings
}

// Coords returns the embedding as two columns, convenient for plotting.
func (r *Result) Coords() (xs, ys []float64) {
	xs = make([]float64, r.N)
	ys = make([]float64, r.N)
	for i := range r.N {
		xs[i], ys[i] = r.Y[2*i], r.Y[2*i+1]
	}
	return xs, ys
}

// withDefaults fills zero fields and validates the rest.
func (o Options) withDefaults(n int) (Options, error) {
	if o.Perplexity == 0 {
		o.Perplexity = 30
	}
	if o.EarlyExaggeration == 0 {
		o.EarlyExaggeration = 12
	}
	if o.ExaggerationIters == 0 {
		o.ExaggerationIters = 250
	}
	if o.Iterations == 0 {
		o.Iterations = 1000
	}
	if o.Theta == 0 {
		o.Theta = 0.5
	}
	if o.Init == "" {
		o.Init = InitPCA
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MinGradNorm == 0 {
		o.MinGradNorm = 1e-7
	}
	if o.IterWithoutProgress == 0 {
		o.IterWithoutProgress = 300
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = 50
	}
	switch {
	case !(o.Perplexity > 0) || math.IsInf(o.Perplexity, 0):
		return o, fmt.Errorf("%w: perplexity %v must be positive", ErrBadInput, o.Perplexity)
	case o.Perplexity >= float64(n):
		return o, fmt.Errorf("%w: perplexity %v must be smaller than the number of points %d", ErrBadInput, o.Perplexity, n)
	case !(o.EarlyExaggeration >= 1) || math.IsInf(o.EarlyExaggeration, 0):
		return o, fmt.Errorf("%w: early exaggeration %v must be at least 1", ErrBadInput, o.EarlyExaggeration)
	case o.ExaggerationIters < 0 || o.Iterations < 0 || o.CheckEvery < 0 || o.IterWithoutProgress < 0:
		return o, fmt.Errorf("%w: negative iteration count", ErrBadInput)
	case o.LearningRate < 0 || math.IsNaN(o.LearningRate) || math.IsInf(o.LearningRate, 0):
		return o, fmt.Errorf("%w: learning rate %v", ErrBadInput, o.LearningRate)
	case !(o.Theta > 0) || o.Theta > 1:
		return o, fmt.Errorf("%w: theta %v must be in (0, 1]", ErrBadInput, o.Theta)
	case o.Init != InitPCA && o.Init != InitRandom:
		return o, fmt.Errorf("%w: unknown init %q (want %q or %q)", ErrBadInput, o.Init, InitPCA, InitRandom)
	case o.PCADims < 0:
		return o, fmt.Errorf("%w: PCADims %d is negative", ErrBadInput, o.PCADims)
	case math.IsNaN(o.MinGradNorm):
		return o, fmt.Errorf("%w: MinGradNorm is NaN", ErrBadInput)
	}
	if o.LearningRate == 0 {
		o.LearningRate = math.Max(float64(n)/o.EarlyExaggeration/4, 50)
	}
	return o, nil
}

// Embed runs Barnes-Hut t-SNE on the n×d row-major matrix x and returns the
// n×2 embedding. It stops early with ctx's error when ctx is cancelled.
func Embed(ctx context.Context, x []float32, n, d int, opt Options) (*Result, error) {
	start := time.Now()
	if n < 2 || d < 1 {
		return nil, fmt.Errorf("%w: need at least 2 points of dimension ≥ 1, got %d×%d", ErrBadInput, n, d)
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("%w: len(x) = %d, want n·d = %d·%d = %d", ErrBadInput, len(x), n, d, n*d)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: x[%d] (point %d, feature %d) is %v", ErrBadInput, i, i/d, i%d, v)
		}
	}
	opt, err := opt.withDefaults(n)
	if err != nil {
		return nil, err
	}
	res := &Result{N: n}

	// Centre the data: distances are unchanged and the Gram-matrix trick
	// loses less to cancellation; PCA needs it anyway.
	xc := centred(x, n, d)
	t0 := time.Now()
	feat, fd := xc, d
	if opt.PCADims > 0 && opt.PCADims < d && opt.PCADims < n {
		feat, err = pcaScores(ctx, xc, n, d, opt.PCADims, opt.Seed, opt.Workers)
		if err != nil {
			return nil, err
		}
		fd = opt.PCADims
	}
	y := make([]float64, 2*n)
	switch opt.Init {
	case InitPCA:
		// The principal components of the reduced data are those of the
		// input, so the cheaper matrix serves.
		s, err := pcaScores(ctx, feat, n, fd, 2, opt.Seed+1, opt.Workers)
		if err != nil {
			return nil, err
		}
		var sum, sum2 float64
		for i := range n {
			v := float64(s[2*i])
			sum += v
			sum2 += v * v
		}
		mean := sum / float64(n)
		std := math.Sqrt(math.Max(sum2/float64(n)-mean*mean, 0))
		if !(std > 0) {
			std = 1
		}
		for i := range y {
			y[i] = float64(s[i]) / std * 1e-4
		}
	case InitRandom:
		rng := rand.New(rand.NewPCG(opt.Seed, 0x7a5e))
		for i := range y {
			y[i] = 1e-4 * rng.NormFloat64()
		}
	}
	res.Timings.PCA = time.Since(t0)

	k := min(n-1, int(3*opt.Perplexity+1))
	res.Neighbors = k
	t0 = time.Now()
	nbr, dist, err := knn(ctx, feat, n, fd, k, opt.Workers)
	if err != nil {
		return nil, err
	}
	res.Timings.Neighbors = time.Since(t0)

	t0 = time.Now()
	cond := conditionalP(dist, n, k, opt.Perplexity, opt.Workers)
	P := symmetrise(nbr, cond, n, k)
	res.Timings.Affinities = time.Since(t0)
	if opt.OnProgress != nil {
		opt.OnProgress(Progress{Stage: "affinities", Iterations: opt.Iterations, Elapsed: time.Since(start)})
	}

	t0 = time.Now()
	o := newOptimizer(P, y, opt)
	it, err := o.run(ctx, start)
	res.Timings.Optimize = time.Since(t0)
	if err != nil {
		return nil, err
	}
	res.Y = y
	res.Iterations = it
	res.KL = o.klNow(1)
	return res, nil
}

// centred returns a copy of x with each column's mean subtracted.
func centred(x []float32, n, d int) []float32 {
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	xc := make([]float32, len(x))
	for i := range n {
		row := x[i*d : (i+1)*d]
		out := xc[i*d : (i+1)*d]
		for j, v := range row {
			out[j] = float32(float64(v) - mean[j])
		}
	}
	return xc
}
