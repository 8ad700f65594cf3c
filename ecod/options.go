package ecod

import (
	"fmt"
	"runtime"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("ecod: %w", detector.ErrOption)

// Aggregations: how the per-feature tail terms become a score.
const (
	// AggregatePaper is the paper's Algorithm 1: three sums over the
	// features (left tails, right tails, the tail the skewness picks),
	// and the largest of the three.
	AggregatePaper = "paper"
	// AggregatePyOD is PyOD's ECOD: for each feature the larger of its
	// two tail terms, summed over the features.
	AggregatePyOD = "pyod"
)

// Options configures the Detector. Each field's comment names its default
// (DefaultOptions). ECOD has no parameter to tune: the options only say
// which published variant to compute. The zero Options is not a valid
// configuration: start from DefaultOptions.
type Options struct {
	// Aggregate is AggregatePaper (default) or AggregatePyOD.
	Aggregate string `json:"aggregate" opt:"aggregate" enum:"paper|pyod" help:"how tail terms make a score: paper (max of three sums) or pyod (sum of per-feature max)"`
	// Workers bounds the goroutines of Fit and Score (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns the paper's method (docs/methods.md §6.3): the
// largest of the left-tail, right-tail and skewness-corrected sums. It is
// what `oddity train ecod` runs.
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
