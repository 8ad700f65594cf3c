package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/tensor"
)

// fixtures mirrors testdata/optim_fixtures.json, written by
// testdata/make_fixtures.py with PyTorch.
type fixtures struct {
	Torch         string        `json:"torch"`
	Shapes        [][]int       `json:"shapes"`
	FirstGradStep []int         `json:"first_grad_step"`
	LRHalvedAt    int           `json:"lr_halved_at"`
	Init          [][]float32   `json:"init"`
	Grads         [][][]float32 `json:"grads"`
	Cases         []struct {
		Name       string                     `json:"name"`
		Kind       string                     `json:"kind"`
		Config     map[string]json.RawMessage `json:"config"`
		Trajectory [][][]float32              `json:"trajectory"`
		State      map[string]json.RawMessage `json:"state"`
		ClipMax    float64                    `json:"clip_max_norm"`
		ClipNorms  []float64                  `json:"clip_norms"`
	} `json:"cases"`
}

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/optim_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("optim_fixtures.json: %v", err)
	}
	return &f
}

// num reads a float setting, or def when absent.
func num(cfg map[string]json.RawMessage, key string, def float64) float64 {
	raw, ok := cfg[key]
	if !ok {
		return def
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		panic(fmt.Sprintf("config %s: %v", key, err))
	}
	return v
}

func flag(cfg map[string]json.RawMessage, key string) bool {
	return string(cfg[key]) == "true"
}

// build makes the optimiser a fixture case describes, starting from
// PyTorch's defaults for anything the case leaves out.
func build(t *testing.T, kind string, cfg map[string]json.RawMessage, params []*tensor.Tensor) Optimizer {
	t.Helper()
	var (
		o   Optimizer
		err error
	)
	switch kind {
	case "sgd":
		o, err = NewSGD(params, SGDConfig{LR: num(cfg, "lr", 0), Momentum: num(cfg, "momentum", 0),
			Dampening: num(cfg, "dampening", 0), Nesterov: flag(cfg, "nesterov"), WeightDecay: num(cfg, "weight_decay", 0)})
	case "adam", "adamw":
		c := AdamDefaults()
		if kind == "adamw" {
			c = AdamWDefaults()
		}
		c.LR = num(cfg, "lr", c.LR)
		if raw, ok := cfg["betas"]; ok {
			var b [2]float64
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
			c.Beta1, c.Beta2 = b[0], b[1]
		}
		c.Eps = num(cfg, "eps", c.Eps)
		c.WeightDecay = num(cfg, "weight_decay", c.WeightDecay)
		o, err = NewAdam(params, c)
	case "rmsprop":
		c := RMSpropDefaults()
		c.LR = num(cfg, "lr", c.LR)
		c.Alpha = num(cfg, "alpha", c.Alpha)
		c.Eps = num(cfg, "eps", c.Eps)
		c.Momentum = num(cfg, "momentum", c.Momentum)
		c.Centered = flag(cfg, "centered")
		c.WeightDecay = num(cfg, "weight_decay", c.WeightDecay)
		o, err = NewRMSprop(params, c)
	default:
		t.Fatalf("unknown optimiser kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// closeTo reports whether got is within a float32-rounding tolerance of
// want: a few ulps relative, plus a tiny absolute floor.
func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= 4e-6*math.Abs(want)+1e-8
}

// TestTorchTrajectories replays each fixture case: the same gradients, the
// same learning-rate change, and compares every parameter after every step
// and the final state with PyTorch's.
func TestTorchTrajectories(t *testing.T) {
	f := loadFixtures(t)
	if len(f.Cases) < 10 {
		t.Fatalf("only %d fixture cases", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			params := make([]*tensor.Tensor, len(f.Shapes))
			for i, s := range f.Shapes {
				params[i] = tensor.Param("", s...)
				copy(params[i].Data, f.Init[i])
			}
			o := build(t, c.Kind, c.Config, params)
			worst := 0.0
			for step := range c.Trajectory {
				if step == f.LRHalvedAt {
					o.SetLR(o.LR() / 2)
				}
				for i, p := range params {
					if step >= f.FirstGradStep[i] {
						copy(p.Grad(), f.Grads[step][i])
					} else if p.HasGrad() {
						t.Fatalf("parameter %d has a gradient before step %d", i, f.FirstGradStep[i])
					}
				}
				if c.ClipMax > 0 {
					n := ClipGradNorm(params, c.ClipMax)
					if math.Abs(n-c.ClipNorms[step]) > 1e-6*c.ClipNorms[step] {
						t.Fatalf("step %d: clip norm %.9g, PyTorch %.9g", step, n, c.ClipNorms[step])
					}
				}
				o.Step()
				for i, p := range params {
					for j, v := range p.Data {
						want := float64(c.Trajectory[step][i][j])
						if !closeTo(float64(v), want) {
							t.Fatalf("step %d parameter %d[%d]: %.9g, PyTorch %.9g", step, i, j, v, want)
						}
						if want != 0 {
							worst = math.Max(worst, math.Abs(float64(v)-want)/math.Abs(want))
						}
					}
				}
			}
			st := o.State()
			for key, raw := range c.State {
				if strings.HasPrefix(key, "step/") {
					var n int64
					if err := json.Unmarshal(raw, &n); err != nil {
						t.Fatal(err)
					}
					got, err := decodeStep(st[key])
					if err != nil || got != n {
						t.Errorf("state %s: %v (%v), PyTorch %d", key, got, err, n)
					}
					continue
				}
				var want []float32
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				got, ok := st[key]
				if !ok || len(got) != len(want) {
					t.Fatalf("state %s: have %v, PyTorch %v", key, got, want)
				}
				for j := range want {
					if !closeTo(float64(got[j]), float64(want[j])) {
						t.Errorf("state %s[%d]: %.9g, PyTorch %.9g", key, j, got[j], want[j])
					}
				}
			}
			// Every buffer PyTorch keeps is in our state and vice versa
			// (PyTorch's SGD keeps no step count; ours always does).
			for key := range st {
				if _, ok := c.State[key]; !ok && !(c.Kind == "sgd" && strings.HasPrefix(key, "step/")) {
					t.Errorf("state entry %s has no PyTorch counterpart", key)
				}
			}
			t.Logf("%s (torch %s): worst relative deviation %.2g over %d steps", c.Name, f.Torch, worst, len(c.Trajectory))
		})
	}
}
