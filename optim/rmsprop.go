package optim

import (
	"math"

	"github.com/oddity-ml/oddity/tensor"
)

// RMSpropConfig holds RMSprop's settings, as torch.optim.RMSprop.
type RMSpropConfig struct {
	// LR is the learning rate.
	LR float64
	// Alpha is the decay of the squared-gradient average (Keras's rho).
	Alpha float64
	// Eps is added outside the square root.
	Eps float64
	// Momentum is the heavy-ball coefficient applied to the scaled gradient
	// (0: none).
	Momentum float64
	// Centered divides by an estimate of the gradient's standard deviation
	// (squared average minus squared mean) instead of its root mean square.
	Centered bool
	// WeightDecay adds WeightDecay·w to every gradient (L2 penalty).
	WeightDecay float64
}

// RMSpropDefaults returns PyTorch's defaults: lr 0.01, alpha 0.99, eps 1e-8,
// no momentum, not centered, no weight decay.
func RMSpropDefaults() RMSpropConfig { return RMSpropConfig{LR: 0.01, Alpha: 0.99, Eps: 1e-8} }

// RMSprop is Hinton's optimiser as PyTorch implements it:
//
//	s ← αs + (1-α)g²;  a ← √s + ε  (centered: ḡ ← αḡ + (1-α)g, a ← √(s-ḡ²) + ε);
//	b ← μb + g/a, w ← w - lr·b  (momentum μ > 0), or w ← w - lr·g/a.
type RMSprop struct {
	base
	cfg          RMSpropConfig
	sq, avg, buf [][]float32
}

// NewRMSprop returns an RMSprop optimiser over params.
func NewRMSprop(params []*tensor.Tensor, cfg RMSpropConfig) (*RMSprop, error) {
	const kind = "optim: RMSprop"
	for _, c := range []struct {
		what string
		v    float64
	}{{"alpha", cfg.Alpha}, {"eps", cfg.Eps}, {"momentum", cfg.Momentum}, {"weight decay", cfg.WeightDecay}} {
		if err := checkNonNeg(kind, c.what, c.v); err != nil {
			return nil, err
		}
	}
	b, err := newBase(kind, params, cfg.LR)
	if err != nil {
		return nil, err
	}
	o := &RMSprop{base: b, cfg: cfg}
	o.sq = o.addSlot("square_avg")
	if cfg.Momentum > 0 {
		o.buf = o.addSlot("momentum_buffer")
	}
	if cfg.Centered {
		o.avg = o.addSlot("grad_avg")
	}
	return o, nil
}

// Step applies one RMSprop update.
func (o *RMSprop) Step() {
	lr := float32(o.lr)
	al, oal := float32(o.cfg.Alpha), float32(1-o.cfg.Alpha)
	eps := float32(o.cfg.Eps)
	wd := float32(o.cfg.WeightDecay)
	mu := float32(o.cfg.Momentum)
	for i, p := range o.params {
		if !p.HasGrad() {
			continue
		}
		o.steps[i]++
		g, w, s := p.Grad(), p.Data, o.sq[i]
		for j := range w {
			gj := g[j]
			if wd != 0 {
				gj += wd * w[j]
			}
			s[j] = s[j]*al + oal*gj*gj
			var a float32
			if o.cfg.Centered {
				ga := o.avg[i]
				ga[j] = ga[j]*al + oal*gj
				a = float32(math.Sqrt(float64(s[j] - ga[j]*ga[j])))
			} else {
				a = float32(math.Sqrt(float64(s[j])))
			}
			a += eps
			if mu > 0 {
				b := o.buf[i]
				b[j] = b[j]*mu + gj/a
				w[j] -= lr * b[j]
			} else {
				w[j] -= lr * (gj / a)
			}
		}
	}
}
