package deepcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is the name under which the detector registers.
const Method = "deepcluster"

func init() {
	// DefaultOptions are DCEC's settings
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Images,
		"Deep clustering, DCEC layout (Guo et al. 2017; taxonomy of Aljalbout et al. 2018)",
		DefaultOptions, nil, New))
}

// Detector is deep clustering as an anomaly detector (detector.Detector):
// Fit clusters the (unlabelled) training images, Score is the distance of
// z to the nearest centroid or 1 - max q (Options.Score). It is also a
// detector.Embedder (the embedding z) and a detector.Reconstructor (the
// autoencoder's reconstructions).
type Detector struct {
	// Options configures Fit; Unmarshal sets them to the saved model's.
	Options Options
	// Model is the trained model (nil before Fit). Score uses its
	// Options.Score.
	Model *Model
	// Result is what the last Fit produced (not saved).
	Result *Result
	// MonitorLabels makes Fit report ACC from the training labels, when
	// present, in its progress; they never influence training.
	MonitorLabels bool
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector. It validates the options, checks the
// training images (detector.CheckInput; square C×S×S or S×S images, at
// least K of them), and reports progress through ts.Progress (see
// Trainer.Progress).
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := d.Options.Validate(); err != nil {
		return err
	}
	if err := detector.CheckInput(ts.X, nil); err != nil {
		return err
	}
	t := &Trainer{Options: d.Options, Progress: ts.Progress}
	if d.MonitorLabels && ts.X.Y != nil {
		t.Labels = ts.X.Y
	}
	m, res, err := t.Fit(ctx, ts.X)
	if err != nil {
		return err
	}
	d.Model, d.Result = m, res
	return nil
}

// Score implements detector.Detector: one score per image of x, by the
// model's Options.Score. It is safe for concurrent use.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if d.Model == nil {
		return nil, detector.ErrNotFitted
	}
	return d.Model.Score(ctx, x, "")
}

// Embed implements detector.Embedder: the embedding z of every image of x,
// row-major, and its size.
func (d *Detector) Embed(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
	if d.Model == nil {
		return nil, 0, detector.ErrNotFitted
	}
	z, err := d.Model.Embed(ctx, x)
	if err != nil {
		return nil, 0, err
	}
	return z, d.Model.EmbeddingSize(), nil
}

// Reconstruct implements detector.Reconstructor: in holds x's images as
// the network takes them (C×S×S; S×S images gain their one channel), out
// the autoencoder's reconstructions of them.
func (d *Detector) Reconstruct(ctx context.Context, x *data.Dataset) (in, out *data.Dataset, err error) {
	if d.Model == nil {
		return nil, nil, detector.ErrNotFitted
	}
	rec, err := d.Model.Reconstruct(ctx, x)
	if err != nil {
		return nil, nil, err
	}
	shape := append([]int(nil), d.Model.Shape...)
	in = &data.Dataset{Name: x.Name, X: append([]float32(nil), x.X...), N: x.N, Shape: shape,
		Y: append([]int(nil), x.Y...), ClassNames: x.ClassNames}
	out = &data.Dataset{Name: x.Name, X: rec, N: x.N, Shape: append([]int(nil), shape...), Y: in.Y, ClassNames: x.ClassNames}
	return in, out, nil
}

// stored is the configuration saved with a model. The JSON key "config"
// and the field names are those of models saved before Options existed, so
// those still load.
type stored struct {
	Options    Options        `json:"config"`
	Shape      []int          `json:"shape"`
	InputShape []int          `json:"input_shape,omitempty"`
	Features   *featureConfig `json:"features,omitempty"`
}

// Marshal implements detector.Detector: the options and input shape as
// JSON, the autoencoder's parameters and the centroids as tensors.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.Model == nil {
		return nil, detector.ErrNotFitted
	}
	switch d.Model.Net.(type) {
	case *Autoencoder:
		if d.Model.Options.SelfExpressive {
			return nil, fmt.Errorf("deepcluster: a self-expressive model with the DCEC autoencoder cannot be saved")
		}
	case *ShallowAE:
		if !d.Model.Options.SelfExpressive {
			return nil, fmt.Errorf("deepcluster: the shallow autoencoder is saved only by the self-expressive mode")
		}
	default:
		return nil, fmt.Errorf("deepcluster: only the DCEC and the self-expressive mode's autoencoders can be saved, not %T", d.Model.Net)
	}
	ts := append([]*tensor.Tensor(nil), d.Model.Net.Parameters()...)
	ts = append(ts, d.Model.Centroids)
	p := &detector.Payload{Tensors: ts}
	st := stored{Options: d.Model.Options, Shape: d.Model.Shape, InputShape: d.Model.InputShape}
	if d.Model.Features != nil {
		fc, err := d.Model.Features.marshal(p)
		if err != nil {
			return nil, err
		}
		st.Features = fc
	}
	cfg, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	p.Config = cfg
	return p, nil
}

// Unmarshal implements detector.Detector. It restores the saved options
// whatever d was constructed with.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var s stored
	if err := json.Unmarshal(p.Config, &s); err != nil {
		return fmt.Errorf("%w: deepcluster config: %v", detector.ErrPayload, err)
	}
	o := s.Options
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	if len(s.Shape) != 3 || s.Shape[1] != s.Shape[2] {
		return fmt.Errorf("%w: deepcluster input shape %v", detector.ErrPayload, s.Shape)
	}
	if s.InputShape != nil {
		c, side, err := imageShape(&data.Dataset{Shape: s.InputShape})
		if err != nil || c != s.Shape[0] || side != s.Shape[1] {
			return fmt.Errorf("%w: deepcluster input shape %v for a network of %v", detector.ErrPayload, s.InputShape, s.Shape)
		}
	}
	net, dim, err := newNetwork(o, s.Shape[0], s.Shape[1], rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	mu := tensor.New(o.K, dim)
	mu.Name = "centroids"
	for _, dst := range append(net.Parameters(), mu) {
		src, err := p.Tensor(dst.Name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(src.Shape, dst.Shape) {
			return fmt.Errorf("%w: tensor %q has shape %v, want %v", detector.ErrPayload, dst.Name, src.Shape, dst.Shape)
		}
		if src.HasNaN() {
			return fmt.Errorf("%w: tensor %q holds NaN or infinity", detector.ErrPayload, dst.Name)
		}
		copy(dst.Data, src.Data)
	}
	var feats *FeatureLOF
	if s.Features != nil {
		if feats, err = unmarshalFeatures(s.Features, p); err != nil {
			return err
		}
	} else if o.Score == "lof" {
		return fmt.Errorf("%w: deepcluster model with score lof but no stored features", detector.ErrPayload)
	}
	d.Options = o
	d.Model = &Model{Options: o, Net: net, Centroids: mu, Shape: s.Shape, InputShape: s.InputShape, Features: feats}
	d.Result = nil
	return nil
}

// newNetwork builds the untrained network the options o describe for
// c×side×side images (the DCEC autoencoder, or the self-expressive mode's
// shallow one), and returns it with its embedding size.
func newNetwork(o Options, c, side int, r *rand.Rand) (Network, int, error) {
	if o.SelfExpressive {
		filters, _, _, _, _, _, _, _ := o.seDefaults()
		a, err := NewShallowAE(c, side, filters, r)
		if err != nil {
			return nil, 0, err
		}
		return a, a.CodeSize(), nil
	}
	a, err := NewAutoencoder(c, side, o.Embedding, r)
	if err != nil {
		return nil, 0, err
	}
	return a, o.Embedding, nil
}
