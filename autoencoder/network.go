package autoencoder

import (
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/nn"
)

// build returns the network for samples of dim values: Linear layers to
// each width of hidden with a ReLU between each pair (the encoder, ending
// at the bottleneck code without an activation), then the mirrored
// decoder, ReLU before each of its Linear layers, back to dim values.
func build(dim int, hidden []int, r *rand.Rand) (*nn.Sequential, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("autoencoder: input size %d", dim)
	}
	if len(hidden) == 0 {
		return nil, fmt.Errorf("autoencoder: no hidden layer")
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

// encoder returns the encoding half of a network build made with nHidden
// widths: its first 2·nHidden−1 layers.
func encoder(net *nn.Sequential, nHidden int) *nn.Sequential {
	return &nn.Sequential{Layers: net.Layers[:2*nHidden-1]}
}
