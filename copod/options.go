package copod

import (
	"fmt"
	"runtime"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("copod: %w", detector.ErrOption)

// Aggregations: how the per-feature tail terms become a score.
const (
	// AggregatePaper is the paper's Algorithm 1: three sums over the
	// features of −log of the empirical copula's tail probabilities (left,
	// right, and skewness-corrected), and the largest of the three.
	AggregatePaper = "paper"
	// AggregatePyOD is PyOD's COPOD: for each feature the larger of the
	// skewness-corrected term and the mean of the left and right terms,
	// summed over the features.
	AggregatePyOD = "pyod"
)

// Options configures the Detector. Each field's comment names its default
// (DefaultOptions). COPOD has no parameter to tune: the options only say
// which published variant to compute. The zero Options is not a valid
// configuration: start from DefaultOptions.
type Options struct {
	// Aggregate is AggregatePaper (default) or AggregatePyOD.
	Aggregate string `json:"aggregate" opt:"aggregate" enum:"paper|pyod" help:"how tail terms make a score: paper (max of three sums) or pyod (sum of per-feature max of corrected and mean tail)"`
	// Workers bounds the goroutines of Fit and Score (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns the paper's method (docs/methods.md §6.4): the
// largest of the left-tail, right-tail and skewness-corrected sums. It is
// what `oddity train copod` runs.
func DefaultOptions() Options { return Options{Aggregate: AggregatePaper} }

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
