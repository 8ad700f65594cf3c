package autoencoder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is the name the autoencoder is registered, saved and loaded
// under.
const Method = "autoencoder"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"dense autoencoder, scored by its mean squared reconstruction error",
		DefaultOptions, nil, New))
}

// Detector is the dense autoencoder baseline. It takes samples of any
// shape, flattened to rows, as given (scale them first). It implements
// detector.Embedder (the bottleneck code) and detector.Reconstructor.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int // training sample shape
	dim     int   // values per sample
	widths  []int // the encoder's widths, resolved from Options.Hidden
	net     *nn.Sequential
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: unsupervised reconstruction training on
// ts.X (labelled anomalies are ignored).
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	o := d.Options
	if err := o.Validate(); err != nil {
		return err
	}
	if err := detector.CheckInput(ts.X, nil); err != nil {
		return err
	}
	if ts.X.N == 0 {
		return fmt.Errorf("%w: autoencoder: no training samples", detector.ErrInput)
	}
	widths := o.widths(ts.X.Dim())
	net, err := train(ctx, ts.X, o, widths, ts.Progress)
	if err != nil {
		return err
	}
	d.shape, d.dim, d.widths, d.net = append([]int(nil), ts.X.Shape...), ts.X.Dim(), widths, net
	return nil
}

// chunk is the number of samples passed through the network at once when
// scoring.
const chunk = 4096

// forward checks x and passes it through net in chunks, calling fn with
// each chunk's first sample index, input and output.
func (d *Detector) forward(ctx context.Context, x *data.Dataset, net *nn.Sequential, fn func(lo int, in, out *tensor.Tensor)) error {
	if d.net == nil {
		return detector.ErrNotFitted
	}
	if err := detector.CheckInput(x, d.shape); err != nil {
		return err
	}
	for lo := 0; lo < x.N; lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+chunk, x.N)
		in := tensor.FromData(x.X[lo*d.dim:hi*d.dim], hi-lo, d.dim)
		fn(lo, in, net.Forward(nil, in))
	}
	return nil
}

// Score implements detector.Detector: the mean squared reconstruction
// error of each sample.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	var out []float64
	err := d.forward(ctx, x, d.net, func(lo int, in, rec *tensor.Tensor) {
		if out == nil {
			out = make([]float64, x.N)
		}
		for i := 0; i < in.Shape[0]; i++ {
			var s float64
			for j := 0; j < d.dim; j++ {
				e := float64(rec.Data[i*d.dim+j] - in.Data[i*d.dim+j])
				s += e * e
			}
			out[lo+i] = s / float64(d.dim)
		}
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []float64{}
	}
	return out, nil
}

// Embed implements detector.Embedder: the bottleneck code of each sample
// of x (x.N × the last hidden width, row-major) and that width, the output
// of the encoding half of the network.
func (d *Detector) Embed(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
	if d.net == nil {
		return nil, 0, detector.ErrNotFitted
	}
	width := d.widths[len(d.widths)-1]
	out := make([]float32, 0, x.N*width)
	err := d.forward(ctx, x, encoder(d.net, len(d.widths)), func(_ int, _, z *tensor.Tensor) {
		out = append(out, z.Data...)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, width, nil
}

// Reconstruct implements detector.Reconstructor: in is x itself (the
// network takes samples as given) and out holds each sample's
// reconstruction, in x's shape.
func (d *Detector) Reconstruct(ctx context.Context, x *data.Dataset) (in, out *data.Dataset, err error) {
	var rec []float32
	err = d.forward(ctx, x, d.net, func(_ int, _, r *tensor.Tensor) {
		if rec == nil {
			rec = make([]float32, 0, len(x.X))
		}
		rec = append(rec, r.Data...)
	})
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		rec = []float32{}
	}
	return x, &data.Dataset{Name: x.Name + " (reconstructed)", N: x.N, Shape: append([]int(nil), x.Shape...), X: rec}, nil
}

// config is the stored configuration.
type config struct {
	// Options are the detector's options as given.
	Options Options `json:"options"`
	// Widths are the encoder's widths the network was built with.
	Widths []int `json:"widths"`
	// Shape is the training sample shape.
	Shape []int `json:"shape"`
	// Dim is the number of values per sample.
	Dim int `json:"dim"`
}

// legacyConfig is the configuration saved before the options had JSON
// names: the options Fit resolved (widths in Hidden) and the input size.
type legacyConfig struct {
	Options struct {
		Hidden            []int
		Epochs, BatchSize int
		LR                float64
		MinSteps          int
		Seed              uint64
	} `json:"options"`
	Dim int `json:"dim"`
}

// Marshal implements detector.Detector: the configuration as JSON and the
// network's parameters as tensors.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.net == nil {
		return nil, detector.ErrNotFitted
	}
	b, err := json.Marshal(config{d.Options, d.widths, d.shape, d.dim})
	return &detector.Payload{Config: b, Tensors: d.net.Parameters()}, err
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options with the stored ones; a model saved before the options had JSON
// names loads too.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: autoencoder: %v", detector.ErrPayload, err)
	}
	if c.Shape == nil {
		var old legacyConfig
		if err := json.Unmarshal(p.Config, &old); err != nil {
			return fmt.Errorf("%w: autoencoder: %v", detector.ErrPayload, err)
		}
		o := old.Options
		c = config{
			Options: Options{Hidden: o.Hidden, Epochs: o.Epochs, BatchSize: o.BatchSize, LR: o.LR, MinSteps: o.MinSteps, Seed: o.Seed},
			Widths:  o.Hidden, Shape: []int{old.Dim}, Dim: old.Dim,
		}
	}
	size := 1
	for _, s := range c.Shape {
		size *= max(s, 0)
	}
	if len(c.Shape) == 0 || size != c.Dim {
		return fmt.Errorf("%w: autoencoder: sample shape %v for %d values per sample", detector.ErrPayload, c.Shape, c.Dim)
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	net, err := build(c.Dim, c.Widths, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return errors.Join(detector.ErrPayload, err)
	}
	for _, t := range net.Parameters() {
		src, err := p.Tensor(t.Name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(src.Shape, t.Shape) {
			return fmt.Errorf("%w: %s has shape %v, want %v", detector.ErrPayload, t.Name, src.Shape, t.Shape)
		}
		t.CopyFrom(src)
	}
	d.Options, d.shape, d.dim, d.widths, d.net = c.Options, c.Shape, c.Dim, c.Widths, net
	return nil
}
