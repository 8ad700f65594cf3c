package deepcluster

import (
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/tensor"
)

// Autoencoder is the DCEC convolutional autoencoder (docs/methods.md §3): three
// stride-2 convolutions and a dense embedding, mirrored by a dense layer and
// three transposed convolutions.
type Autoencoder struct {
	Encoder, Decoder *nn.Sequential
	// Channels and Side describe the C×Side×Side input; Embedding is z's size.
	Channels, Side, Embedding int
}

// NewAutoencoder builds the autoencoder for c×side×side inputs with a
// z-dimensional embedding. side must be a multiple of 4 of at least 8: the
// third convolution uses 'valid' padding where side is not a multiple of 8
// (28 → 3×3) and 'same' where it is (32 → 4×4, 16 → 2×2).
func NewAutoencoder(c, side, z int, r *rand.Rand) (*Autoencoder, error) {
	if c <= 0 || z <= 0 {
		return nil, fmt.Errorf("deepcluster: autoencoder needs positive channels and embedding size, got %d and %d", c, z)
	}
	if side < 8 || side%4 != 0 {
		return nil, fmt.Errorf("deepcluster: input side %d must be a multiple of 4 and at least 8", side)
	}
	q := side / 4 // side after two stride-2 convolutions
	pad3, bott := 0, (q-3)/2+1
	if side%8 == 0 {
		pad3, bott = 1, q/2
	}
	if bott < 1 {
		return nil, fmt.Errorf("deepcluster: input side %d too small", side)
	}
	flat := 128 * bott * bott
	// ConvT(k3, s2, p) maps bott back to q: (bott-1)·2 - 2p + 3 + op = q.
	op3 := q - ((bott-1)*2 - 2*pad3 + 3)
	if op3 < 0 || op3 > 1 {
		return nil, fmt.Errorf("deepcluster: cannot mirror input side %d", side)
	}
	enc := nn.NewSequential(
		nn.NewConv2d(c, 32, 5, 2, 2, true, r), nn.ReLU(),
		nn.NewConv2d(32, 64, 5, 2, 2, true, r), nn.ReLU(),
		nn.NewConv2d(64, 128, 3, 2, pad3, true, r), nn.ReLU(),
		nn.Flatten(),
		nn.NewLinear(flat, z, true, r),
	)
	dec := nn.NewSequential(
		nn.NewLinear(z, flat, true, r), nn.ReLU(),
		nn.Reshape(128, bott, bott),
		nn.NewConvTranspose2d(128, 64, 3, 2, pad3, op3, true, r), nn.ReLU(),
		nn.NewConvTranspose2d(64, 32, 5, 2, 2, 1, true, r), nn.ReLU(),
		nn.NewConvTranspose2d(32, c, 5, 2, 2, 1, true, r),
	)
	return &Autoencoder{Encoder: nn.Prefix("encoder", enc), Decoder: nn.Prefix("decoder", dec), Channels: c, Side: side, Embedding: z}, nil
}

// Forward returns the reconstruction of x and its embedding.
func (a *Autoencoder) Forward(tp *tensor.Tape, x *tensor.Tensor) (recon, z *tensor.Tensor) {
	z = a.Encoder.Forward(tp, x)
	return a.Decoder.Forward(tp, z), z
}

// Parameters lists encoder then decoder parameters.
func (a *Autoencoder) Parameters() []*tensor.Tensor {
	return append(a.Encoder.Parameters(), a.Decoder.Parameters()...)
}

// Encode implements Network.
func (a *Autoencoder) Encode(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	return a.Encoder.Forward(tp, x)
}

// Decode implements Network.
func (a *Autoencoder) Decode(tp *tensor.Tape, z *tensor.Tensor) *tensor.Tensor {
	return a.Decoder.Forward(tp, z)
}
