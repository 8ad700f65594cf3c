package ganomaly

import (
	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/tensor"
)

// Losses are one training step's loss values: the three generator terms
// (unweighted), the weighted generator loss G and the discriminator loss D.
// ReinitD reports that the step re-initialised the discriminator. The type
// is shared with package cae (whose reconstruction loss is Con and G).
type Losses = dcgan.Losses

// TrainStep runs one generator update and one discriminator update on the
// batch x (N×C×S×S in [-1, 1]):
//
//	z = GE(x), x' = GD(z), z' = E2(x')
//	L_G = w_adv·mean((f(x) - f(x'))²) + w_con·mean|x - x'| + w_enc·mean((z - z')²)
//	L_D = ½(BCE(D(x), 1) + BCE(D(x'.detach()), 0))
//
// The discriminator's parameters are frozen during the generator's step
// (their gradients from L_G would be discarded anyway). The real batch goes
// through the discriminator once, on the discriminator's tape, and its
// features f(x) serve as the generator's constant target too: D's weights
// and the batch are the same in both steps, so f(x) is the same value the
// reference code computes twice. The one visible difference is that D's
// BatchNorm running statistics see the real batch once per step rather than
// twice (they only enter the validation losses, never the score).
func (n *Networks) TrainStep(x *tensor.Tensor) Losses {
	c := n.Cfg
	// The discriminator's forward pass on the real batch, recorded for its
	// own step below.
	tpD := tensor.NewTape()
	fRealD := n.D.Features.Forward(tpD, x)
	fReal := fRealD.Detach()

	// Generator step.
	for _, p := range n.D.Parameters() {
		p.SetRequiresGrad(false)
	}
	tp := tensor.NewTape()
	z := n.GE.Forward(tp, x)
	xh := n.GD.Forward(tp, z)
	zh := n.E2.Forward(tp, xh)
	fFake := n.D.Features.Forward(tp, xh)
	lAdv := tp.MSELoss(fFake, fReal)
	lCon := tp.L1Loss(xh, x)
	lEnc := tp.MSELoss(zh, z)
	lG := tp.Add(tp.Add(tp.MulScalar(lAdv, c.WAdv), tp.MulScalar(lCon, c.WCon)), tp.MulScalar(lEnc, c.WEnc))
	n.OptG.ZeroGrad()
	tp.Backward(lG)
	n.OptG.Step()
	for _, p := range n.D.Parameters() {
		p.SetRequiresGrad(true)
	}

	// Discriminator step on the real batch and the detached reconstruction.
	dReal := n.D.Final.Forward(tpD, fRealD)
	dFake := n.D.Forward(tpD, xh.Detach())
	ones, zeros := tensor.Full(1, dReal.Shape...), tensor.New(dFake.Shape...)
	lD := tpD.MulScalar(tpD.Add(tpD.BCEWithLogits(dReal, ones), tpD.BCEWithLogits(dFake, zeros)), 0.5)
	n.OptD.ZeroGrad()
	tpD.Backward(lD)
	n.OptD.Step()
	l := Losses{Adv: lAdv.Item(), Con: lCon.Item(), Enc: lEnc.Item(), G: lG.Item(), D: lD.Item()}
	if l.D < c.ReinitBelow {
		n.ReinitD()
		l.ReinitD = true
	}
	return l
}

// Eval computes the losses of TrainStep on x without changing any weight
// (call SetTraining(false) first to use BatchNorm's running statistics, as
// validation does).
func (n *Networks) Eval(x *tensor.Tensor) Losses {
	c := n.Cfg
	var tp *tensor.Tape
	z := n.GE.Forward(tp, x)
	xh := n.GD.Forward(tp, z)
	zh := n.E2.Forward(tp, xh)
	fReal, fFake := n.D.Features.Forward(tp, x), n.D.Features.Forward(tp, xh)
	l := Losses{Adv: tp.MSELoss(fFake, fReal).Item(), Con: tp.L1Loss(xh, x).Item(), Enc: tp.MSELoss(zh, z).Item()}
	l.G = c.WAdv*l.Adv + c.WCon*l.Con + c.WEnc*l.Enc
	dReal, dFake := n.D.Final.Forward(tp, fReal), n.D.Final.Forward(tp, fFake)
	ones, zeros := tensor.Full(1, dReal.Shape...), tensor.New(dFake.Shape...)
	l.D = 0.5 * (tp.BCEWithLogits(dReal, ones).Item() + tp.BCEWithLogits(dFake, zeros).Item())
	return l
}

// Reconstruct returns G(x) = GD(GE(x)) without recording gradients.
func (n *Networks) Reconstruct(x *tensor.Tensor) *tensor.Tensor {
	return n.GD.Forward(nil, n.GE.Forward(nil, x))
}

// Score returns A(x) = mean over the latent dimensions of (GE(x) - E2(G(x)))²
// for every image of the batch x, with the networks as they are (call
// SetTraining(false) first so BatchNorm uses running statistics).
func (n *Networks) Score(x *tensor.Tensor) []float32 {
	z := n.GE.Forward(nil, x)
	zh := n.E2.Forward(nil, n.GD.Forward(nil, z))
	b, nz := x.Shape[0], n.Cfg.NZ
	out := make([]float32, b)
	for i := 0; i < b; i++ {
		var s float32
		for j := 0; j < nz; j++ {
			d := z.Data[i*nz+j] - zh.Data[i*nz+j]
			s += d * d
		}
		out[i] = s / float32(nz)
	}
	return out
}
