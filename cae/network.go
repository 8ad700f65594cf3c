package cae

import (
	"math"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// build makes the autoencoder for the geometry, drawing its initialisation
// from r; the shared detector (dcgan.Detector) trains it with the loop it
// shares with GANomaly (dcgan.Train: Adam steps on the reconstruction loss
// over shuffled batches, the validation reconstruction loss after each
// epoch, and the epoch Options.Select keeps).
func build(o Options, geo dcgan.Geometry, r *rand.Rand) (dcgan.Net, error) {
	return newAutoencoder(geo.C, geo.S, o, r)
}

// autoencoder is GANomaly's generator alone: the DCGAN encoder G_E and
// decoder G_D, trained on the reconstruction loss with one Adam optimiser.
type autoencoder struct {
	enc *dcgan.Encoder
	dec *nn.Sequential
	opt *optim.Adam
	l1  bool
}

// newAutoencoder builds the networks for c×side×side inputs with DCGAN
// initialisation, drawing from r in the order encoder, decoder, encoder
// initialisation, decoder initialisation.
func newAutoencoder(c, side int, o Options, r *rand.Rand) (*autoencoder, error) {
	enc, err := dcgan.NewEncoder(c, side, o.Width, o.NZ, r)
	if err != nil {
		return nil, err
	}
	dec, err := dcgan.NewDecoder(c, side, o.Width, o.NZ, r)
	if err != nil {
		return nil, err
	}
	nn.Prefix("enc", enc)
	nn.Prefix("dec", dec)
	dcgan.Init(enc, r)
	dcgan.Init(dec, r)
	a := &autoencoder{enc: enc, dec: dec, l1: o.Loss == LossL1}
	a.opt, err = optim.NewAdam(append(enc.Parameters(), dec.Parameters()...),
		optim.AdamConfig{LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: 1e-8})
	return a, err
}

// loss is the training loss of the reconstruction xh of x.
func (a *autoencoder) loss(tp *tensor.Tape, xh, x *tensor.Tensor) *tensor.Tensor {
	if a.l1 {
		return tp.L1Loss(xh, x)
	}
	return tp.MSELoss(xh, x)
}

// Step takes one Adam step on the reconstruction loss of the batch x.
func (a *autoencoder) Step(x *tensor.Tensor) dcgan.Losses {
	tp := tensor.NewTape()
	l := a.loss(tp, a.dec.Forward(tp, a.enc.Forward(tp, x)), x)
	a.opt.ZeroGrad()
	tp.Backward(l)
	a.opt.Step()
	return dcgan.Losses{Con: l.Item(), G: l.Item()}
}

// Eval returns the reconstruction loss of x as Con and G.
func (a *autoencoder) Eval(x *tensor.Tensor) dcgan.Losses {
	l := a.loss(nil, a.Reconstruct(x), x).Item()
	return dcgan.Losses{Con: l, G: l}
}

// Code returns the bottleneck code G_E(x).
func (a *autoencoder) Code(x *tensor.Tensor) *tensor.Tensor { return a.enc.Forward(nil, x) }

// Reconstruct returns G_D(G_E(x)).
func (a *autoencoder) Reconstruct(x *tensor.Tensor) *tensor.Tensor {
	return a.dec.Forward(nil, a.enc.Forward(nil, x))
}

// Score returns each image's reconstruction error: the mean over its
// values of the squared (l2) or absolute (l1) difference.
func (a *autoencoder) Score(x *tensor.Tensor) []float32 {
	xh := a.Reconstruct(x)
	n := x.Shape[0]
	k := x.Len() / n
	out := make([]float32, n)
	for i := range out {
		var s float64
		for j := i * k; j < (i+1)*k; j++ {
			d := float64(xh.Data[j] - x.Data[j])
			if a.l1 {
				s += math.Abs(d)
			} else {
				s += d * d
			}
		}
		out[i] = float32(s / float64(k))
	}
	return out
}

// SetTraining switches the BatchNorm layers.
func (a *autoencoder) SetTraining(t bool) { a.enc.SetTraining(t); nn.SetTraining(a.dec, t) }

// Scoring returns every tensor of the encoder and decoder.
func (a *autoencoder) Scoring() []*tensor.Tensor {
	return append(nn.State(a.enc), nn.State(a.dec)...)
}

// All is Scoring: scoring needs every network.
func (a *autoencoder) All() []*tensor.Tensor { return a.Scoring() }

// Metrics names the mean reconstruction loss "loss".
func (a *autoencoder) Metrics(st dcgan.EpochStats) map[string]float64 {
	return map[string]float64{"loss": st.G}
}
