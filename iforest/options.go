package iforest

import (
	"fmt"
	"runtime"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("iforest: %w", detector.ErrOption)

// Options configures an Isolation Forest: Fit, the distributed fitting
// functions and the Detector. Each field's comment names its default
// (DefaultOptions). The zero Options is not a valid configuration: start
// from DefaultOptions.
type Options struct {
	// NTrees is the number of trees, t in the paper (default 100).
	NTrees int `json:"n_trees" opt:"trees" min:"1" max:"1048576" help:"number of trees"`
	// MaxSamples is the subsample size ψ drawn without replacement for
	// each tree (default 256). It is reduced to n when the data has fewer
	// rows, as scikit-learn's max_samples="auto" does.
	MaxSamples int `json:"max_samples" opt:"max-samples" alias:"samples" min:"1" max:"16777216" help:"subsample size per tree"`
	// MaxFeatures is the fraction of features each tree may split on, in
	// (0, 1] (default 1: all). Each tree draws max(1, floor(MaxFeatures·d))
	// of the d features without replacement, as scikit-learn does.
	MaxFeatures float64 `json:"max_features" opt:"max-features" gt:"0" max:"1" help:"fraction of features each tree may split on"`
	// Seed seeds every random choice (default 0).
	Seed uint64 `json:"seed"`
	// Workers bounds the goroutines used by Fit and Score (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns the paper's and scikit-learn's settings (docs/
// methods.md §4): 100 trees, subsamples of 256 rows, all features, seed 0.
// They are what `oddity train iforest` runs.
func DefaultOptions() Options {
	return Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1}
}

// Validate reports the first invalid option, naming it by its option name;
// the error wraps ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	if o.Workers < 0 {
		return fmt.Errorf("%w: workers = %d: must be at least 0", ErrOption, o.Workers)
	}
	return nil
}

// workers returns the number of goroutines o asks for.
func (o Options) workers() int {
	if o.Workers == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Workers
}
