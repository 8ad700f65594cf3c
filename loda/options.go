package loda

import (
	"fmt"
	"runtime"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("loda: %w", detector.ErrOption)

// MaxCells bounds projections × (bins + 1), the size of the fitted
// histograms.
const MaxCells = 1 << 26

// Options configures the Detector. Each field's comment names its default
// (DefaultOptions, PyOD's LODA defaults). The zero Options is not a valid
// configuration: start from DefaultOptions.
type Options struct {
	// Projections is the number of sparse random projections, each with
	// its own histogram: k in the paper (default 100, PyOD's
	// n_random_cuts).
	Projections int `json:"projections" opt:"projections" min:"1" max:"1048576" help:"number of sparse random projections (one histogram each)"`
	// Bins is the number of equal-width bins of each projection's
	// histogram (default 10, PyOD's n_bins).
	Bins int `json:"bins" opt:"bins" min:"1" max:"65536" help:"equal-width bins per projection"`
	// Seed seeds the projections (default 0).
	Seed uint64 `json:"seed"`
	// Workers bounds the goroutines of Fit and Score (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns PyOD's LODA settings (docs/methods.md §6.7): 100
// projections, histograms of 10 bins, seed 0. They are what
// `oddity train loda` runs.
func DefaultOptions() Options { return Options{Projections: 100, Bins: 10} }

// Validate reports the first invalid option, naming it by its option name;
// the error wraps ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	if o.Projections*(o.Bins+1) > MaxCells {
		return fmt.Errorf("%w: projections × (bins + 1) = %d × %d: at most %d", ErrOption, o.Projections, o.Bins+1, MaxCells)
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
