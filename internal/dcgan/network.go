package dcgan

import (
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/initw"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/tensor"
)

// ValidSide reports whether side is an input size the networks accept:
// 4·2^k for k ≥ 1 (8, 16, 32, 64, ...).
func ValidSide(side int) error {
	if side < 8 {
		return fmt.Errorf("image side %d is too small; sizes are 4·2^k (8, 16, 32, 64, ...)", side)
	}
	s := side
	for s > 4 {
		if s%2 != 0 {
			return fmt.Errorf("image side %d is not 4·2^k (8, 16, 32, 64, ...)", side)
		}
		s /= 2
	}
	if s != 4 {
		return fmt.Errorf("image side %d is not 4·2^k (8, 16, 32, 64, ...)", side)
	}
	return nil
}

// Encoder is the DCGAN encoder of docs/methods.md §1: a stride-2
// convolution to w channels, then stride-2 convolutions doubling the
// channels (each with BatchNorm and LeakyReLU(0.2)) down to 4×4, then a 4×4
// convolution to nz×1×1. Features is everything before the last
// convolution (GANomaly's discriminator features f(·)).
type Encoder struct {
	Features *nn.Sequential
	Final    *nn.Conv2d
}

// NewEncoder builds the encoder for c×side×side inputs. Convolutions have no
// bias.
func NewEncoder(c, side, w, nz int, r *rand.Rand) (*Encoder, error) {
	if err := ValidSide(side); err != nil {
		return nil, err
	}
	layers := []nn.Module{nn.NewConv2d(c, w, 4, 2, 1, false, r), nn.LeakyReLU(0.2)}
	ch, s := w, side/2
	for s > 4 {
		layers = append(layers, nn.NewConv2d(ch, 2*ch, 4, 2, 1, false, r), nn.NewBatchNorm(2*ch), nn.LeakyReLU(0.2))
		ch, s = 2*ch, s/2
	}
	final := nn.NewConv2d(ch, nz, 4, 1, 0, false, r)
	final.Weight.Name = "final.weight"
	return &Encoder{Features: nn.Prefix("features", nn.NewSequential(layers...)), Final: final}, nil
}

// Forward maps x to N×nz×1×1.
func (e *Encoder) Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	return e.Final.Forward(tp, e.Features.Forward(tp, x))
}

// Parameters implements nn.Module.
func (e *Encoder) Parameters() []*tensor.Tensor {
	return append(e.Features.Parameters(), e.Final.Parameters()...)
}

// Buffers implements nn.Buffered.
func (e *Encoder) Buffers() []*tensor.Tensor { return e.Features.Buffers() }

// SetTraining implements nn.Switchable.
func (e *Encoder) SetTraining(t bool) { e.Features.SetTraining(t) }

// NewDecoder builds the DCGAN decoder of docs/methods.md §1 from nz×1×1 to
// c×side×side: a 4×4 transposed convolution to the widest layer, stride-2
// transposed convolutions halving the channels (BatchNorm, ReLU), and a
// final stride-2 transposed convolution to c channels with Tanh.
func NewDecoder(c, side, w, nz int, r *rand.Rand) (*nn.Sequential, error) {
	if err := ValidSide(side); err != nil {
		return nil, err
	}
	ch := w
	for s := side / 2; s > 4; s /= 2 {
		ch *= 2
	}
	layers := []nn.Module{nn.NewConvTranspose2d(nz, ch, 4, 1, 0, 0, false, r), nn.NewBatchNorm(ch), nn.ReLU()}
	for s := 4; s < side/2; s *= 2 {
		layers = append(layers, nn.NewConvTranspose2d(ch, ch/2, 4, 2, 1, 0, false, r), nn.NewBatchNorm(ch/2), nn.ReLU())
		ch /= 2
	}
	layers = append(layers, nn.NewConvTranspose2d(ch, c, 4, 2, 1, 0, false, r), nn.Tanh())
	return nn.NewSequential(layers...), nil
}

// Init draws m's convolution weights from N(0, 0.02) and its BatchNorm
// scales from N(1, 0.02) with zero shifts, as the reference implementation's
// weights_init does (docs/methods.md §1).
func Init(m nn.Module, r *rand.Rand) {
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
