package cae

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption is wrapped by every error about an option value.
var ErrOption = fmt.Errorf("cae: %w", detector.ErrOption)

// Epoch selection rules (Options.Select) and fit modes (Options.FitMode),
// GANomaly's. The validation loss SelectVal minimises is the
// reconstruction loss of held-out normal training images, with BatchNorm
// in inference mode: no anomaly and no test image is involved.
const (
	SelectVal  = dcgan.SelectVal  // the epoch of lowest validation loss
	SelectLast = dcgan.SelectLast // the last epoch
	FitPad     = dcgan.FitPad     // centre the image on an S×S black canvas (lossless)
	FitResize  = dcgan.FitResize  // resample the image to S×S bilinearly
)

// Training losses and scores (Options.Loss).
const (
	// LossL2 is the mean squared error.
	LossL2 = "l2"
	// LossL1 is the mean absolute error.
	LossL1 = "l1"
)

// Options configure the autoencoder. The embedded Settings are GANomaly's
// (ganomaly.Options embeds them too): Width, NZ, Epochs, BatchSize,
// MaxImages, Side, LR, ValFraction, Select, FitMode, Beta1, Beta2 and Seed
// have the same option names, defaults and meaning, so the two methods run
// on the same schedule. DefaultOptions is the reduced CPU schedule `oddity
// train cae` runs; PaperOptions is GANomaly's paper schedule. Fit
// validates them.
type Options struct {
	dcgan.Settings
	// Loss is the training loss and the score: LossL2 (default, mean
	// squared error) or LossL1 (mean absolute error).
	Loss string `json:"loss" opt:"loss" enum:"l2|l1" help:"training loss and score: l2 (mean squared error) or l1 (mean absolute error)"`
}

// PaperOptions is GANomaly's paper schedule (docs/methods.md §1) applied to
// the autoencoder: width 64, nz 100, 15 epochs of batch 64 on all training
// images, Adam(2e-4, 0.5, 0.999), L2 loss, a 10% validation split and the
// validation-selected epoch. It differs from DefaultOptions in Width,
// Epochs and MaxImages.
func PaperOptions() Options { return Options{Settings: dcgan.PaperSettings(), Loss: LossL2} }

// DefaultOptions is the reduced CPU schedule that `oddity train cae` and
// the benchmark suite run, the same as ganomaly.DefaultOptions: width 16
// and 4 epochs on a random 12,000 training images, other settings as
// PaperOptions.
func DefaultOptions() Options { return Options{Settings: dcgan.DefaultSettings(), Loss: LossL2} }

// Validate reports the first unusable option, naming it as the command line
// does; its errors wrap ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	return dcgan.ValidateSettings(o.Settings, ErrOption)
}
