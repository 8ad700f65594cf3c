package ganomaly

import (
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/initw"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// NetConfig fixes the networks' shapes and the losses' weights.
type NetConfig struct {
	// Channels and Side describe the C×Side×Side input (Side = 4·2^k).
	Channels, Side int
	// Width is w, the first layer's channel count (64 in the paper).
	Width int
	// NZ is the latent size (100).
	NZ int
	// WAdv, WCon, WEnc weight the adversarial, contextual and encoder losses
	// (1, 50, 1).
	WAdv, WCon, WEnc float32
	// LR, Beta1, Beta2 configure both Adam optimisers (2e-4, 0.5, 0.999).
	LR, Beta1, Beta2 float64
	// ReinitBelow re-initialises the discriminator's weights whenever its
	// loss falls below this value (1e-5 in the reference code; 0 never).
	ReinitBelow float32
}

// Networks are GANomaly's four networks and their optimisers:
// the generator G = (GE, GD), the second encoder E2 and the discriminator D.
type Networks struct {
	Cfg    NetConfig
	GE, E2 *Encoder
	GD     *nn.Sequential
	D      *Encoder
	OptG   *optim.Adam
	OptD   *optim.Adam
	// rng draws the discriminator's re-initialisations.
	rng *rand.Rand
}

// NewNetworks builds the networks with DCGAN initialisation (convolution
// weights N(0, 0.02), BatchNorm γ N(1, 0.02) and β 0) and their optimisers.
func NewNetworks(cfg NetConfig, r *rand.Rand) (*Networks, error) {
	if cfg.Channels <= 0 || cfg.Width <= 0 || cfg.NZ <= 0 {
		return nil, fmt.Errorf("ganomaly: channels, width and latent size must be positive, got %d, %d, %d", cfg.Channels, cfg.Width, cfg.NZ)
	}
	n := &Networks{Cfg: cfg, rng: r}
	var err error
	if n.GE, err = NewEncoder(cfg.Channels, cfg.Side, cfg.Width, cfg.NZ, r); err != nil {
		return nil, err
	}
	if n.GD, err = NewDecoder(cfg.Channels, cfg.Side, cfg.Width, cfg.NZ, r); err != nil {
		return nil, err
	}
	if n.E2, err = NewEncoder(cfg.Channels, cfg.Side, cfg.Width, cfg.NZ, r); err != nil {
		return nil, err
	}
	if n.D, err = NewEncoder(cfg.Channels, cfg.Side, cfg.Width, 1, r); err != nil {
		return nil, err
	}
	nn.Prefix("ge", n.GE)
	nn.Prefix("gd", n.GD)
	nn.Prefix("e2", n.E2)
	nn.Prefix("d", n.D)
	for _, m := range []nn.Module{n.GE, n.GD, n.E2, n.D} {
		dcganInit(m, r)
	}
	adam := optim.AdamConfig{LR: cfg.LR, Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: 1e-8}
	if n.OptG, err = optim.NewAdam(n.generatorParams(), adam); err != nil {
		return nil, err
	}
	if n.OptD, err = optim.NewAdam(n.D.Parameters(), adam); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Networks) generatorParams() []*tensor.Tensor {
	ps := append(n.GE.Parameters(), n.GD.Parameters()...)
	return append(ps, n.E2.Parameters()...)
}

// dcganInit draws convolution weights from N(0, 0.02) and BatchNorm scales
// from N(1, 0.02) with zero shifts, as the reference implementation does.
func dcganInit(m nn.Module, r *rand.Rand) {
	var visit func(m nn.Module)
	visit = func(m nn.Module) {
		switch l := m.(type) {
		case *nn.Sequential:
			for _, c := range l.Layers {
				visit(c)
			}
		case *Encoder:
			visit(l.Features)
			visit(l.Final)
		case *nn.Conv2d:
			normal(l.Weight, 0, 0.02, r)
		case *nn.ConvTranspose2d:
			normal(l.Weight, 0, 0.02, r)
		case *nn.BatchNorm:
			normal(l.Gamma, 1, 0.02, r)
			clear(l.Beta.Data)
		}
	}
	visit(m)
}

func normal(t *tensor.Tensor, mean, std float64, r *rand.Rand) {
	if err := initw.Normal(r, t, mean, std); err != nil {
		panic(err) // constant, valid arguments
	}
}

// SetTraining switches every network's BatchNorm layers.
func (n *Networks) SetTraining(t bool) {
	n.GE.SetTraining(t)
	n.GD.SetTraining(t)
	n.E2.SetTraining(t)
	n.D.SetTraining(t)
}

// Losses are one training step's loss values: the three generator terms
// (unweighted), the weighted generator loss G and the discriminator loss D.
// ReinitD reports that the step re-initialised the discriminator.
type Losses struct {
	Adv, Con, Enc, G, D float32
	ReinitD             bool
}

// ReinitD draws the discriminator's weights afresh (DCGAN initialisation),
// as the reference code does when the discriminator wins outright. Its
// optimiser state and running statistics are kept, as there.
func (n *Networks) ReinitD() { dcganInit(n.D, n.rng) }

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
