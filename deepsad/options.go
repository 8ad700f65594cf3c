package deepsad

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// Method is Deep SAD's registered method name.
const Method = "deepsad"

// ErrOption is wrapped by every error about an option's value; it wraps
// detector.ErrOption.
var ErrOption = fmt.Errorf("deepsad: %w", detector.ErrOption)

// Options configures Deep SAD. DefaultOptions gives the official code's
// settings for tabular data; the zero Options is not a valid
// configuration.
type Options struct {
	// Hidden are the widths of φ's hidden layers (default 32,16; empty
	// makes φ a single linear layer).
	Hidden []int `json:"hidden" opt:"hidden" min:"1" help:"hidden widths, comma-separated"`
	// Rep is the width of the representation φ(x) (default 8).
	Rep int `json:"rep" opt:"rep" min:"1" help:"representation width"`
	// AEEpochs is the number of autoencoder pretraining epochs (default
	// 100; 0 skips pretraining).
	AEEpochs int `json:"ae_epochs" opt:"ae-epochs" min:"0" help:"autoencoder pretraining epochs"`
	// Epochs is the number of Deep SAD training epochs (default 50; 0 stops
	// after the centre is set).
	Epochs int `json:"epochs" opt:"epochs" min:"0" help:"training epochs"`
	// BatchSize is the minibatch size of both phases (default 128).
	BatchSize int `json:"batch" opt:"batch" min:"1" help:"batch size"`
	// MaxBatches caps the batches of an epoch (default 0: full epochs).
	MaxBatches int `json:"max_batches" opt:"max-batches" min:"0" help:"cap on batches per epoch (0: full epochs)"`
	// LR is Adam's learning rate in both phases (default 0.001).
	LR float64 `json:"lr" opt:"lr" gt:"0" help:"Adam learning rate"`
	// WeightDecay is Adam's weight decay in both phases (default 1e-6).
	WeightDecay float64 `json:"weight_decay" opt:"weight-decay" min:"0" help:"Adam weight decay"`
	// Eta weighs the labelled anomalies' term of the loss (default 1).
	Eta float64 `json:"eta" opt:"eta" min:"0" help:"weight of the labelled anomalies' term"`
	// Seed seeds every random choice (default 0).
	Seed uint64 `json:"seed"`
}

// DefaultOptions returns the official Deep SAD settings for tabular data
// (the "*_mlp" networks and the training script's defaults), which are what
// `oddity train deepsad` runs.
func DefaultOptions() Options {
	return Options{Hidden: []int{32, 16}, Rep: 8, AEEpochs: 100, Epochs: 50, BatchSize: 128, LR: 1e-3, WeightDecay: 1e-6, Eta: 1}
}

// Validate reports the first invalid option, naming it by its option name,
// in an error that wraps ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	return nil
}
