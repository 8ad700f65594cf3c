package ganomaly

import (
	"math/rand/v2"

	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/tensor"
)

// build makes GANomaly's networks for the geometry, drawing their
// initialisation from r; the shared detector (dcgan.Detector) trains them
// with the loop it shares with package cae (dcgan.Train: TrainStep on
// shuffled batches, the validation generator loss after each epoch, and
// the epoch Options.Select keeps).
func build(o Options, geo dcgan.Geometry, r *rand.Rand) (dcgan.Net, error) {
	n, err := NewNetworks(NetConfig{Channels: geo.C, Side: geo.S, Width: o.Width, NZ: o.NZ,
		WAdv: float32(o.WAdv), WCon: float32(o.WCon), WEnc: float32(o.WEnc),
		LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, ReinitBelow: float32(o.ReinitBelow)}, r)
	return ganNet{n}, err
}

// ganNet adapts Networks to the training loop.
type ganNet struct{ n *Networks }

// Step is TrainStep.
func (g ganNet) Step(x *tensor.Tensor) Losses { return g.n.TrainStep(x) }

// Eval is Networks.Eval; its G is the validation criterion.
func (g ganNet) Eval(x *tensor.Tensor) Losses { return g.n.Eval(x) }

// Score is A(x), Networks.Score.
func (g ganNet) Score(x *tensor.Tensor) []float32 { return g.n.Score(x) }

// Reconstruct is G(x), Networks.Reconstruct.
func (g ganNet) Reconstruct(x *tensor.Tensor) *tensor.Tensor { return g.n.Reconstruct(x) }

// Code is G_E(x).
func (g ganNet) Code(x *tensor.Tensor) *tensor.Tensor { return g.n.GE.Forward(nil, x) }

// SetTraining switches every network's BatchNorm layers.
func (g ganNet) SetTraining(t bool) { g.n.SetTraining(t) }

// Scoring returns GE, GD and E2 (D is not needed to score).
func (g ganNet) Scoring() []*tensor.Tensor {
	var ts []*tensor.Tensor
	for _, m := range []nn.Module{g.n.GE, g.n.GD, g.n.E2} {
		ts = append(ts, nn.State(m)...)
	}
	return ts
}

// All adds D's tensors to Scoring's: the epoch snapshots keep every network.
func (g ganNet) All() []*tensor.Tensor { return append(g.Scoring(), nn.State(g.n.D)...) }

// Metrics names the mean losses: adv, con, enc, g (weighted generator
// loss) and d (discriminator).
func (g ganNet) Metrics(st EpochStats) map[string]float64 {
	return map[string]float64{"adv": st.Adv, "con": st.Con, "enc": st.Enc, "g": st.G, "d": st.D}
}
