package ganomaly

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/tensor"
)

// netStream seeds the networks' initialisation (ASCII "NET").
const netStream = 0x4e4554

// build makes GANomaly's networks for the geometry, drawn from the options'
// seed.
func build(o Options, geo dcgan.Geometry) (ganNet, error) {
	r := rand.New(rand.NewPCG(o.Seed, netStream))
	n, err := NewNetworks(NetConfig{Channels: geo.C, Side: geo.S, Width: o.Width, NZ: o.NZ,
		WAdv: float32(o.WAdv), WCon: float32(o.WCon), WEnc: float32(o.WEnc),
		LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, ReinitBelow: float32(o.ReinitBelow)}, r)
	return ganNet{n}, err
}

// schedule is the training loop's view of the options.
func (o Options) schedule() dcgan.Schedule {
	return dcgan.Schedule{Epochs: o.Epochs, BatchSize: o.BatchSize, MaxImages: o.MaxImages,
		ValFraction: o.ValFraction, SelectVal: o.Select == SelectVal, NZ: o.NZ, Seed: o.Seed}
}

// train fits GANomaly's networks on the images x (docs/methods.md §1):
// TrainStep on shuffled batches for Options.Epochs epochs, the validation
// generator loss after each epoch, and the epoch Options.Select keeps. The
// loop itself is shared with package cae (internal/dcgan.Train).
func train(ctx context.Context, o Options, x *data.Dataset, progress func(detector.Progress)) (*dcgan.Fitted, error) {
	geo, err := dcgan.NewGeometry(x.Shape, o.Side, o.FitMode)
	if err != nil {
		return nil, fmt.Errorf("ganomaly: %w", err)
	}
	net, err := build(o, geo)
	if err != nil {
		return nil, fmt.Errorf("ganomaly: %w", err)
	}
	f, err := dcgan.Train(ctx, net, geo, x, o.schedule(), progress)
	if err != nil {
		return nil, fmt.Errorf("ganomaly: %w", err)
	}
	return f, nil
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
