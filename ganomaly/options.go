package ganomaly

import (
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
)

// ErrOption is wrapped by every error about an option value.
var ErrOption = fmt.Errorf("ganomaly: %w", detector.ErrOption)

// Epoch selection rules (Options.Select).
const (
	// SelectLast keeps the weights after the last epoch.
	SelectLast = "last"
	// SelectVal keeps the weights of the epoch with the lowest validation
	// loss (the weighted generator loss L_G), measured on held-out normal
	// training images with BatchNorm in inference mode. No anomaly and no
	// test image is involved.
	SelectVal = "val"
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
// `oddity train ganomaly` runs; PaperOptions is the paper's. Fit validates
// them.
type Options struct {
	// Width is the first convolution's channel count w (default 16; the
	// paper's 64).
	Width int `json:"width" opt:"width" help:"network width w (channels of the first layer)"`
	// NZ is the latent size (default 100).
	NZ int `json:"nz" opt:"nz" help:"latent size"`
	// Epochs is the number of passes over the training images (default 4;
	// the paper's 15).
	Epochs int `json:"epochs" opt:"epochs" help:"training epochs"`
	// BatchSize is the number of images per training step (default 64);
	// the last incomplete batch of an epoch is dropped, as the reference
	// code's loader does.
	BatchSize int `json:"batch_size" opt:"batch" help:"batch size"`
	// MaxImages, when positive, uses a seeded random subset of at most that
	// many training images, validation split included (default 12,000; 0
	// uses all, as the paper does).
	MaxImages int `json:"max_images" opt:"max-images" help:"use at most this many training images, validation included (0 = all)"`
	// Side is the network input side S, 4·2^k (default 0: the smallest
	// valid side that holds the images, 32 for MNIST and CIFAR-10).
	Side int `json:"side" opt:"side" help:"network input side 4·2^k (0 = smallest that holds the images)"`
	// LR is Adam's learning rate (default 2e-4).
	LR float64 `json:"lr" opt:"lr" help:"Adam learning rate"`
	// WAdv weights the adversarial (feature-matching) loss (default 1).
	WAdv float64 `json:"w_adv" opt:"w-adv" help:"adversarial loss weight"`
	// WCon weights the contextual (L1) loss (default 50).
	WCon float64 `json:"w_con" opt:"w-con" help:"contextual (L1) loss weight"`
	// WEnc weights the encoder (L2) loss (default 1).
	WEnc float64 `json:"w_enc" opt:"w-enc" help:"encoder loss weight"`
	// ValFraction is the fraction of the (used) training images held out
	// for validation (default 0.1).
	ValFraction float64 `json:"val_fraction" opt:"val-frac" help:"fraction of the training images held out for validation"`
	// Select is the epoch kept: SelectVal (default) or SelectLast.
	Select string `json:"select" opt:"select" help:"epoch kept: val (lowest validation loss) or last"`
	// FitMode is how images reach the network side: FitPad (default) or
	// FitResize.
	FitMode string `json:"fit_mode" opt:"fit" help:"how images reach the network side: pad (MNIST 28→32 with a 2-pixel border) or resize (bilinear)"`
	// Beta1 and Beta2 are Adam's moment decay rates (default 0.5 and
	// 0.999, the paper's); settable from code only.
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	// ReinitBelow re-initialises the discriminator when its loss falls
	// below it (default 1e-5, the reference code's; 0 never); settable from
	// code only.
	ReinitBelow float64 `json:"reinit_below"`
	// Seed seeds initialisation, the validation split, subsampling and
	// shuffling.
	Seed uint64 `json:"seed"`
}

// PaperOptions is the paper's schedule (docs/methods.md §1): width 64,
// nz 100, weights (1, 50, 1), 15 epochs of batch 64 on all training images,
// Adam(2e-4, 0.5, 0.999), discriminator reset below 1e-5, plus this
// package's 10% validation split and validation-selected epoch. It differs
// from DefaultOptions in Width, Epochs and MaxImages.
func PaperOptions() Options {
	return Options{Width: 64, NZ: 100, WAdv: 1, WCon: 50, WEnc: 1, Epochs: 15, BatchSize: 64,
		LR: 2e-4, Beta1: 0.5, Beta2: 0.999, ReinitBelow: 1e-5, FitMode: FitPad, ValFraction: 0.1,
		Select: SelectVal}
}

// DefaultOptions is the reduced schedule for a CPU that `oddity train
// ganomaly` and the benchmark suite run: width 16 and 4 epochs on a random
// 12,000 training images (10,800 after the validation split), other
// settings as PaperOptions. Results obtained with it are labelled as such.
func DefaultOptions() Options {
	o := PaperOptions()
	o.Width, o.Epochs, o.MaxImages = 16, 4, 12000
	return o
}

// Validate reports the first unusable option, naming it as the command line
// does; its errors wrap ErrOption.
func (o Options) Validate() error {
	bad := func(name string, v any, why string) error {
		return fmt.Errorf("%w: %s = %v: %s", ErrOption, name, v, why)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case o.Width < 1:
		return bad("width", o.Width, "must be at least 1")
	case o.NZ < 1:
		return bad("nz", o.NZ, "must be at least 1")
	case o.Epochs < 1:
		return bad("epochs", o.Epochs, "must be at least 1")
	case o.BatchSize < 2:
		return bad("batch", o.BatchSize, "must be at least 2 (BatchNorm)")
	case o.MaxImages < 0:
		return bad("max-images", o.MaxImages, "must not be negative")
	case !finite(o.LR) || !(o.LR > 0):
		return bad("lr", o.LR, "must be a positive number")
	case !finite(o.WAdv) || o.WAdv < 0:
		return bad("w-adv", o.WAdv, "must be a non-negative number")
	case !finite(o.WCon) || o.WCon < 0:
		return bad("w-con", o.WCon, "must be a non-negative number")
	case !finite(o.WEnc) || o.WEnc < 0:
		return bad("w-enc", o.WEnc, "must be a non-negative number")
	case !(o.ValFraction >= 0 && o.ValFraction <= 0.5):
		return bad("val-frac", o.ValFraction, "must lie in [0, 0.5]")
	case o.Select != SelectVal && o.Select != SelectLast:
		return bad("select", fmt.Sprintf("%q", o.Select), fmt.Sprintf("want %q or %q", SelectVal, SelectLast))
	case o.Select == SelectVal && o.ValFraction == 0:
		return bad("select", SelectVal, "needs a validation split (val-frac above 0)")
	case o.FitMode != FitPad && o.FitMode != FitResize:
		return bad("fit", fmt.Sprintf("%q", o.FitMode), fmt.Sprintf("want %q or %q", FitPad, FitResize))
	case !(o.Beta1 >= 0 && o.Beta1 < 1):
		return bad("Beta1", o.Beta1, "must lie in [0, 1)")
	case !(o.Beta2 >= 0 && o.Beta2 < 1):
		return bad("Beta2", o.Beta2, "must lie in [0, 1)")
	case !finite(o.ReinitBelow) || o.ReinitBelow < 0:
		return bad("ReinitBelow", o.ReinitBelow, "must be a non-negative number")
	}
	if o.Side != 0 {
		if err := dcgan.ValidSide(o.Side); err != nil {
			return bad("side", o.Side, err.Error())
		}
	}
	return nil
}
