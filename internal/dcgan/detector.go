package dcgan

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// netStream seeds the networks' initialisation (ASCII "NET").
const netStream = 0x4e4554

// Build makes a method's networks for the geometry from its options,
// drawing their initialisation from r.
type Build[O Options] func(o O, geo Geometry, r *rand.Rand) (Net, error)

// Detector is the detector GANomaly and the autoencoder share, for a
// method's options type O: each method's Detector embeds it, so its
// methods are the method's. The method supplies its networks (Build); the
// training loop (Train), scoring, embedding, reconstruction and the model
// payload are the same for both.
type Detector[O Options] struct {
	method string
	build  Build[O]
	opt    O
	fit    *Fitted // nil before Fit
}

// NewDetector returns an unfitted detector of the method (its registered
// name, which also prefixes its errors) with options o and networks made
// by build; Fit validates the options.
func NewDetector[O Options](method string, o O, build Build[O]) Detector[O] {
	return Detector[O]{method: method, build: build, opt: o}
}

// FittedOf returns the trained state of d, nil before Fit; tests look
// inside it.
func FittedOf[O Options](d *Detector[O]) *Fitted { return d.fit }

// Method implements detector.Detector: the method's registered name.
func (d *Detector[O]) Method() string { return d.method }

// Options returns the detector's options.
func (d *Detector[O]) Options() O { return d.opt }

// newNet builds the networks for geo, drawn from the options' seed.
func (d *Detector[O]) newNet(o O, geo Geometry) (Net, error) {
	return d.build(o, geo, rand.New(rand.NewPCG(o.settings().Seed, netStream)))
}

// Fit implements detector.Detector: it validates the options and trains
// the networks on ts.X (normal images [C,H,W] or [H,W], pixel values in
// [0, 1]; labels are ignored) with Train, holding out ValFraction of them
// for validation. It reports each epoch (phase "epoch", with the method's
// Net.Metrics and the validation loss "val") and, every few steps, the
// epoch's progress (phase "batch") to ts.Progress.
func (d *Detector[O]) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := d.opt.Validate(); err != nil {
		return err
	}
	if err := detector.CheckInput(ts.X, nil); err != nil {
		return fmt.Errorf("%s: %w", d.method, err)
	}
	d.fit = nil
	s := d.opt.settings()
	geo, err := NewGeometry(ts.X.Shape, s.Side, s.FitMode)
	if err != nil {
		return fmt.Errorf("%s: %w", d.method, err)
	}
	net, err := d.newNet(d.opt, geo)
	if err != nil {
		return fmt.Errorf("%s: %w", d.method, err)
	}
	f, err := Train(ctx, net, geo, ts.X, s.schedule(), ts.Progress)
	if err != nil {
		return fmt.Errorf("%s: %w", d.method, err)
	}
	d.fit = f
	return nil
}

// fitted returns the trained state, or ErrNotFitted.
func (d *Detector[O]) fitted() (*Fitted, error) {
	if d.fit == nil {
		return nil, fmt.Errorf("%s: %w", d.method, detector.ErrNotFitted)
	}
	return d.fit, nil
}

// Score implements detector.Detector: the method's raw score (Net.Score)
// of every image of x (the training images' shape, pixel values in
// [0, 1]), higher is more anomalous. BatchNorm uses its running
// statistics, so an image's score does not depend on the other images
// scored with it. Safe for concurrent use.
func (d *Detector[O]) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	f, err := d.fitted()
	if err != nil {
		return nil, err
	}
	return f.Score(ctx, x)
}

// Embed implements detector.Embedder: the encoder's code G_E(x) of every
// image of x, x.N rows of NZ values, computed in inference mode.
func (d *Detector[O]) Embed(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
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
func (d *Detector[O]) Reconstruct(ctx context.Context, x *data.Dataset) (in, out *data.Dataset, err error) {
	f, err := d.fitted()
	if err != nil {
		return nil, nil, err
	}
	return f.Reconstruct(ctx, x)
}

// Side is the network input side the detector uses (0 before Fit).
func (d *Detector[O]) Side() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Geo.S
}

// History returns the per-epoch training record (nil before Fit).
func (d *Detector[O]) History() []EpochStats {
	if d.fit == nil {
		return nil
	}
	return append([]EpochStats(nil), d.fit.History...)
}

// BestEpoch is the (1-based) epoch whose weights the detector kept (0
// before Fit).
func (d *Detector[O]) BestEpoch() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Best
}

// TrainImages counts the images Fit trained on (after MaxImages and the
// validation split).
func (d *Detector[O]) TrainImages() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Train
}

// ValImages counts the held-out validation images of Fit.
func (d *Detector[O]) ValImages() int {
	if d.fit == nil {
		return 0
	}
	return d.fit.Val
}

// Marshal implements detector.Detector: the options, input geometry and
// training history as JSON, and the tensors scoring needs (Net.Scoring),
// BatchNorm running statistics included.
func (d *Detector[O]) Marshal() (*detector.Payload, error) {
	f, err := d.fitted()
	if err != nil {
		return nil, err
	}
	return f.Marshal(d.opt)
}

// Unmarshal implements detector.Detector: it restores the saved options
// (whatever d was made with) and networks. Stored options the method does
// not have are ignored.
func (d *Detector[O]) Unmarshal(p *detector.Payload) error {
	var o O
	st, err := Decode(p, &o)
	if err != nil {
		return fmt.Errorf("%s: %w", d.method, err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	s := o.settings()
	geo, err := st.Geometry(s.FitMode)
	if err != nil {
		return fmt.Errorf("%s: %w", d.method, err)
	}
	net, err := d.newNet(o, geo)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", detector.ErrPayload, d.method, err)
	}
	f, err := st.Restore(net, geo, s.NZ)
	if err != nil {
		return fmt.Errorf("%s: %w", d.method, err)
	}
	d.opt, d.fit = o, f
	return nil
}
