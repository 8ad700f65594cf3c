package tensor

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
)

// torchFixtures mirrors testdata/torch_fixtures.json, written once by
// testdata/make_torch_fixtures.py: PyTorch's forward values and gradients
// (computed in float64 from float32 inputs) of L = Σ upstream·out.
type torchFixtures struct {
	Torch string `json:"torch"`
	Cases []struct {
		Name     string                 `json:"name"`
		Op       string                 `json:"op"`
		Attrs    map[string]any         `json:"attrs"`
		Inputs   map[string]fixtureData `json:"inputs"`
		Upstream fixtureData            `json:"upstream"`
		Expect   map[string]fixtureData `json:"expect"`
	} `json:"cases"`
}

type fixtureData struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (d fixtureData) tensor() *Tensor {
	t := New(d.Shape...)
	if len(d.Data) != len(t.Data) {
		panic(fmt.Sprintf("fixture tensor: %d values for shape %v", len(d.Data), d.Shape))
	}
	for i, v := range d.Data {
		t.Data[i] = float32(v)
	}
	return t
}

func attrInt(a map[string]any, k string) int {
	v, ok := a[k].(float64)
	if !ok {
		return 0
	}
	return int(v)
}

// fixtureTolerance is the agreement asked of the engine: 1e-4 relative to
// each value, with a floor of 1e-5 of the largest magnitude of the tensor,
// for values that float32 sums of many terms bring near zero.
const fixtureRel, fixtureFloor = 1e-4, 1e-5

// compareFixture returns a description of the worst mismatch between got
// and want, or "" if every value is within tolerance; worst is the largest
// error relative to the tolerance.
func compareFixture(got []float32, gotShape []int, want fixtureData) (msg string, worst float64) {
	if len(got) != len(want.Data) || Numel(gotShape) != Numel(want.Shape) {
		return fmt.Sprintf("shape %v, PyTorch %v", gotShape, want.Shape), math.Inf(1)
	}
	scale := 0.0
	for _, v := range want.Data {
		scale = math.Max(scale, math.Abs(v))
	}
	bad, first := 0, -1
	for i, w := range want.Data {
		tol := fixtureRel*math.Abs(w) + fixtureFloor*scale + 1e-12
		r := math.Abs(float64(got[i])-w) / tol
		if math.IsNaN(r) {
			r = math.Inf(1)
		}
		if r > 1 {
			bad++
			if first < 0 {
				first = i
			}
		}
		worst = math.Max(worst, r)
	}
	if bad > 0 {
		return fmt.Sprintf("%d of %d values differ; first at flat index %d: %.7g, PyTorch %.7g", bad, len(got), first, got[first], want.Data[first]), worst
	}
	return "", worst
}

// TestTorchFixtures runs every PyTorch fixture case through the engine and
// compares the forward values, the gradients and (batch norm) the updated
// running statistics.
func TestTorchFixtures(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx torchFixtures
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatalf("torch_fixtures.json: %v", err)
	}
	seen := map[string]int{}
	for _, c := range fx.Cases {
		seen[c.Op]++
		t.Run(c.Name, func(t *testing.T) {
			in := map[string]*Tensor{}
			for k, d := range c.Inputs {
				in[k] = d.tensor()
			}
			// Every input with an expected gradient is a leaf needing one.
			for k := range c.Expect {
				if name, ok := strings.CutPrefix(k, "grad_"); ok {
					in[name].SetRequiresGrad(true)
				}
			}
			var st *BatchNormState
			tp := NewTape()
			var out *Tensor
			switch c.Op {
			case "conv2d", "conv_transpose2d":
				opt := ConvOptions{Stride: attrInt(c.Attrs, "stride"), Padding: attrInt(c.Attrs, "padding"), OutputPadding: attrInt(c.Attrs, "output_padding")}
				if c.Op == "conv2d" {
					out = tp.Conv2d(in["x"], in["w"], in["b"], opt)
				} else {
					out = tp.ConvTranspose2d(in["x"], in["w"], in["b"], opt)
				}
			case "batch_norm":
				st = &BatchNormState{RunningMean: in["running_mean"], RunningVar: in["running_var"],
					Momentum: float32(c.Attrs["momentum"].(float64)), Eps: float32(c.Attrs["eps"].(float64))}
				out = tp.BatchNorm(in["x"], in["gamma"], in["beta"], st, c.Attrs["training"].(bool))
			case "leaky_relu":
				out = tp.LeakyReLU(in["x"], float32(c.Attrs["slope"].(float64)))
			case "relu":
				out = tp.ReLU(in["x"])
			case "tanh":
				out = tp.Tanh(in["x"])
			case "sigmoid":
				out = tp.Sigmoid(in["x"])
			case "bce_with_logits":
				out = tp.BCEWithLogits(in["x"], in["y"])
			case "smooth_l1":
				out = tp.SmoothL1Loss(in["a"], in["b"], float32(c.Attrs["beta"].(float64)))
			case "mse":
				out = tp.MSELoss(in["a"], in["b"])
			case "l1":
				out = tp.L1Loss(in["a"], in["b"])
			case "kl_div":
				out = tp.KLDiv(in["p"], in["q"])
			default:
				t.Fatalf("unknown op %q", c.Op)
			}
			u := c.Upstream.tensor()
			if !SameShape(out.Shape, u.Shape) {
				t.Fatalf("output shape %v, PyTorch %v", out.Shape, u.Shape)
			}
			// Compare the forward values before Backward, which may reuse
			// buffers.
			fwd := out.Clone()
			tp.Backward(tp.Sum(tp.Mul(out, u)))

			keys := make([]string, 0, len(c.Expect))
			for k := range c.Expect {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				want := c.Expect[k]
				var got *Tensor
				switch {
				case k == "out":
					got = fwd
				case k == "running_mean":
					got = st.RunningMean
				case k == "running_var":
					got = st.RunningVar
				default:
					src := in[strings.TrimPrefix(k, "grad_")]
					got = &Tensor{Shape: src.Shape, Data: src.Grad()}
				}
				msg, worst := compareFixture(got.Data, got.Shape, want)
				if msg != "" {
					t.Errorf("%s: %s", k, msg)
				} else {
					t.Logf("%s: worst error %.2g of tolerance", k, worst)
				}
			}
		})
	}
	for _, op := range []string{"conv2d", "conv_transpose2d", "batch_norm", "leaky_relu", "tanh", "sigmoid", "bce_with_logits", "smooth_l1", "kl_div"} {
		if seen[op] == 0 {
			t.Errorf("fixture file has no %s case", op)
		}
	}
}
