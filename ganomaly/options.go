package ganomaly

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption is wrapped by every error about an option value.
var ErrOption = fmt.Errorf("ganomaly: %w", detector.ErrOption)

// Epoch selection rules (Options.Select).
const (
	// SelectLast keeps the weights after the last epoch.
	SelectLast = dcgan.SelectLast
	// SelectVal keeps the weights of the epoch with the lowest validation
	// loss (the weighted generator loss L_G), measured on held-out normal
	// training images with BatchNorm in inference mode. No anomaly and no
	// test image is involved.
	SelectVal = dcgan.SelectVal
)

// Fit modes (Options.FitMode): how an H×W image is brought to the networks'
// S×S.
const (
	// FitPad centres the image on an S×S canvas of the value that 0 maps to
	// (black, -1 after scaling). It needs H, W ≤ S and loses nothing: MNIST's
	// 28×28 digits get a 2-pixel border.
	FitPad = dcgan.FitPad
	// FitResize resamples the image to S×S bilinearly (half-pixel centres,
	// no antialiasing), as the reference code's transforms.Resize(32) does
	// for MNIST up to the interpolation filter.
	FitResize = dcgan.FitResize
)

// Options configure GANomaly. DefaultOptions is the reduced CPU schedule
// `oddity train ganomaly` runs; PaperOptions is the paper's. Fit
// validates them.
//
// The embedded Settings hold what GANomaly shares with the convolutional
// autoencoder (package cae), with the same names, defaults and meaning:
// Width, NZ, Epochs, BatchSize, MaxImages, Side, LR, ValFraction, Select
// and FitMode (options width, nz, epochs, batch, max-images, side, lr,
// val-frac, select and fit, as `oddity methods` lists them), Adam's Beta1
// and Beta2 (settable from code only), and the Seed.
type Options struct {
	dcgan.Settings
	// WAdv weights the adversarial (feature-matching) loss (default 1).
	WAdv float64 `json:"w_adv" opt:"w-adv" min:"0" help:"adversarial loss weight"`
	// WCon weights the contextual (L1) loss (default 50).
	WCon float64 `json:"w_con" opt:"w-con" min:"0" help:"contextual (L1) loss weight"`
	// WEnc weights the encoder (L2) loss (default 1).
	WEnc float64 `json:"w_enc" opt:"w-enc" min:"0" help:"encoder loss weight"`
	// ReinitBelow re-initialises the discriminator when its loss falls
	// below it (default 1e-5, the reference code's; 0 never); settable from
	// code only.
	ReinitBelow float64 `json:"reinit_below"`
}

// PaperOptions is the paper's schedule (docs/methods.md §1): width 64,
// nz 100, weights (1, 50, 1), 15 epochs of batch 64 on all training images,
// Adam(2e-4, 0.5, 0.999), discriminator reset below 1e-5, plus this
// package's 10% validation split and validation-selected epoch. It differs
// from DefaultOptions in Width, Epochs and MaxImages.
func PaperOptions() Options {
	return Options{Settings: dcgan.PaperSettings(), WAdv: 1, WCon: 50, WEnc: 1, ReinitBelow: 1e-5}
}

// DefaultOptions is the reduced schedule for a CPU that `oddity train
// ganomaly` and the benchmark suite run: width 16 and 4 epochs on a random
// 12,000 training images (10,800 after the validation split), other
// settings as PaperOptions. Results obtained with it are labelled as such.
func DefaultOptions() Options {
	o := PaperOptions()
	o.Settings = dcgan.DefaultSettings()
	return o
}

// Validate reports the first unusable option, naming it as the command line
// does; its errors wrap ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	if err := dcgan.ValidateSettings(o.Settings, ErrOption); err != nil {
		return err
	}
	if !dcgan.Finite(o.ReinitBelow) || o.ReinitBelow < 0 {
		return dcgan.BadOption(ErrOption, "ReinitBelow", o.ReinitBelow, "must be a non-negative number")
	}
	return nil
}
