package pca

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("pca: %w", detector.ErrOption)

// Solver selects the decomposition that finds the principal axes.
type Solver int

// Solvers. They find the same axes up to round-off.
const (
	// Auto uses Covariance when n >= d and SVD otherwise.
	Auto Solver = iota
	// Covariance eigendecomposes the d x d covariance matrix: O(n d^2 + d^3)
	// time, O(d^2) extra memory.
	Covariance
	// SVD factorises the centred n x d data: more accurate for
	// ill-conditioned data, O(n d min(n, d)) time, O(n d) extra memory.
	SVD
)

// String returns the solver's name: "auto", "covariance" or "svd".
func (s Solver) String() string {
	switch s {
	case Auto:
		return "auto"
	case Covariance:
		return "covariance"
	case SVD:
		return "svd"
	}
	return fmt.Sprintf("Solver(%d)", int(s))
}

// Options configures Fit and the Detector. Each field's comment names its
// default (DefaultOptions).
type Options struct {
	// NComponents is the number of principal axes kept (default 0: half the
	// features, rounded up, (d+1)/2 of d). It may not exceed min(n, d) for
	// n training rows; Fit refuses a larger value.
	NComponents int `json:"n_components" opt:"components" min:"0" help:"principal axes kept (0: half the features, rounded up)"`
	// Solver selects the decomposition (default Auto).
	Solver Solver `json:"solver"`
	// Workers bounds the goroutines accumulating the covariance (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns the settings `oddity train pca` runs: half the
// features' worth of axes, found by the Auto solver.
func DefaultOptions() Options { return Options{} }

// Components returns the number of axes o keeps for data of d features:
// NComponents, or (d+1)/2 when it is 0.
func (o Options) Components(d int) int {
	if o.NComponents == 0 {
		return (d + 1) / 2
	}
	return o.NComponents
}

// Validate reports the first invalid option, naming it by its option name;
// the error wraps ErrOption. Whether NComponents fits the data is checked
// by Fit.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	switch {
	case o.Solver < Auto || o.Solver > SVD:
		return fmt.Errorf("%w: solver = %d: must be Auto, Covariance or SVD", ErrOption, int(o.Solver))
	case o.Workers < 0:
		return fmt.Errorf("%w: workers = %d: must be at least 0", ErrOption, o.Workers)
	}
	return nil
}
