// Package initw owns weight initialisation: filling parameter tensors with
// the random values a network starts from. It provides the schemes the
// methods' reference code uses, with PyTorch's definitions (torch.nn.init):
// constant, normal and uniform fills, Xavier/Glorot and Kaiming/He
// initialisation with PyTorch's fan-in/fan-out rule and gains, and the
// default initialisation of PyTorch's Linear, Conv2d and ConvTranspose2d
// layers (TorchDefault).
//
// It is written here rather than taken from a library because the schemes
// are a few lines each and must follow PyTorch's conventions exactly (fans of
// ConvTranspose weights, the a = √5 default), which no Go library offers for
// oddity's tensors. Every function takes an explicit *rand.Rand, so the same
// seed gives the same weights; values are drawn in row-major order, one draw
// per element.
//
// Fans follow torch.nn.init._calculate_fan_in_and_fan_out: for a weight of
// shape [d0, d1, k...] with receptive field r = prod(k...), fan_in = d1·r and
// fan_out = d0·r. So Linear [out, in] and Conv2d [out, in, kh, kw] weights
// have fan_in = in·kh·kw, and a ConvTranspose2d weight [in, out, kh, kw] has
// fan_in = out·kh·kw, as in PyTorch.
//
// Keras equivalents: glorot_uniform (Keras's Dense and Conv default kernel
// initialiser) is XavierUniform with gain 1, and he_normal is KaimingNormal
// (fan in, "relu") except that Keras truncates the normal.
package initw

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/tensor"
)

// ErrArg reports an unusable argument: a weight with fewer than two
// dimensions or a zero fan, a negative standard deviation, an empty range,
// an unknown nonlinearity or mode.
var ErrArg = errors.New("initw: invalid argument")

// Mode selects which fan Kaiming initialisation preserves.
type Mode int

const (
	// FanIn preserves the variance of activations in the forward pass
	// (PyTorch's default).
	FanIn Mode = iota
	// FanOut preserves the variance of gradients in the backward pass.
	FanOut
)

// String returns PyTorch's name of the mode.
func (m Mode) String() string {
	switch m {
	case FanIn:
		return "fan_in"
	case FanOut:
		return "fan_out"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Fans returns a weight shape's fan-in and fan-out as PyTorch computes them
// (see the package documentation). Shapes with fewer than two dimensions
// have no fans and give ErrArg.
func Fans(shape []int) (fanIn, fanOut int, err error) {
	if len(shape) < 2 {
		return 0, 0, fmt.Errorf("initw: fans of shape %v: need at least 2 dimensions: %w", shape, ErrArg)
	}
	r := tensor.Numel(shape[2:])
	return shape[1] * r, shape[0] * r, nil
}

// Gain returns PyTorch's recommended gain (torch.nn.init.calculate_gain) for
// a nonlinearity: 1 for "linear", "conv1d", "conv2d", "conv3d",
// "conv_transpose1d", "conv_transpose2d", "conv_transpose3d" and "sigmoid";
// 5/3 for "tanh"; √2 for "relu"; √(2/(1+a²)) for "leaky_relu" with negative
// slope a (param; PyTorch's calculate_gain defaults it to 0.01 when omitted,
// here it is always explicit); 3/4 for "selu".
func Gain(nonlinearity string, param float64) (float64, error) {
	switch nonlinearity {
	case "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid":
		return 1, nil
	case "tanh":
		return 5.0 / 3, nil
	case "relu":
		return math.Sqrt2, nil
	case "leaky_relu":
		if math.IsNaN(param) || math.IsInf(param, 0) {
			return 0, fmt.Errorf("initw: leaky_relu slope %g: %w", param, ErrArg)
		}
		return math.Sqrt(2 / (1 + param*param)), nil
	case "selu":
		return 0.75, nil
	}
	return 0, fmt.Errorf("initw: unknown nonlinearity %q: %w", nonlinearity, ErrArg)
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Constant sets every value of t to v.
func Constant(t *tensor.Tensor, v float32) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// Normal fills t with draws from N(mean, std²).
func Normal(r *rand.Rand, t *tensor.Tensor, mean, std float64) error {
	if !finite(mean, std) || std < 0 {
		return fmt.Errorf("initw: normal(%g, %g) for %q %v: %w", mean, std, t.Name, t.Shape, ErrArg)
	}
	for i := range t.Data {
		t.Data[i] = float32(mean + std*r.NormFloat64())
	}
	return nil
}

// Uniform fills t with draws from U(lo, hi).
func Uniform(r *rand.Rand, t *tensor.Tensor, lo, hi float64) error {
	if !finite(lo, hi) || lo > hi {
		return fmt.Errorf("initw: uniform(%g, %g) for %q %v: %w", lo, hi, t.Name, t.Shape, ErrArg)
	}
	fillUniform(r, t, lo, hi)
	return nil
}

// fillUniform draws lo + (hi-lo)·u with u uniform in [0, 1). The float32
// rounding can reach hi itself only when it is the nearest float32, so the
// result is clamped into [lo, hi].
func fillUniform(r *rand.Rand, t *tensor.Tensor, lo, hi float64) {
	flo, fhi := float32(lo), float32(hi)
	for i := range t.Data {
		v := float32(lo + (hi-lo)*r.Float64())
		t.Data[i] = min(max(v, flo), fhi)
	}
}

// fans returns the fan Kaiming and Xavier need, or an error naming t.
func fans(t *tensor.Tensor) (int, int, error) {
	in, out, err := Fans(t.Shape)
	if err != nil {
		return 0, 0, fmt.Errorf("initw: %q: %w", t.Name, err)
	}
	if in == 0 || out == 0 {
		return 0, 0, fmt.Errorf("initw: %q %v has a zero fan: %w", t.Name, t.Shape, ErrArg)
	}
	return in, out, nil
}

// XavierUniform fills t from U(-b, b), b = gain·√(6/(fan_in+fan_out))
// (Glorot and Bengio 2010; torch.nn.init.xavier_uniform_).
func XavierUniform(r *rand.Rand, t *tensor.Tensor, gain float64) error {
	in, out, err := fans(t)
	if err != nil {
		return err
	}
	if !finite(gain) {
		return fmt.Errorf("initw: xavier gain %g: %w", gain, ErrArg)
	}
	b := math.Abs(gain) * math.Sqrt(6/float64(in+out))
	fillUniform(r, t, -b, b)
	return nil
}

// XavierNormal fills t from N(0, s²), s = gain·√(2/(fan_in+fan_out))
// (torch.nn.init.xavier_normal_).
func XavierNormal(r *rand.Rand, t *tensor.Tensor, gain float64) error {
	in, out, err := fans(t)
	if err != nil {
		return err
	}
	if !finite(gain) {
		return fmt.Errorf("initw: xavier gain %g: %w", gain, ErrArg)
	}
	return Normal(r, t, 0, math.Abs(gain)*math.Sqrt(2/float64(in+out)))
}

// kaimingStd returns gain(nonlinearity, a)/√fan for t.
func kaimingStd(t *tensor.Tensor, a float64, mode Mode, nonlinearity string) (float64, error) {
	in, out, err := fans(t)
	if err != nil {
		return 0, err
	}
	fan := in
	switch mode {
	case FanIn:
	case FanOut:
		fan = out
	default:
		return 0, fmt.Errorf("initw: kaiming mode %v: %w", mode, ErrArg)
	}
	g, err := Gain(nonlinearity, a)
	if err != nil {
		return 0, err
	}
	return g / math.Sqrt(float64(fan)), nil
}

// KaimingUniform fills t from U(-b, b), b = √3·gain/√fan, the gain that of
// nonlinearity with negative slope a for "leaky_relu" (He et al. 2015;
// torch.nn.init.kaiming_uniform_, whose defaults are a = 0, FanIn,
// "leaky_relu").
func KaimingUniform(r *rand.Rand, t *tensor.Tensor, a float64, mode Mode, nonlinearity string) error {
	std, err := kaimingStd(t, a, mode, nonlinearity)
	if err != nil {
		return err
	}
	b := math.Sqrt(3) * std
	fillUniform(r, t, -b, b)
	return nil
}

// KaimingNormal fills t from N(0, (gain/√fan)²) (torch.nn.init.kaiming_normal_).
func KaimingNormal(r *rand.Rand, t *tensor.Tensor, a float64, mode Mode, nonlinearity string) error {
	std, err := kaimingStd(t, a, mode, nonlinearity)
	if err != nil {
		return err
	}
	return Normal(r, t, 0, std)
}

// TorchDefault initialises a layer's weight and bias (nil for none) as
// PyTorch's nn.Linear, nn.Conv2d and nn.ConvTranspose2d constructors do:
// kaiming_uniform with a = √5 on the weight, which is U(-1/√fan_in,
// 1/√fan_in), and U(-1/√fan_in, 1/√fan_in) on the bias, fan_in being the
// weight's (so d1·kh·kw for a ConvTranspose2d weight [in, out, kh, kw]).
// The weight is drawn first, then the bias.
func TorchDefault(r *rand.Rand, weight, bias *tensor.Tensor) error {
	if err := KaimingUniform(r, weight, math.Sqrt(5), FanIn, "leaky_relu"); err != nil {
		return err
	}
	if bias == nil {
		return nil
	}
	in, _, _ := Fans(weight.Shape)
	b := 1 / math.Sqrt(float64(in))
	fillUniform(r, bias, -b, b)
	return nil
}
