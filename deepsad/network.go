package deepsad

import (
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/tensor"
)

// slope is the LeakyReLU's negative slope between layers.
const slope = 0.01

// widths returns the layer widths of φ for d inputs: d, Hidden…, Rep.
func widths(d int, o Options) []int {
	return append(append([]int{d}, o.Hidden...), o.Rep)
}

// newEncoder returns φ's bias-free layers for the widths w, initialised
// from r; layer i's weight is named enc.i.weight.
func newEncoder(w []int, r *rand.Rand) []*nn.Linear {
	var ls []*nn.Linear
	for i := 0; i+1 < len(w); i++ {
		ls = append(ls, nn.Prefix(fmt.Sprintf("enc.%d", i), nn.NewLinear(w[i], w[i+1], false, r)))
	}
	return ls
}

// newDecoder returns the pretraining autoencoder's decoder, the encoder's
// mirror image, initialised from r.
func newDecoder(w []int, r *rand.Rand) []*nn.Linear {
	var ls []*nn.Linear
	for i := len(w) - 1; i > 0; i-- {
		ls = append(ls, nn.NewLinear(w[i], w[i-1], false, r))
	}
	return ls
}

// forward runs the layers ls on x with a LeakyReLU between them (none after
// the last).
func forward(tp *tensor.Tape, ls []*nn.Linear, x *tensor.Tensor) *tensor.Tensor {
	for i, l := range ls {
		x = l.Forward(tp, x)
		if i < len(ls)-1 {
			x = tp.LeakyReLU(x, slope)
		}
	}
	return x
}

// encode runs φ on x (n × d).
func (m *Detector) encode(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	return forward(tp, m.enc, x)
}

func params(ls []*nn.Linear) []*tensor.Tensor {
	var ps []*tensor.Tensor
	for _, l := range ls {
		ps = append(ps, l.Parameters()...)
	}
	return ps
}
