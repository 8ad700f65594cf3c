package ocsvm

import (
	"fmt"
	"math"
	"runtime"
	"strconv"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// Method is the name the one-class SVM is registered, saved and loaded
// under.
const Method = "ocsvm"

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("ocsvm: %w", detector.ErrOption)

// The gamma settings that are not a number, as scikit-learn names them.
const (
	// GammaScale sets γ = 1 / (d · Var(X)), the variance taken over every
	// value of the training matrix (1 when that variance is 0).
	GammaScale = "scale"
	// GammaAuto sets γ = 1 / d.
	GammaAuto = "auto"
)

// Options configures the one-class SVM. Each field's comment names its
// default (DefaultOptions). The zero Options is not a valid configuration:
// start from DefaultOptions.
type Options struct {
	// Nu is ν, an upper bound on the fraction of training rows left
	// outside the boundary and a lower bound on the fraction of support
	// vectors, in (0, 1] (default 0.5, scikit-learn's).
	Nu float64 `json:"nu" opt:"nu" gt:"0" max:"1" help:"upper bound on the training fraction outside the boundary (ν)"`
	// Gamma is the RBF kernel's width γ in exp(−γ‖x−y‖²): "scale"
	// (default, scikit-learn's: 1/(d·Var(X)) over all values of the
	// training matrix, 1 if that is 0), "auto" (1/d) or a positive number.
	// It is a string because the option takes a word or a number, as
	// scikit-learn's gamma does.
	Gamma string `json:"gamma" opt:"gamma" help:"RBF kernel width: scale, auto or a positive number"`
	// Tol is the solver's stopping tolerance ε (default 1e-3, libsvm's
	// and scikit-learn's): SMO stops when the largest violation of the
	// optimality conditions, max over α_j>0 of ∇_j minus min over α_i<1
	// of ∇_i, is below it.
	Tol float64 `json:"tol" opt:"tol" gt:"0" max:"1e6" help:"stopping tolerance on the optimality gap (libsvm's eps)"`
	// CacheMB bounds the kernel column cache in MiB (default 200,
	// scikit-learn's cache_size). At least two columns are cached whatever
	// the bound.
	CacheMB float64 `json:"cache_mb" opt:"cache-mb" gt:"0" max:"1048576" help:"kernel cache size in MiB"`
	// Shrinking enables libsvm's shrinking heuristic (default true, as
	// scikit-learn). It changes the path to the solution, not the
	// stopping condition.
	Shrinking bool `json:"shrinking" opt:"shrinking" help:"use libsvm's shrinking heuristic"`
	// MaxSamples bounds the training rows (default 10,000): Fit on more
	// rows draws this many at random (seeded), keeping their order, and
	// says so through TrainSet.Progress and Detector.Info. 0 means no
	// bound. Fit time grows about as the square of the rows (doc.go).
	MaxSamples int `json:"max_samples" opt:"max-samples" min:"0" max:"16777216" help:"train on a seeded subsample of this many rows when there are more (0: all)"`
	// Seed seeds the subsample (default 0); nothing else is random.
	Seed uint64 `json:"seed"`
	// Workers bounds the goroutines that compute kernel columns and scores
	// (default 0: runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns scikit-learn's OneClassSVM settings (ν = 0.5,
// γ = "scale", tol = 1e-3, 200 MB cache, shrinking) and a 10,000-row
// training bound. They are what `oddity train ocsvm` runs.
func DefaultOptions() Options {
	return Options{Nu: 0.5, Gamma: GammaScale, Tol: 1e-3, CacheMB: 200, Shrinking: true, MaxSamples: 10000}
}

// Validate reports the first invalid option, naming it by its option name;
// the error wraps ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	if _, err := parseGamma(o.Gamma); err != nil {
		return err
	}
	if o.Workers < 0 {
		return fmt.Errorf("%w: workers = %d: must be at least 0", ErrOption, o.Workers)
	}
	return nil
}

// parseGamma returns the fixed γ the setting names, or 0 for "scale" and
// -1 for "auto" (which depend on the data).
func parseGamma(s string) (float64, error) {
	switch s {
	case GammaScale:
		return 0, nil
	case GammaAuto:
		return -1, nil
	}
	g, err := strconv.ParseFloat(s, 64)
	if err != nil || !(g > 0) || math.IsInf(g, 0) {
		return 0, fmt.Errorf("%w: gamma = %q: want scale, auto or a finite number > 0", ErrOption, s)
	}
	return g, nil
}

// workers returns the number of goroutines o asks for.
func (o Options) workers() int {
	if o.Workers == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Workers
}

// cacheColumns returns how many kernel columns of l float32 values fit in
// CacheMB, at least two (the solver holds two at once).
func (o Options) cacheColumns(l int) int {
	b := o.CacheMB * (1 << 20)
	c := b / (4 * float64(max(l, 1)))
	if c >= float64(l) {
		return max(l, 2)
	}
	return max(int(c), 2)
}
