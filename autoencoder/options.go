package autoencoder

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("autoencoder: %w", detector.ErrOption)

// defaultMinSteps is the step floor MinSteps 0 stands for.
const defaultMinSteps = 2000

// Options configure the network and its training. Each field's comment
// names its default (DefaultOptions). The zero Options is not a valid
// configuration: start from DefaultOptions.
type Options struct {
	// Hidden are the encoder's layer widths, input side first; the decoder
	// mirrors them (default empty: automatic, [min(64, max(2, d)),
	// min(32, max(1, d/2))] for samples of d values).
	Hidden []int `json:"hidden" opt:"hidden,auto" min:"1" max:"65536" help:"encoder widths, comma-separated (auto: min(64, d), min(32, d/2))"`
	// Epochs is the number of passes over the training data (default 50),
	// raised on a small data set until training takes MinSteps Adam steps.
	Epochs int `json:"epochs" opt:"epochs" min:"1" help:"training epochs"`
	// BatchSize is the minibatch size (default 128).
	BatchSize int `json:"batch_size" opt:"batch" min:"1" help:"batch size"`
	// LR is Adam's learning rate (default 0.001).
	LR float64 `json:"lr" opt:"lr" gt:"0" help:"Adam learning rate"`
	// MinSteps is the least number of Adam steps (default 0, which means
	// 2,000; negative: no floor, Epochs as given): on a small data set
	// Epochs is raised until training takes that many steps. Fifty epochs
	// of a 214-row table are only 100 steps, which leave the network near
	// its initialisation, scoring little more than distance to the output
	// bias.
	MinSteps int `json:"min_steps" opt:"min-steps,omitzero" help:"least number of Adam steps (0: 2000; negative: Epochs as given)"`
	// Seed seeds initialisation and shuffling (default 0).
	Seed uint64 `json:"seed"`
}

// DefaultOptions returns the settings `oddity train autoencoder` runs:
// automatic widths, 50 epochs (at least 2,000 steps) of minibatches of 128,
// Adam with learning rate 0.001.
func DefaultOptions() Options {
	return Options{Epochs: 50, BatchSize: 128, LR: 1e-3}
}

// Validate reports the first invalid option, naming it by its option name;
// the error wraps ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	return nil
}

// widths returns the encoder's widths for samples of d values.
func (o Options) widths(d int) []int {
	if len(o.Hidden) == 0 {
		return []int{min(64, max(2, d)), min(32, max(1, d/2))}
	}
	return append([]int(nil), o.Hidden...)
}

// epochs returns the number of epochs Fit runs over n samples: Epochs,
// raised to reach the MinSteps floor.
func (o Options) epochs(n int) int {
	floor := o.MinSteps
	if floor == 0 {
		floor = defaultMinSteps
	}
	if per := (n + o.BatchSize - 1) / o.BatchSize; per > 0 && floor > 0 && o.Epochs*per < floor {
		return (floor + per - 1) / per
	}
	return o.Epochs
}
