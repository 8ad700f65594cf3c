package hbos

import (
	"fmt"
	"runtime"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("hbos: %w", detector.ErrOption)

// MaxBins is the most bins a histogram may have.
const MaxBins = 1 << 20

// Options configures the Detector. Each field's comment names its default
// (DefaultOptions, PyOD's HBOS defaults). The zero Options is not a valid
// configuration: start from DefaultOptions.
type Options struct {
	// Bins is the number of equal-width bins of each feature's histogram,
	// spanning the feature's training range (default 10).
	Bins int `json:"bins" opt:"bins" min:"1" max:"1048576" help:"equal-width bins per feature"`
	// Alpha is added to every bin's density before the logarithm, so that
	// an empty bin scores a finite −log2(alpha) (default 0.1).
	Alpha float64 `json:"alpha" opt:"alpha" gt:"0" lt:"1" help:"added to each bin's density before the logarithm"`
	// Tol is how far beyond the training range, in bin widths, a value
	// still counts as in the edge bin; a value further out scores as the
	// feature's least dense bin (default 0.5).
	Tol float64 `json:"tol" opt:"tol" gt:"0" lt:"1" help:"bin widths beyond the training range that still count as the edge bin"`
	// Workers bounds the goroutines of Fit and Score (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns PyOD's HBOS settings (docs/methods.md §6.5): 10
// static bins per feature, alpha 0.1, tol 0.5. They are what
// `oddity train hbos` runs.
func DefaultOptions() Options { return Options{Bins: 10, Alpha: 0.1, Tol: 0.5} }

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
