package ganomaly

import (
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// ValidSide reports whether side is an input size the networks accept:
// 4·2^k for k ≥ 1 (8, 16, 32, 64, ...).
func ValidSide(side int) error {
	if err := dcgan.ValidSide(side); err != nil {
		return fmt.Errorf("ganomaly: %w", err)
	}
	return nil
}

// SideFor returns the network side for h×w images: side if it is non-zero
// (it must then be 4·2^k), else the smallest 4·2^k ≥ max(h, w), at least 8.
func SideFor(h, w, side int) (int, error) { return dcgan.SideFor(h, w, side) }

// Encoder is GANomaly's DCGAN encoder (docs/methods.md §1): a stride-2
// convolution to w channels, then stride-2 convolutions doubling the
// channels (each with BatchNorm and LeakyReLU(0.2)) down to 4×4, then a 4×4
// convolution to nz×1×1. Its field Features (an *nn.Sequential) is
// everything before the last convolution, Final (an *nn.Conv2d) that
// convolution; Features is the discriminator's f(·). The type is shared
// with package cae.
type Encoder = dcgan.Encoder

// NewEncoder builds the encoder for c×side×side inputs. Convolutions have no
// bias.
func NewEncoder(c, side, w, nz int, r *rand.Rand) (*Encoder, error) {
	return dcgan.NewEncoder(c, side, w, nz, r)
}

// NewDecoder builds GANomaly's decoder from nz×1×1 to c×side×side: a 4×4
// transposed convolution to the widest layer, stride-2 transposed
// convolutions halving the channels (BatchNorm, ReLU), and a final stride-2
// transposed convolution to c channels with Tanh.
func NewDecoder(c, side, w, nz int, r *rand.Rand) (*nn.Sequential, error) {
	return dcgan.NewDecoder(c, side, w, nz, r)
}

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
		dcgan.Init(m, r)
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

// SetTraining switches every network's BatchNorm layers.
func (n *Networks) SetTraining(t bool) {
	n.GE.SetTraining(t)
	n.GD.SetTraining(t)
	n.E2.SetTraining(t)
	n.D.SetTraining(t)
}

// ReinitD draws the discriminator's weights afresh (DCGAN initialisation),
// as the reference code does when the discriminator wins outright. Its
// optimiser state and running statistics are kept, as there.
func (n *Networks) ReinitD() { dcgan.Init(n.D, n.rng) }
