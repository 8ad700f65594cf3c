package knn

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("knn: %w", detector.ErrOption)

// Ways of reducing a row's k neighbour distances to its score.
const (
	// Largest scores by the distance to the k-th nearest neighbour
	// (Ramaswamy, Rastogi and Shim 2000; PyOD's method="largest").
	Largest = "largest"
	// Mean scores by the mean of the k distances (Angiulli and Pizzuti
	// 2002; PyOD's "mean").
	Mean = "mean"
	// Median scores by their median (PyOD's "median"; for even k the mean
	// of the two middle distances, as NumPy's median).
	Median = "median"
)

// Options configures the detector. Each field's comment names its default
// (DefaultOptions). The zero Options is not a valid configuration: start
// from DefaultOptions.
type Options struct {
	// K is the number of nearest neighbours, k (default 5, PyOD's
	// n_neighbors). Fit needs more training rows than k.
	K int `json:"k" opt:"k" min:"1" max:"1000000" help:"number of nearest neighbours"`
	// Method reduces the k distances to the score: Largest, Mean or Median
	// (default Largest).
	Method string `json:"method" opt:"method" enum:"largest|mean|median" help:"score: distance to the k-th neighbour (largest), or the mean or median of the k distances"`
	// Algorithm is the exact neighbour search (default "auto": a k-d tree
	// for at most neighbors.TreeMaxDim features, blocked SGEMM beyond).
	// The scores do not depend on it, bit for bit.
	Algorithm string `json:"algorithm" opt:"algorithm" enum:"auto|brute|kdtree" help:"exact neighbour search (auto, brute: blocked SGEMM, kdtree); the scores do not depend on it"`
	// Workers bounds the goroutines a search uses (default 0:
	// runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns PyOD's KNN defaults (docs/methods.md §6.1): the
// distance to the 5th nearest neighbour, found exactly.
func DefaultOptions() Options {
	return Options{K: 5, Method: Largest, Algorithm: "auto"}
}

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
