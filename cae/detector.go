package cae

import (
	"context"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
)

// Method is the name under which the autoencoder registers.
const Method = "cae"

func init() {
	detector.Register(detector.Info{
		Method:  Method,
		Kind:    detector.Unsupervised | detector.Images,
		Summary: "Convolutional autoencoder baseline: GANomaly's generator trained on reconstruction loss alone",
		Options: func() any { o := DefaultOptions(); return &o },
		Paper:   func() any { o := PaperOptions(); return &o },
		New: func(o any) (detector.Detector, error) {
			opt := *o.(*Options)
			if err := opt.Validate(); err != nil {
				return nil, err
			}
			return New(opt), nil
		},
	})
}

// EpochStats is one epoch of training, as History records it: the epoch
// (1-based); Con and G, both the mean training reconstruction loss (Adv,
// Enc, D and ReinitD are 0: the autoencoder has no other term); Val, the
// validation reconstruction loss (0 without a validation split); and
// Seconds, the epoch's wall time. It is the type ganomaly.EpochStats.
type EpochStats = dcgan.EpochStats

// Detector is the convolutional-autoencoder baseline: Fit trains G_E and
// G_D of GANomaly's generator (same width and latent size, so the same
// size) on the reconstruction loss alone, without second encoder or
// adversary; Score is the per-image reconstruction error (mean squared, or
// mean absolute with Options.Loss "l1"). It also embeds images (their code
// G_E(x)) and reconstructs them (G(x)).
type Detector struct {
	opt Options
	fit *dcgan.Fitted // nil before Fit
}

// New returns an unfitted autoencoder; Fit validates the options.
func New(o Options) *Detector { return &Detector{opt: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Options returns the detector's options.
func (d *Detector) Options() Options { return d.opt }

// Fit implements detector.Detector: it trains on ts.X (normal images
// [C,H,W] or [H,W], pixel values in [0, 1]; labels are ignored), holding
// out Options.ValFraction of them for validation. It reports each epoch
// (phase "epoch", with the mean reconstruction loss "loss" and the
// validation loss "val") and, every few steps, the epoch's progress (phase
// "batch") to ts.Progress.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := d.opt.Validate(); err != nil {
		return err
	}
	if err := detector.CheckInput(ts.X, nil); err != nil {
		return fmt.Errorf("cae: %w", err)
	}
	d.fit = nil
	f, err := train(ctx, d.opt, ts.X, ts.Progress)
	if err != nil {
		return err
	}
	d.fit = f
	return nil
}

// fitted returns the trained state, or ErrNotFitted.
func (d *Detector) fitted() (*dcgan.Fitted, error) {
	if d.fit == nil {
		return nil, fmt.Errorf("cae: %w", detector.ErrNotFitted)
	}
	return d.fit, nil
}

// Score implements detector.Detector: the reconstruction error of every
// image of x (the training images' shape, pixel values in [0, 1]), higher
// is more anomalous. BatchNorm uses its running statistics, so an image's
// score does not depend on the other images scored with it. Safe for
// concurrent use.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	f, err := d.fitted()
	if err != nil {
		return nil, err
	}
	return f.Score(ctx, x)
}

// Embed implements detector.Embedder: the encoder's code G_E(x) (the
// bottleneck) of every image of x, x.N rows of Options.NZ values, computed in
// inference mode.
func (d *Detector) Embed(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
	f, err := d.fitted()
	if err != nil {
		return nil, 0, err
	}
	return f.Embed(ctx, x)
}

// Reconstruct implements detector.Reconstructor: every image of x as the
// network takes it (padded or resized to Side()×Side()) and its
// reconstruction G(x), both C×Side()×Side() images in x's scale [0, 1] (the
// networks' [-1, 1] mapped back by v ↦ (v + 1)/2).
func (d *Detector) Reconstruct(ctx context.Context, x *data.Dataset) (in, out *data.Dataset, err error) {
	f, err := d.fitted()
	if err != nil {
		return nil, nil, err
	}
	return f.Reconstruct(ctx, x)
}

// Side is the network input side the detector uses (0 before Fit).
func (d *Detector) Side() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Geo.S
}

// History returns the per-epoch training record (nil before Fit).
func (d *Detector) History() []EpochStats {
	if d.fit == nil {
		return nil
	}
	return append([]EpochStats(nil), d.fit.History...)
}

// BestEpoch is the (1-based) epoch whose weights the detector kept (0
// before Fit).
func (d *Detector) BestEpoch() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Best
}

// TrainImages counts the images Fit trained on (after MaxImages and the
// validation split).
func (d *Detector) TrainImages() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Train
}

// ValImages counts the held-out validation images of Fit.
func (d *Detector) ValImages() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Val
}

// Marshal implements detector.Detector: the options, input geometry and
// training history as JSON, and the encoder's and decoder's tensors,
// BatchNorm running statistics included.
func (d *Detector) Marshal() (*detector.Payload, error) {
	f, err := d.fitted()
	if err != nil {
		return nil, err
	}
	return f.Marshal(d.opt)
}

// Unmarshal implements detector.Detector: it restores the saved options
// (whatever d was made with) and networks. Models saved by package
// ganomaly before the autoencoder had its own package (method "cae") load
// unchanged: the stored JSON keys are the same, and GANomaly's loss
// weights stored with them are ignored.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var o Options
	st, err := dcgan.Decode(p, &o)
	if err != nil {
		return fmt.Errorf("cae: %w", err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	geo, err := st.Geometry(o.FitMode)
	if err != nil {
		return fmt.Errorf("cae: %w", err)
	}
	net, err := build(o, geo)
	if err != nil {
		return fmt.Errorf("%w: cae: %v", detector.ErrPayload, err)
	}
	f, err := st.Restore(net, geo, o.NZ)
	if err != nil {
		return fmt.Errorf("cae: %w", err)
	}
	d.opt, d.fit = o, f
	return nil
}

// Interfaces the detector implements.
var (
	_ detector.Detector      = (*Detector)(nil)
	_ detector.Embedder      = (*Detector)(nil)
	_ detector.Reconstructor = (*Detector)(nil)
)
