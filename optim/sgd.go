package optim

import (
	"fmt"

	"github.com/oddity-ml/oddity/tensor"
)

// SGDConfig holds stochastic gradient descent's settings, as torch.optim.SGD.
type SGDConfig struct {
	// LR is the learning rate.
	LR float64
	// Momentum is the heavy-ball coefficient (0: plain SGD).
	Momentum float64
	// Dampening scales the new gradient's share of the momentum buffer by
	// (1 - Dampening) after the first step.
	Dampening float64
	// Nesterov uses Nesterov momentum; it needs Momentum > 0 and
	// Dampening = 0.
	Nesterov bool
	// WeightDecay adds WeightDecay·w to every gradient (L2 penalty).
	WeightDecay float64
}

// SGD is stochastic gradient descent with optional momentum:
//
//	g ← g + λw;  b ← g on the first step, μb + (1-τ)g after;
//	d ← g + μb (Nesterov) or b (heavy ball) or g (no momentum);  w ← w - lr·d.
type SGD struct {
	base
	cfg SGDConfig
	buf [][]float32
}

// NewSGD returns an SGD optimiser over params.
func NewSGD(params []*tensor.Tensor, cfg SGDConfig) (*SGD, error) {
	const kind = "optim: SGD"
	for _, c := range []struct {
		what string
		v    float64
	}{{"momentum", cfg.Momentum}, {"dampening", cfg.Dampening}, {"weight decay", cfg.WeightDecay}} {
		if err := checkNonNeg(kind, c.what, c.v); err != nil {
			return nil, err
		}
	}
	if cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0) {
		return nil, fmt.Errorf("%s: Nesterov momentum needs momentum > 0 and zero dampening (have %g, %g): %w", kind, cfg.Momentum, cfg.Dampening, ErrConfig)
	}
	b, err := newBase(kind, params, cfg.LR)
	if err != nil {
		return nil, err
	}
	o := &SGD{base: b, cfg: cfg}
	if cfg.Momentum != 0 {
		o.buf = o.addSlot("momentum_buffer")
	}
	return o, nil
}

// Step applies one SGD update.
func (o *SGD) Step() {
	lr := float32(o.lr)
	wd := float32(o.cfg.WeightDecay)
	mu := float32(o.cfg.Momentum)
	damp := float32(1 - o.cfg.Dampening)
	for i, p := range o.params {
		if !p.HasGrad() {
			continue
		}
		g, w := p.Grad(), p.Data
		first := o.steps[i] == 0
		o.steps[i]++
		for j := range w {
			d := g[j]
			if wd != 0 {
				d += wd * w[j]
			}
			if mu != 0 {
				b := o.buf[i]
				if first {
					b[j] = d
				} else {
					b[j] = b[j]*mu + damp*d
				}
				if o.cfg.Nesterov {
					d += mu * b[j]
				} else {
					d = b[j]
				}
			}
			w[j] -= lr * d
		}
	}
}
