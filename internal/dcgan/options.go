package dcgan

import (
	"fmt"
	"math"
)

// Epoch selection rules (Settings.Select).
const (
	// SelectLast keeps the weights after the last epoch.
	SelectLast = "last"
	// SelectVal keeps the weights of the epoch with the lowest validation
	// loss (the method's Net.Eval G), measured on held-out normal training
	// images with BatchNorm in inference mode.
	SelectVal = "val"
)

// Settings are the options GANomaly and the autoencoder share, with the
// same names, defaults and meaning. Each method's Options embed them:
// package option sees the promoted fields (reflect.VisibleFields) and JSON
// flattens them, so the option names and the saved keys are those the
// methods had before they shared this struct.
type Settings struct {
	// Width is the first convolution's channel count w (default 16;
	// GANomaly's paper 64).
	Width int `json:"width" opt:"width" min:"1" help:"network width w (channels of the first layer)"`
	// NZ is the latent (bottleneck) size (default 100).
	NZ int `json:"nz" opt:"nz" min:"1" help:"latent size"`
	// Epochs is the number of passes over the training images (default 4;
	// GANomaly's paper 15).
	Epochs int `json:"epochs" opt:"epochs" min:"1" help:"training epochs"`
	// BatchSize is the number of images per training step (default 64);
	// the last incomplete batch of an epoch is dropped, as the reference
	// code's loader does.
	BatchSize int `json:"batch_size" opt:"batch" min:"2" help:"batch size"`
	// MaxImages, when positive, uses a seeded random subset of at most that
	// many training images, validation split included (default 12,000; 0
	// uses all, as the paper does).
	MaxImages int `json:"max_images" opt:"max-images" min:"0" help:"use at most this many training images, validation included (0 = all)"`
	// Side is the network input side S, 4·2^k (default 0: the smallest
	// valid side that holds the images, 32 for MNIST and CIFAR-10).
	Side int `json:"side" opt:"side" help:"network input side 4·2^k (0 = smallest that holds the images)"`
	// LR is Adam's learning rate (default 2e-4).
	LR float64 `json:"lr" opt:"lr" gt:"0" help:"Adam learning rate"`
	// ValFraction is the fraction of the (used) training images held out
	// for validation (default 0.1).
	ValFraction float64 `json:"val_fraction" opt:"val-frac" min:"0" max:"0.5" help:"fraction of the training images held out for validation"`
	// Select is the epoch kept: SelectVal (default) or SelectLast.
	Select string `json:"select" opt:"select" enum:"val|last" help:"epoch kept: val (lowest validation loss) or last"`
	// FitMode is how images reach the network side: FitPad (default) or
	// FitResize.
	FitMode string `json:"fit_mode" opt:"fit" enum:"pad|resize" help:"how images reach the network side: pad (MNIST 28→32 with a 2-pixel border) or resize (bilinear)"`
	// Beta1 and Beta2 are Adam's moment decay rates (default 0.5 and
	// 0.999, GANomaly's paper's); settable from code only.
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	// Seed seeds initialisation, the validation split, subsampling and
	// shuffling.
	Seed uint64 `json:"seed"`
}

// settings returns s; through embedding it makes a method's Options an
// Options.
func (s Settings) settings() Settings { return s }

// embedsSettings is a type that has Settings: Settings itself, or a type
// that embeds it.
type embedsSettings interface{ settings() Settings }

var _ embedsSettings = Settings{}

// Options is what the shared Detector needs of a method's options type:
// its Validate, whose errors wrap the method's ErrOption, and the embedded
// Settings.
type Options interface {
	Validate() error
	embedsSettings
}

// SettingsOf returns the Settings embedded in o.
func SettingsOf[O Options](o O) Settings { return o.settings() }

// PaperSettings are GANomaly's paper schedule (docs/methods.md §1): width
// 64, nz 100, 15 epochs of batch 64 on all training images, Adam(2e-4,
// 0.5, 0.999), images padded to the network side, plus a 10% validation
// split and the validation-selected epoch.
func PaperSettings() Settings {
	return Settings{Width: 64, NZ: 100, Epochs: 15, BatchSize: 64, LR: 2e-4, Beta1: 0.5, Beta2: 0.999,
		FitMode: FitPad, ValFraction: 0.1, Select: SelectVal}
}

// DefaultSettings are the reduced CPU schedule both methods run by
// default: width 16 and 4 epochs on a random 12,000 training images
// (10,800 after the validation split), other settings as PaperSettings.
func DefaultSettings() Settings {
	s := PaperSettings()
	s.Width, s.Epochs, s.MaxImages = 16, 4, 12000
	return s
}

// BadOption returns the error for the value v of the option name, as a
// method's Validate reports it: "errOption: name = v: why".
func BadOption(errOption error, name string, v any, why string) error {
	return fmt.Errorf("%w: %s = %v: %s", errOption, name, v, why)
}

// Finite reports whether v is neither NaN nor infinite.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ValidateSettings reports the first unusable setting of s that its tags
// cannot say (package option's Check, which a method's Validate runs on
// its Options first, checks the rest): the validation-selected epoch
// needs a validation split, Adam's Beta1 and Beta2 lie in [0, 1), and a
// nonzero Side is 4·2^k. Its errors name the setting as the command line
// does and wrap errOption, the method's ErrOption.
func ValidateSettings(s Settings, errOption error) error {
	bad := func(name string, v any, why string) error { return BadOption(errOption, name, v, why) }
	switch {
	case s.Select == SelectVal && s.ValFraction == 0:
		return bad("select", SelectVal, "needs a validation split (val-frac above 0)")
	case !(s.Beta1 >= 0 && s.Beta1 < 1):
		return bad("Beta1", s.Beta1, "must lie in [0, 1)")
	case !(s.Beta2 >= 0 && s.Beta2 < 1):
		return bad("Beta2", s.Beta2, "must lie in [0, 1)")
	}
	if s.Side != 0 {
		if err := ValidSide(s.Side); err != nil {
			return bad("side", s.Side, err.Error())
		}
	}
	return nil
}

// schedule is the training loop's view of the settings.
func (s Settings) schedule() Schedule {
	return Schedule{Epochs: s.Epochs, BatchSize: s.BatchSize, MaxImages: s.MaxImages,
		ValFraction: s.ValFraction, SelectVal: s.Select == SelectVal, NZ: s.NZ, Seed: s.Seed}
}

// ScheduleOf returns the training loop's view of the settings: the
// schedule whose Split gives the validation images Fit held out.
func ScheduleOf(s Settings) Schedule { return s.schedule() }
