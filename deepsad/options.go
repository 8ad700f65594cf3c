package deepsad

import (
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/detector"
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
	Hidden []int `json:"hidden" opt:"hidden" help:"hidden widths, comma-separated"`
	// Rep is the width of the representation φ(x) (default 8).
	Rep int `json:"rep" opt:"rep" help:"representation width"`
	// AEEpochs is the number of autoencoder pretraining epochs (default
	// 100; 0 skips pretraining).
	AEEpochs int `json:"ae_epochs" opt:"ae-epochs" help:"autoencoder pretraining epochs"`
	// Epochs is the number of Deep SAD training epochs (default 50; 0 stops
	// after the centre is set).
	Epochs int `json:"epochs" opt:"epochs" help:"training epochs"`
	// BatchSize is the minibatch size of both phases (default 128).
	BatchSize int `json:"batch" opt:"batch" help:"batch size"`
	// MaxBatches caps the batches of an epoch (default 0: full epochs).
	MaxBatches int `json:"max_batches" opt:"max-batches" help:"cap on batches per epoch (0: full epochs)"`
	// LR is Adam's learning rate in both phases (default 0.001).
	LR float64 `json:"lr" opt:"lr" help:"Adam learning rate"`
	// WeightDecay is Adam's weight decay in both phases (default 1e-6).
	WeightDecay float64 `json:"weight_decay" opt:"weight-decay" help:"Adam weight decay"`
	// Eta weighs the labelled anomalies' term of the loss (default 1).
	Eta float64 `json:"eta" opt:"eta" help:"weight of the labelled anomalies' term"`
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
	bad := func(name string, v any, want string) error {
		return fmt.Errorf("%w: %s = %v: %s", ErrOption, name, v, want)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for _, h := range o.Hidden {
		if h < 1 {
			return bad("hidden", o.Hidden, "every width must be at least 1")
		}
	}
	switch {
	case o.Rep < 1:
		return bad("rep", o.Rep, "must be at least 1")
	case o.AEEpochs < 0:
		return bad("ae-epochs", o.AEEpochs, "must be at least 0")
	case o.Epochs < 0:
		return bad("epochs", o.Epochs, "must be at least 0")
	case o.BatchSize < 1:
		return bad("batch", o.BatchSize, "must be at least 1")
	case o.MaxBatches < 0:
		return bad("max-batches", o.MaxBatches, "must be at least 0")
	case !(o.LR > 0) || !finite(o.LR):
		return bad("lr", o.LR, "must be a finite number above 0")
	case !(o.WeightDecay >= 0) || !finite(o.WeightDecay):
		return bad("weight-decay", o.WeightDecay, "must be a finite number, at least 0")
	case !(o.Eta >= 0) || !finite(o.Eta):
		return bad("eta", o.Eta, "must be a finite number, at least 0")
	}
	return nil
}
