package optim

import (
	"math"

	"github.com/oddity-ml/oddity/kernels"
	"github.com/oddity-ml/oddity/tensor"
)

// AdamConfig holds Adam's settings, as torch.optim.Adam and AdamW.
type AdamConfig struct {
	// LR is the learning rate.
	LR float64
	// Beta1 and Beta2 are the decay rates of the gradient's first and second
	// moment estimates, in [0, 1).
	Beta1, Beta2 float64
	// Eps is added to the bias-corrected root second moment.
	Eps float64
	// WeightDecay is the L2 coefficient: added to the gradient as
	// WeightDecay·w (torch.optim.Adam), or, with Decoupled, applied to the
	// weights directly as w ← w·(1 - LR·WeightDecay) before the update
	// (torch.optim.AdamW).
	WeightDecay float64
	// Decoupled selects AdamW's decoupled weight decay.
	Decoupled bool
}

// AdamDefaults returns PyTorch's Adam defaults: lr 1e-3, betas (0.9, 0.999),
// eps 1e-8, no weight decay.
func AdamDefaults() AdamConfig { return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// AdamWDefaults returns PyTorch's AdamW defaults: Adam's, with decoupled
// weight decay 0.01.
func AdamWDefaults() AdamConfig {
	c := AdamDefaults()
	c.WeightDecay, c.Decoupled = 0.01, true
	return c
}

// Adam is Kingma and Ba's optimiser, step t of a parameter being
//
//	m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;
//	w ← w - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε).
type Adam struct {
	base
	cfg  AdamConfig
	m, v [][]float32
}

// NewAdam returns an Adam (or, with cfg.Decoupled, AdamW) optimiser over
// params.
func NewAdam(params []*tensor.Tensor, cfg AdamConfig) (*Adam, error) {
	const kind = "optim: Adam"
	if err := checkUnit(kind, "beta1", cfg.Beta1); err != nil {
		return nil, err
	}
	if err := checkUnit(kind, "beta2", cfg.Beta2); err != nil {
		return nil, err
	}
	if err := checkNonNeg(kind, "eps", cfg.Eps); err != nil {
		return nil, err
	}
	if err := checkNonNeg(kind, "weight decay", cfg.WeightDecay); err != nil {
		return nil, err
	}
	b, err := newBase(kind, params, cfg.LR)
	if err != nil {
		return nil, err
	}
	o := &Adam{base: b, cfg: cfg}
	o.m = o.addSlot("exp_avg")
	o.v = o.addSlot("exp_avg_sq")
	return o, nil
}

// Step applies one Adam update.
func (o *Adam) Step() {
	b1, b2 := float32(o.cfg.Beta1), float32(o.cfg.Beta2)
	ob1, ob2 := float32(1-o.cfg.Beta1), float32(1-o.cfg.Beta2)
	eps := float32(o.cfg.Eps)
	wd := float32(o.cfg.WeightDecay)
	for i, p := range o.params {
		if !p.HasGrad() {
			continue
		}
		o.steps[i]++
		t := float64(o.steps[i])
		// Bias corrections in float64, as PyTorch computes them in Python.
		stepSize := float32(o.lr / (1 - math.Pow(o.cfg.Beta1, t)))
		bc2 := float32(math.Sqrt(1 - math.Pow(o.cfg.Beta2, t)))
		g, w, m, v := p.Grad(), p.Data, o.m[i], o.v[i]
		if o.cfg.Decoupled && wd != 0 {
			shrink := float32(1 - o.lr*o.cfg.WeightDecay)
			for j := range w {
				w[j] *= shrink
			}
		}
		if !o.cfg.Decoupled && wd != 0 {
			adamL2(w, g, m, v, b1, ob1, b2, ob2, bc2, eps, stepSize, wd)
		} else {
			adam(w, g, m, v, b1, ob1, b2, ob2, bc2, eps, stepSize)
		}
	}
}

// adam is the element-wise Adam update without L2 decay.
func adam(w, g, m, v []float32, b1, ob1, b2, ob2, bc2, eps, stepSize float32) {
	kernels.AdamUpdate(w, g, m, v, b1, ob1, b2, ob2, bc2, eps, stepSize)
}

// adamL2 is adam with the L2 term wd·w added to the gradient.
func adamL2(w, g, m, v []float32, b1, ob1, b2, ob2, bc2, eps, stepSize, wd float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		gj := g[j] + wd*w[j]
		mj := m[j]*b1 + ob1*gj
		vj := v[j]*b2 + ob2*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= stepSize * (mj / (float32(math.Sqrt(float64(vj)))/bc2 + eps))
	}
}
