package lof

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("lof: %w", detector.ErrOption)

// Options configures the detector. Each field's comment names its default
// (DefaultOptions). The zero Options is not a valid configuration: start
// from DefaultOptions.
type Options struct {
	// K is the neighbourhood size, the paper's MinPts (default 20,
	// scikit-learn's n_neighbors). Fit needs more training rows than k.
	K int `json:"k" opt:"k" min:"1" max:"1000000" help:"neighbourhood size (MinPts)"`
	// Algorithm is the exact neighbour search (default "auto": a k-d tree
	// for at most neighbors.TreeMaxDim features, blocked SGEMM beyond).
	// The scores do not depend on it, bit for bit.
	Algorithm string `json:"algorithm" opt:"algorithm" enum:"auto|brute|kdtree" help:"exact neighbour search (auto, brute: blocked SGEMM, kdtree); the scores do not depend on it"`
	// Workers bounds the goroutines a search uses (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns scikit-learn's LocalOutlierFactor defaults
// (docs/methods.md §6.2): 20 neighbours, found exactly.
func DefaultOptions() Options { return Options{K: 20, Algorithm: "auto"} }

// Validate reports the first invalid option, naming it by its option name;
// the error wraps ErrOption. Whether K fits the training data is checked
// by Fit.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	if o.Workers < 0 {
		return fmt.Errorf("%w: workers = %d: must be at least 0", ErrOption, o.Workers)
	}
	return nil
}
