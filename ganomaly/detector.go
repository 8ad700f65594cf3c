package ganomaly

import (
	"context"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
)

// Method is the name under which GANomaly registers.
const Method = "ganomaly"

func init() {
	detector.Register(detector.Info{
		Method:  Method,
		Kind:    detector.Unsupervised | detector.Images,
		Summary: "GANomaly (Akcay, Atapour-Abarghouei and Breckon 2018)",
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
// (1-based); the mean training losses Adv, Con, Enc (unweighted), G
// (weighted generator loss) and D (discriminator); Val, the validation
// generator loss (0 without a validation split); ReinitD, the number of
// discriminator re-initialisations; and Seconds, the epoch's wall time.
type EpochStats = dcgan.EpochStats

// Detector is the GANomaly detector: Fit trains the generator, second
// encoder and discriminator on normal images; Score is the latent distance
// A(x) = mean((G_E(x) - E(G(x)))²). It also embeds images (their code
// G_E(x)) and reconstructs them (G(x)).
type Detector struct {
	opt Options
	fit *dcgan.Fitted // nil before Fit
}

// New returns an unfitted GANomaly detector; Fit validates the options.
func New(o Options) *Detector { return &Detector{opt: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Options returns the detector's options.
func (d *Detector) Options() Options { return d.opt }

// Fit implements detector.Detector: it trains on ts.X (normal images
// [C,H,W] or [H,W], pixel values in [0, 1]; labels are ignored), holding
// out Options.ValFraction of them for validation. It reports each epoch
// (phase "epoch", with the mean losses adv, con, enc, g, d and the
// validation loss val) and, every few steps, the epoch's progress (phase
// "batch") to ts.Progress.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := d.opt.Validate(); err != nil {
		return err
	}
	if err := detector.CheckInput(ts.X, nil); err != nil {
		return fmt.Errorf("ganomaly: %w", err)
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
		return nil, fmt.Errorf("ganomaly: %w", detector.ErrNotFitted)
	}
	return d.fit, nil
}

// Score implements detector.Detector: the raw anomaly score A(x) of every
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

// Embed implements detector.Embedder: the generator encoder's code G_E(x)
// of every image of x, x.N rows of Options.NZ values, computed in
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
// training history as JSON, and the tensors scoring needs (G_E, G_D and E),
// BatchNorm running statistics included.
func (d *Detector) Marshal() (*detector.Payload, error) {
	f, err := d.fitted()
	if err != nil {
		return nil, err
	}
	return f.Marshal(d.opt)
}

// Unmarshal implements detector.Detector: it restores the saved options
// (whatever d was made with) and networks. Models saved before the
// options had option names load unchanged: the stored JSON keys are the
// same.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var o Options
	st, err := dcgan.Decode(p, &o)
	if err != nil {
		return fmt.Errorf("ganomaly: %w", err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	geo, err := st.Geometry(o.FitMode)
	if err != nil {
		return fmt.Errorf("ganomaly: %w", err)
	}
	net, err := build(o, geo)
	if err != nil {
		return fmt.Errorf("%w: ganomaly: %v", detector.ErrPayload, err)
	}
	f, err := st.Restore(net, geo, o.NZ)
	if err != nil {
		return fmt.Errorf("ganomaly: %w", err)
	}
	d.opt, d.fit = o, f
	return nil
}

// MinMax returns the scores scaled to [0, 1] by their minimum and maximum
// (all zeros when they are equal). It is for reports and plots only: models
// store and return raw scores.
func MinMax(scores []float64) []float64 {
	if len(scores) == 0 {
		return nil
	}
	lo, hi := scores[0], scores[0]
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	out := make([]float64, len(scores))
	if hi > lo {
		for i, s := range scores {
			out[i] = (s - lo) / (hi - lo)
		}
	}
	return out
}

// Interfaces the detector implements.
var (
	_ detector.Detector      = (*Detector)(nil)
	_ detector.Embedder      = (*Detector)(nil)
	_ detector.Reconstructor = (*Detector)(nil)
)
