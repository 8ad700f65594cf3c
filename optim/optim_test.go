package optim

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/tensor"
)

// param returns a named parameter holding vals.
func param(name string, vals ...float32) *tensor.Tensor {
	p := tensor.Param(name, len(vals))
	copy(p.Data, vals)
	return p
}

func setGrad(p *tensor.Tensor, g ...float32) { copy(p.Grad(), g) }

func near(t *testing.T, what string, got float32, want, rel float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > rel*math.Abs(want)+1e-12 {
		t.Errorf("%s = %.9g, want %.9g", what, got, want)
	}
}

// TestAdamFirstStep: after one step the bias-corrected moments are g and g²,
// so each weight moves by exactly lr·g/(|g| + eps), about lr·sign(g).
func TestAdamFirstStep(t *testing.T) {
	for _, c := range []AdamConfig{AdamDefaults(), {LR: 2e-4, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8}, {LR: 0.1, Beta1: 0.9, Beta2: 0.99, Eps: 0.5}} {
		g := []float32{0.3, -2, 1e-3, 0}
		w0 := []float32{1, -1, 0.5, 2}
		p := param("w", w0...)
		o, err := NewAdam([]*tensor.Tensor{p}, c)
		if err != nil {
			t.Fatal(err)
		}
		setGrad(p, g...)
		o.Step()
		for i := range g {
			gi := float64(g[i])
			want := float64(w0[i]) - c.LR*gi/(math.Abs(gi)+c.Eps)
			near(t, "Adam first step", p.Data[i], want, 1e-6)
		}
	}
}

// TestAdamSecondStepByHand works two steps of Adam on one weight.
func TestAdamSecondStepByHand(t *testing.T) {
	p := param("w", 1)
	o, _ := NewAdam([]*tensor.Tensor{p}, AdamConfig{LR: 0.1, Beta1: 0.5, Beta2: 0.75, Eps: 0})
	setGrad(p, 2)
	o.Step() // m = 1, v = 1; m̂ = 2, v̂ = 4: w = 1 - 0.1·2/2 = 0.9
	near(t, "w after step 1", p.Data[0], 0.9, 1e-7)
	setGrad(p, -1)
	o.Step() // m = 0.5·1 + 0.5·(-1) = 0; w unchanged
	near(t, "w after step 2", p.Data[0], 0.9, 1e-7)
	setGrad(p, 4)
	o.Step() // m = 2, v = 0.75·(0.75·1+0.25) + 0.25·16 = 4.75; m̂ = 2/0.875, v̂ = 4.75/(1-0.421875)
	mh, vh := 2/0.875, 4.75/(1-0.421875)
	near(t, "w after step 3", p.Data[0], 0.9-0.1*mh/math.Sqrt(vh), 1e-6)
}

// TestAdamWeightDecay: L2 decay enters the gradient; decoupled decay
// shrinks the weight before an update that ignores it.
func TestAdamWeightDecay(t *testing.T) {
	c := AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 0, WeightDecay: 0.5}
	p := param("w", 2)
	o, _ := NewAdam([]*tensor.Tensor{p}, c)
	setGrad(p, -0.5) // g + λw = 0.5 → moves by -lr
	o.Step()
	near(t, "Adam L2", p.Data[0], 1.9, 1e-6)
	c.Decoupled = true
	p = param("w", 2)
	o, _ = NewAdam([]*tensor.Tensor{p}, c)
	setGrad(p, -0.5) // w·(1 - 0.05) = 1.9, then + lr·1
	o.Step()
	near(t, "AdamW", p.Data[0], 2.0, 1e-6)
}

// TestSGDByHand works SGD with momentum, dampening, Nesterov and weight
// decay on one weight.
func TestSGDByHand(t *testing.T) {
	p := param("w", 1)
	o, _ := NewSGD([]*tensor.Tensor{p}, SGDConfig{LR: 0.1, Momentum: 0.9})
	setGrad(p, 1)
	o.Step() // b = 1, w = 0.9
	near(t, "heavy ball step 1", p.Data[0], 0.9, 1e-7)
	setGrad(p, 2)
	o.Step() // b = 0.9 + 2 = 2.9, w = 0.61
	near(t, "heavy ball step 2", p.Data[0], 0.61, 1e-6)

	p = param("w", 1)
	o, _ = NewSGD([]*tensor.Tensor{p}, SGDConfig{LR: 0.1, Momentum: 0.5, Dampening: 0.5, WeightDecay: 1})
	setGrad(p, 1) // d = 1 + 1 = 2, b = 2 (no dampening on the first step), w = 0.8
	o.Step()
	near(t, "dampened step 1", p.Data[0], 0.8, 1e-6)
	setGrad(p, 1) // d = 1.8, b = 1 + 0.9 = 1.9, w = 0.61
	o.Step()
	near(t, "dampened step 2", p.Data[0], 0.61, 1e-6)

	p = param("w", 1)
	o, _ = NewSGD([]*tensor.Tensor{p}, SGDConfig{LR: 0.1, Momentum: 0.5, Nesterov: true})
	setGrad(p, 1) // b = 1, d = 1 + 0.5 = 1.5, w = 0.85
	o.Step()
	near(t, "Nesterov step 1", p.Data[0], 0.85, 1e-6)
	setGrad(p, 1) // b = 1.5, d = 1.75, w = 0.675
	o.Step()
	near(t, "Nesterov step 2", p.Data[0], 0.675, 1e-6)
}

// TestRMSpropByHand works RMSprop's first steps, plain, with momentum and
// centered.
func TestRMSpropByHand(t *testing.T) {
	p := param("w", 1)
	o, _ := NewRMSprop([]*tensor.Tensor{p}, RMSpropConfig{LR: 0.01, Alpha: 0.75, Eps: 0.5})
	setGrad(p, 2) // s = 0.25·4 = 1, a = 1.5, w = 1 - 0.01·2/1.5
	o.Step()
	near(t, "RMSprop step 1", p.Data[0], 1-0.02/1.5, 1e-6)

	p = param("w", 0)
	o, _ = NewRMSprop([]*tensor.Tensor{p}, RMSpropConfig{LR: 1, Alpha: 0.5, Eps: 0, Momentum: 0.5})
	setGrad(p, 2) // s = 2, a = √2, b = √2, w = -√2
	o.Step()
	setGrad(p, 2) // s = 3, a = √3, b = √2/2 + 2/√3
	o.Step()
	near(t, "RMSprop momentum", p.Data[0], -math.Sqrt2-(math.Sqrt2/2+2/math.Sqrt(3)), 1e-6)

	p = param("w", 0)
	o, _ = NewRMSprop([]*tensor.Tensor{p}, RMSpropConfig{LR: 1, Alpha: 0.5, Eps: 0, Centered: true})
	setGrad(p, 2) // s = 2, ḡ = 1, a = √(2-1) = 1, w = -2
	o.Step()
	near(t, "RMSprop centered", p.Data[0], -2, 1e-6)
}

// TestNoGradSkipped: a parameter whose gradient was never allocated is
// neither updated nor counted.
func TestNoGradSkipped(t *testing.T) {
	a, b := param("a", 1), param("b", 1)
	o, _ := NewAdam([]*tensor.Tensor{a, b}, AdamDefaults())
	setGrad(a, 1)
	o.Step()
	if b.Data[0] != 1 || b.HasGrad() {
		t.Fatalf("parameter without gradient changed: %v", b.Data)
	}
	if st := o.State(); st["step/b"][1] != 0 || st["step/a"][1] != 1 {
		t.Fatalf("step counts %v %v", st["step/a"], st["step/b"])
	}
}

func TestClipGradNorm(t *testing.T) {
	a, b, c := param("a", 0, 0), param("b", 0), param("c", 5)
	setGrad(a, 3, 4)
	setGrad(b, 12) // global norm √(9+16+144) = 13; c has no gradient
	if n := GradNorm([]*tensor.Tensor{a, b, c}); n != 13 {
		t.Fatalf("GradNorm = %g, want 13", n)
	}
	n := ClipGradNorm([]*tensor.Tensor{a, b, c}, 6.5)
	if n != 13 {
		t.Fatalf("ClipGradNorm returned %g, want the pre-clip norm 13", n)
	}
	k := 6.5 / (13 + 1e-6)
	near(t, "clipped a0", a.Grad()[0], 3*k, 1e-7)
	near(t, "clipped a1", a.Grad()[1], 4*k, 1e-7)
	near(t, "clipped b", b.Grad()[0], 12*k, 1e-7)
	if c.HasGrad() {
		t.Fatal("clipping allocated a gradient")
	}
	// Below the limit nothing changes.
	setGrad(a, 3, 4)
	setGrad(b, 12)
	ClipGradNorm([]*tensor.Tensor{a, b}, 13.5)
	if a.Grad()[0] != 3 || b.Grad()[0] != 12 {
		t.Fatalf("unclipped gradients changed: %v %v", a.Grad(), b.Grad())
	}
}

func TestClipGradNormKeras(t *testing.T) {
	a, b := param("a", 0, 0), param("b", 0)
	setGrad(a, 3, 4)
	setGrad(b, 12)
	if n := ClipGradNormKeras([]*tensor.Tensor{a, b}, 6.5); n != 13 {
		t.Fatalf("norm %g", n)
	}
	// exactly g·c/n with no epsilon: a factor of one half
	for i, w := range []float32{1.5, 2} {
		if a.Grad()[i] != w {
			t.Errorf("a[%d] = %g, want %g", i, a.Grad()[i], w)
		}
	}
	if b.Grad()[0] != 6 {
		t.Errorf("b = %g, want 6", b.Grad()[0])
	}
	// A clipnorm far below the norm leaves the global norm exactly at it.
	setGrad(a, 3, 4)
	setGrad(b, 12)
	ClipGradNormKeras([]*tensor.Tensor{a, b}, 0.001)
	if n := GradNorm([]*tensor.Tensor{a, b}); math.Abs(n-0.001) > 1e-9 {
		t.Errorf("norm after clipping %g, want 0.001", n)
	}
	// Per-tensor form: a (norm 5) is clipped to 4, b (norm 12) to 4.
	setGrad(a, 3, 4)
	setGrad(b, 12)
	ClipGradNormEach([]*tensor.Tensor{a, b}, 4)
	near(t, "each a0", a.Grad()[0], 2.4, 1e-7)
	near(t, "each a1", a.Grad()[1], 3.2, 1e-7)
	near(t, "each b", b.Grad()[0], 4, 1e-7)
}

func TestClipGradValue(t *testing.T) {
	a := param("a", 0, 0, 0, 0)
	setGrad(a, 0.5, -3, 2, -0.25)
	ClipGradValue([]*tensor.Tensor{a}, 1)
	want := []float32{0.5, -1, 1, -0.25}
	for i := range want {
		if a.Grad()[i] != want[i] {
			t.Fatalf("clipped %v, want %v", a.Grad(), want)
		}
	}
}

// run trains a little quadratic problem: gradient of Σ (w - target)² plus
// seeded noise, for steps steps.
func run(o Optimizer, r *rand.Rand, steps int) {
	for range steps {
		o.ZeroGrad()
		for _, p := range o.Params() {
			g := p.Grad()
			for i, w := range p.Data {
				g[i] = 2*(w-float32(i)) + 0.1*float32(r.NormFloat64())
			}
		}
		o.Step()
	}
}

func newProblem() []*tensor.Tensor {
	return []*tensor.Tensor{param("enc.w", 0.5, -0.5, 1), param("enc.b", 0.1), param("dec.w", 3, 2)}
}

// TestStateResume: stopping after k steps, saving the state, and resuming in
// a fresh optimiser gives bit-for-bit the trajectory of an uninterrupted run.
func TestStateResume(t *testing.T) {
	makers := map[string]func([]*tensor.Tensor) (Optimizer, error){
		"sgd": func(p []*tensor.Tensor) (Optimizer, error) {
			return NewSGD(p, SGDConfig{LR: 0.01, Momentum: 0.9, Nesterov: true})
		},
		"adam": func(p []*tensor.Tensor) (Optimizer, error) { return NewAdam(p, AdamDefaults()) },
		"rmsprop": func(p []*tensor.Tensor) (Optimizer, error) {
			return NewRMSprop(p, RMSpropConfig{LR: 1e-3, Alpha: 0.9, Eps: 1e-7, Momentum: 0.5, Centered: true})
		},
	}
	for name, mk := range makers {
		full := newProblem()
		o, err := mk(full)
		if err != nil {
			t.Fatal(err)
		}
		run(o, rand.New(rand.NewPCG(1, 2)), 10)

		part := newProblem()
		o1, _ := mk(part)
		r := rand.New(rand.NewPCG(1, 2))
		run(o1, r, 4)
		st := o1.State()
		st["step/enc.w"][1] = -99 // State must be a copy
		st = o1.State()
		resumed := newProblem()
		for i := range resumed {
			resumed[i].CopyFrom(part[i])
		}
		o2, _ := mk(resumed)
		if err := o2.SetState(st); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		run(o2, r, 6)
		for i := range full {
			for j := range full[i].Data {
				if full[i].Data[j] != resumed[i].Data[j] {
					t.Fatalf("%s: resumed %v, uninterrupted %v", name, resumed[i].Data, full[i].Data)
				}
			}
		}
		if n, _ := decodeStep(o2.State()["step/dec.w"]); n != 10 {
			t.Errorf("%s: step count %d after resuming, want 10", name, n)
		}
	}
}

func TestStateKeysAndErrors(t *testing.T) {
	// Duplicate or missing names fall back to indices.
	o, _ := NewAdam([]*tensor.Tensor{param("x", 1), param("x", 2)}, AdamDefaults())
	if _, ok := o.State()["exp_avg/1"]; !ok {
		t.Fatalf("state keys %v", keys(o.State()))
	}
	o, _ = NewAdam(newProblem(), AdamDefaults())
	good := o.State()
	if len(good) != 9 {
		t.Fatalf("Adam over 3 parameters has %d state entries, want 9: %v", len(good), keys(good))
	}
	mutate := map[string]func(map[string][]float32){
		"missing":    func(s map[string][]float32) { delete(s, "exp_avg_sq/enc.b") },
		"unknown":    func(s map[string][]float32) { s["momentum_buffer/enc.b"] = []float32{0} },
		"length":     func(s map[string][]float32) { s["exp_avg/dec.w"] = []float32{1} },
		"step":       func(s map[string][]float32) { s["step/dec.w"] = []float32{0, 0.5} },
		"step count": func(s map[string][]float32) { s["step/dec.w"] = []float32{1} },
	}
	for name, f := range mutate {
		st := o.State()
		f(st)
		before := o.State()["exp_avg/dec.w"]
		st["exp_avg/enc.w"] = []float32{7, 7, 7}
		if err := o.SetState(st); !errors.Is(err, ErrState) {
			t.Errorf("%s: SetState error %v, want ErrState", name, err)
		}
		if got := o.State(); got["exp_avg/enc.w"][0] != 0 || got["exp_avg/dec.w"][0] != before[0] {
			t.Errorf("%s: a failed SetState changed the state", name)
		}
	}
	// Large step counts survive the float32 encoding exactly.
	o.steps[0] = 1<<40 + 12345
	n, err := decodeStep(o.State()["step/enc.w"])
	if err != nil || n != 1<<40+12345 {
		t.Fatalf("step round trip: %d, %v", n, err)
	}
}

func keys(m map[string][]float32) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}

func TestConfigErrors(t *testing.T) {
	p := []*tensor.Tensor{param("w", 1)}
	bad := map[string]error{}
	_, bad["negative lr"] = NewAdam(p, AdamConfig{LR: -1, Beta1: 0.9, Beta2: 0.999})
	_, bad["beta1 = 1"] = NewAdam(p, AdamConfig{LR: 1, Beta1: 1, Beta2: 0.999})
	_, bad["NaN beta2"] = NewAdam(p, AdamConfig{LR: 1, Beta1: 0.9, Beta2: math.NaN()})
	_, bad["nesterov without momentum"] = NewSGD(p, SGDConfig{LR: 1, Nesterov: true})
	_, bad["negative momentum"] = NewRMSprop(p, RMSpropConfig{LR: 1, Alpha: 0.9, Momentum: -0.1})
	_, bad["infinite lr"] = NewSGD(p, SGDConfig{LR: math.Inf(1)})
	_, bad["duplicate parameter"] = NewSGD([]*tensor.Tensor{p[0], p[0]}, SGDConfig{LR: 1})
	_, bad["nil parameter"] = NewRMSprop([]*tensor.Tensor{nil}, RMSpropDefaults())
	for name, err := range bad {
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", name, err)
		}
	}
	o, _ := NewSGD(p, SGDConfig{LR: 1})
	o.SetLR(0.25)
	if o.LR() != 0.25 {
		t.Fatalf("LR %g after SetLR(0.25)", o.LR())
	}
}

// TestConverges: every optimiser drives a noiseless quadratic to its
// minimum, a property independent of the exact update rule.
func TestConverges(t *testing.T) {
	mk := []func([]*tensor.Tensor) (Optimizer, error){
		func(p []*tensor.Tensor) (Optimizer, error) { return NewSGD(p, SGDConfig{LR: 0.05, Momentum: 0.5}) },
		func(p []*tensor.Tensor) (Optimizer, error) {
			c := AdamDefaults()
			c.LR = 0.05
			return NewAdam(p, c)
		},
		func(p []*tensor.Tensor) (Optimizer, error) {
			return NewRMSprop(p, RMSpropConfig{LR: 0.01, Alpha: 0.99, Eps: 1e-8})
		},
	}
	for k, f := range mk {
		ps := newProblem()
		o, _ := f(ps)
		for range 2000 {
			o.ZeroGrad()
			for _, p := range ps {
				for i, w := range p.Data {
					p.Grad()[i] = 2 * (w - float32(i))
				}
			}
			o.Step()
		}
		for _, p := range ps {
			for i, w := range p.Data {
				if math.Abs(float64(w)-float64(i)) > 0.02 {
					t.Errorf("optimiser %d: %s[%d] = %g, want %d", k, p.Name, i, w, i)
				}
			}
		}
	}
}

func BenchmarkAdamStep1M(b *testing.B) {
	p := tensor.Param("w", 1<<20)
	copy(p.Grad(), make([]float32, 1<<20))
	o, _ := NewAdam([]*tensor.Tensor{p}, AdamDefaults())
	b.SetBytes(4 << 20)
	for b.Loop() {
		o.Step()
	}
}

func BenchmarkRMSpropStep1M(b *testing.B) {
	p := tensor.Param("w", 1<<20)
	p.Grad()
	o, _ := NewRMSprop([]*tensor.Tensor{p}, RMSpropConfig{LR: 2.5e-4, Alpha: 0.99, Eps: 0.01, Momentum: 0.95})
	b.SetBytes(4 << 20)
	for b.Loop() {
		o.Step()
	}
}
