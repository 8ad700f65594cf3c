// Package autoencoder is the plain dense autoencoder baseline: a
// fully connected encoder and mirrored decoder trained to reconstruct the
// training data; a sample's anomaly score is its mean squared reconstruction
// error. Inputs are used as given (scale them first; the evaluation
// protocols min-max scale tabular data).
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
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// MethodName is the name autoencoder models are saved and loaded under.
const MethodName = "autoencoder"

func init() { detector.Register(MethodName, func() detector.Detector { return &Detector{} }) }

// Options configure the network and its training.
type Options struct {
	// Hidden are the encoder's layer widths; the decoder mirrors them.
	// Default [64, 32] capped at the input size.
	Hidden []int
	// Epochs, BatchSize and LR drive Adam (default 50, 128, 1e-3).
	Epochs, BatchSize int
	LR                float64
	// MinSteps is the least number of Adam steps: on a small data set
	// Epochs is raised until the training takes that many (default 2,000;
	// negative: Epochs as given). Fifty epochs of a 214-row table are only
	// 100 steps, which leave the network near its initialisation, scoring
	// little more than distance to the output bias.
	MinSteps int `json:",omitempty"`
	// Seed seeds initialisation and shuffling.
	Seed uint64
}

func (o Options) withDefaults(d int) Options {
	if len(o.Hidden) == 0 {
		o.Hidden = []int{min(64, max(2, d)), min(32, max(1, d/2))}
	}
	if o.Epochs == 0 {
		o.Epochs = 50
	}
	if o.BatchSize == 0 {
		o.BatchSize = 128
	}
	if o.LR == 0 {
		o.LR = 1e-3
	}
	if o.MinSteps == 0 {
		o.MinSteps = 2000
	}
	return o
}

// Detector is the dense autoencoder baseline.
type Detector struct {
	Options Options
	dim     int
	net     *nn.Sequential
}

// New returns an unfitted detector.
func New(opt Options) *Detector { return &Detector{Options: opt} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return MethodName }

func build(dim int, hidden []int, r *rand.Rand) (*nn.Sequential, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("autoencoder: input size %d", dim)
	}
	var layers []nn.Module
	in := dim
	for i, h := range hidden {
		if h <= 0 {
			return nil, fmt.Errorf("autoencoder: hidden width %d", h)
		}
		layers = append(layers, nn.NewLinear(in, h, true, r))
		if i < len(hidden)-1 {
			layers = append(layers, nn.ReLU())
		}
		in = h
	}
	for i := len(hidden) - 2; i >= 0; i-- {
		layers = append(layers, nn.ReLU(), nn.NewLinear(in, hidden[i], true, r))
		in = hidden[i]
	}
	layers = append(layers, nn.ReLU(), nn.NewLinear(in, dim, true, r))
	return nn.NewSequential(layers...), nil
}

// Fit implements detector.Detector: unsupervised reconstruction training on
// ts.X (labelled anomalies are ignored).
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	x := ts.X
	o := d.Options.withDefaults(x.Dim())
	if o.Epochs < 0 || o.BatchSize < 1 || o.LR <= 0 {
		return fmt.Errorf("autoencoder: bad options %+v", o)
	}
	r := rand.New(rand.NewPCG(o.Seed, 0xae))
	net, err := build(x.Dim(), o.Hidden, r)
	if err != nil {
		return err
	}
	cfg := optim.AdamDefaults()
	cfg.LR = o.LR
	opt, err := optim.NewAdam(net.Parameters(), cfg)
	if err != nil {
		return err
	}
	if per := (x.N + o.BatchSize - 1) / o.BatchSize; per > 0 && o.MinSteps > 0 && o.Epochs*per < o.MinSteps {
		o.Epochs = (o.MinSteps + per - 1) / per
	}
	k := x.Dim()
	for ep := 0; ep < o.Epochs; ep++ {
		perm := r.Perm(x.N)
		for lo := 0; lo < x.N; lo += o.BatchSize {
			if err := ctx.Err(); err != nil {
				return err
			}
			hi := min(lo+o.BatchSize, x.N)
			b := tensor.New(hi-lo, k)
			for i, j := range perm[lo:hi] {
				copy(b.Data[i*k:(i+1)*k], x.Row(j))
			}
			tp := tensor.NewTape()
			loss := tp.MSELoss(net.Forward(tp, b), b)
			opt.ZeroGrad()
			tp.Backward(loss)
			opt.Step()
		}
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "epoch", Done: ep + 1, Total: o.Epochs})
		}
	}
	d.Options, d.dim, d.net = o, k, net
	return nil
}

// Score implements detector.Detector: mean squared reconstruction error.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if d.net == nil {
		return nil, detector.ErrNotFitted
	}
	if x.Dim() != d.dim {
		return nil, fmt.Errorf("%w: autoencoder takes %d values per sample, got %d", detector.ErrSchema, d.dim, x.Dim())
	}
	out := make([]float64, x.N)
	const chunk = 4096
	for lo := 0; lo < x.N; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+chunk, x.N)
		in := tensor.FromData(x.X[lo*d.dim:hi*d.dim], hi-lo, d.dim)
		rec := d.net.Forward(nil, in)
		for i := lo; i < hi; i++ {
			var s float64
			for j := 0; j < d.dim; j++ {
				e := float64(rec.Data[(i-lo)*d.dim+j] - in.Data[(i-lo)*d.dim+j])
				s += e * e
			}
			out[i] = s / float64(d.dim)
		}
	}
	return out, nil
}

// Code returns the bottleneck code of each row of x (x.N × the last
// hidden width) and that width: the output of the encoding half of the
// network, which the benchmark report shows with t-SNE.
func (d *Detector) Code(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
	if d.net == nil {
		return nil, 0, detector.ErrNotFitted
	}
	if x.Dim() != d.dim {
		return nil, 0, fmt.Errorf("%w: autoencoder takes %d values per sample, got %d", detector.ErrSchema, d.dim, x.Dim())
	}
	// build lays out len(hidden) Linear layers with a ReLU between each
	// pair, then the decoder.
	enc := &nn.Sequential{Layers: d.net.Layers[:2*len(d.Options.Hidden)-1]}
	width := d.Options.Hidden[len(d.Options.Hidden)-1]
	out := make([]float32, 0, x.N*width)
	const chunk = 4096
	for lo := 0; lo < x.N; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		hi := min(lo+chunk, x.N)
		z := enc.Forward(nil, tensor.FromData(x.X[lo*d.dim:hi*d.dim], hi-lo, d.dim))
		out = append(out, z.Data...)
	}
	return out, width, nil
}

type config struct {
	Options Options `json:"options"`
	Dim     int     `json:"dim"`
}

// Marshal implements detector.Detector.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.net == nil {
		return nil, detector.ErrNotFitted
	}
	b, err := json.Marshal(config{d.Options, d.dim})
	return &detector.Payload{Config: b, Tensors: d.net.Parameters()}, err
}

// Unmarshal implements detector.Detector.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: autoencoder: %v", detector.ErrPayload, err)
	}
	net, err := build(c.Dim, c.Options.Hidden, rand.New(rand.NewPCG(0, 0)))
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
	d.Options, d.dim, d.net = c.Options, c.Dim, net
	return nil
}
