package devnet

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// Method is DevNet's registered method name.
const Method = "devnet"

// ErrOption is wrapped by every error about an option's value; it wraps
// detector.ErrOption.
var ErrOption = fmt.Errorf("devnet: %w", detector.ErrOption)

// Options configures DevNet. DefaultOptions gives the settings of the
// official devnet.py, which are also the paper's; the zero Options is not a
// valid configuration.
type Options struct {
	// Hidden is the hidden layer's width (default 20).
	Hidden int `json:"hidden" opt:"hidden" min:"1" help:"hidden units"`
	// Epochs is the number of training epochs (default 50).
	Epochs int `json:"epochs" opt:"epochs" min:"1" help:"epochs"`
	// BatchesPerEpoch is the number of batches in an epoch (default 20).
	BatchesPerEpoch int `json:"batches_per_epoch" opt:"batches" min:"1" help:"batches per epoch"`
	// BatchSize is the number of rows in a batch, half of them labelled
	// anomalies (default 512).
	BatchSize int `json:"batch" opt:"batch" min:"2" help:"batch size"`
	// LR is RMSprop's learning rate (default 0.001).
	LR float64 `json:"lr" opt:"lr" gt:"0" help:"RMSprop learning rate"`
	// Rho is RMSprop's decay of the squared-gradient average (default 0.9).
	Rho float64 `json:"rho" opt:"rho" min:"0" lt:"1" help:"RMSprop rho"`
	// Eps is RMSprop's epsilon (default 1e-7).
	Eps float64 `json:"eps" opt:"eps" min:"0" help:"RMSprop epsilon"`
	// ClipNorm rescales the gradient to this global norm when it is larger,
	// as Keras's clipnorm does (default 1; 0 turns clipping off).
	ClipNorm float64 `json:"clipnorm" opt:"clipnorm" min:"0" help:"global gradient-norm clip (0: none)"`
	// L2 is the coefficient of the L2 penalty on the hidden layer's weights
	// (default 0.01).
	L2 float64 `json:"l2" opt:"l2" min:"0" help:"L2 penalty on the hidden weights"`
	// Margin is the deviation margin a for labelled anomalies (default 5).
	Margin float64 `json:"margin" opt:"margin" gt:"0" help:"deviation margin"`
	// RefSize is the number of N(0, 1) reference scores (default 5000).
	RefSize int `json:"ref_size" opt:"ref-size" min:"2" help:"reference scores"`
	// Seed seeds every random choice (default 0).
	Seed uint64 `json:"seed"`
	// Workers bounds the goroutines Score uses (default 0: GOMAXPROCS).
	Workers int `json:"-"`
}

// DefaultOptions returns the official devnet.py settings, which are what
// `oddity train devnet` runs.
func DefaultOptions() Options {
	return Options{Hidden: 20, Epochs: 50, BatchesPerEpoch: 20, BatchSize: 512, LR: 1e-3, Rho: 0.9, Eps: 1e-7,
		ClipNorm: 1, L2: 0.01, Margin: 5, RefSize: 5000}
}

// Validate reports the first invalid option, naming it by its option name,
// in an error that wraps ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	// Workers is not an option, so no tag states its bound.
	if o.Workers < 0 {
		return fmt.Errorf("%w: workers = %d: must be at least 0", ErrOption, o.Workers)
	}
	return nil
}
