// Package nn builds networks from the engine's operations: layers that own
// their parameters, and Sequential to chain them.
//
// A layer is anything with Forward(tape, x) and Parameters(). Layers with
// running statistics (BatchNorm) also expose Buffers, and layers that behave
// differently in training and inference implement SetTraining. Parameters
// carry dotted names ("enc.1.weight") that model files store them under.
//
// Weights start as PyTorch's defaults (uniform in ±1/√fan_in for weights and
// biases of Linear and convolution layers; γ=1, β=0 for BatchNorm), so a
// network here and its PyTorch twin start from the same distribution. Each
// constructor takes an explicit random source.
package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/initw"
	"github.com/oddity-ml/oddity/tensor"
)

// Module is a differentiable function with trainable parameters.
type Module interface {
	// Forward computes the output for x, recording on tp (nil: no grad).
	Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor
	// Parameters lists the trainable tensors.
	Parameters() []*tensor.Tensor
}

// Buffered is implemented by modules with non-trainable state that must be
// saved with the model (running statistics).
type Buffered interface {
	Buffers() []*tensor.Tensor
}

// Switchable is implemented by modules whose behaviour differs between
// training and inference.
type Switchable interface {
	SetTraining(training bool)
}

// Buffers returns m's buffers, or nil if it has none.
func Buffers(m Module) []*tensor.Tensor {
	if b, ok := m.(Buffered); ok {
		return b.Buffers()
	}
	return nil
}

// State returns every tensor that defines m: parameters, then buffers.
func State(m Module) []*tensor.Tensor {
	return append(append([]*tensor.Tensor(nil), m.Parameters()...), Buffers(m)...)
}

// SetTraining switches m (and its children) to training or inference mode.
func SetTraining(m Module, training bool) {
	if s, ok := m.(Switchable); ok {
		s.SetTraining(training)
	}
}

// NumParams counts the trainable values of m.
func NumParams(m Module) int {
	n := 0
	for _, p := range m.Parameters() {
		n += p.Len()
	}
	return n
}

// ZeroGrad clears the gradients of every parameter of m.
func ZeroGrad(m Module) {
	for _, p := range m.Parameters() {
		p.ZeroGrad()
	}
}

// torchInit applies PyTorch's default initialisation; shapes built here are
// always valid, so an error is a programming error.
func torchInit(r *rand.Rand, w, b *tensor.Tensor) {
	if err := initw.TorchDefault(r, w, b); err != nil {
		panic(err)
	}
}

// Linear is a fully connected layer y = x·Wᵀ + b, W of shape out×in.
type Linear struct {
	Weight, Bias *tensor.Tensor
}

// NewLinear returns an in→out layer (with bias when bias is true) with
// PyTorch's default initialisation.
func NewLinear(in, out int, bias bool, r *rand.Rand) *Linear {
	l := &Linear{Weight: tensor.Param("weight", out, in)}
	if bias {
		l.Bias = tensor.Param("bias", out)
	}
	torchInit(r, l.Weight, l.Bias)
	return l
}

// Forward implements Module.
func (l *Linear) Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	return tp.Linear(x, l.Weight, l.Bias)
}

// Parameters implements Module.
func (l *Linear) Parameters() []*tensor.Tensor { return nonNil(l.Weight, l.Bias) }

func nonNil(ts ...*tensor.Tensor) []*tensor.Tensor {
	out := ts[:0:0]
	for _, t := range ts {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// Conv2d is a 2-D convolution with weight Cout×Cin×K×K.
type Conv2d struct {
	Weight, Bias *tensor.Tensor
	Opt          tensor.ConvOptions
}

// NewConv2d returns a cin→cout convolution with a k×k kernel and PyTorch's
// default initialisation.
func NewConv2d(cin, cout, k, stride, padding int, bias bool, r *rand.Rand) *Conv2d {
	c := &Conv2d{Weight: tensor.Param("weight", cout, cin, k, k), Opt: tensor.ConvOptions{Stride: stride, Padding: padding}}
	if bias {
		c.Bias = tensor.Param("bias", cout)
	}
	torchInit(r, c.Weight, c.Bias)
	return c
}

// Forward implements Module.
func (c *Conv2d) Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	return tp.Conv2d(x, c.Weight, c.Bias, c.Opt)
}

// Parameters implements Module.
func (c *Conv2d) Parameters() []*tensor.Tensor { return nonNil(c.Weight, c.Bias) }

// ConvTranspose2d is a transposed 2-D convolution with weight Cin×Cout×K×K.
type ConvTranspose2d struct {
	Weight, Bias *tensor.Tensor
	Opt          tensor.ConvOptions
}

// NewConvTranspose2d returns a cin→cout transposed convolution with PyTorch's
// default initialisation (its fan-in is cout·k·k, as PyTorch computes it from
// the weight's second dimension).
func NewConvTranspose2d(cin, cout, k, stride, padding, outputPadding int, bias bool, r *rand.Rand) *ConvTranspose2d {
	c := &ConvTranspose2d{Weight: tensor.Param("weight", cin, cout, k, k),
		Opt: tensor.ConvOptions{Stride: stride, Padding: padding, OutputPadding: outputPadding}}
	if bias {
		c.Bias = tensor.Param("bias", cout)
	}
	torchInit(r, c.Weight, c.Bias)
	return c
}

// Forward implements Module.
func (c *ConvTranspose2d) Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	return tp.ConvTranspose2d(x, c.Weight, c.Bias, c.Opt)
}

// Parameters implements Module.
func (c *ConvTranspose2d) Parameters() []*tensor.Tensor { return nonNil(c.Weight, c.Bias) }

// BatchNorm normalises per channel: BatchNorm1d for N×C input, BatchNorm2d
// for N×C×H×W. It starts in training mode.
type BatchNorm struct {
	Gamma, Beta *tensor.Tensor
	State       tensor.BatchNormState
	Training    bool
}

// NewBatchNorm returns a batch-norm layer over c channels with PyTorch's
// defaults (momentum 0.1, eps 1e-5, γ=1, β=0, running mean 0 and variance 1).
func NewBatchNorm(c int) *BatchNorm {
	b := &BatchNorm{Gamma: tensor.Param("weight", c), Beta: tensor.Param("bias", c), Training: true,
		State: tensor.BatchNormState{RunningMean: tensor.New(c), RunningVar: tensor.Full(1, c), Momentum: 0.1, Eps: 1e-5}}
	b.State.RunningMean.Name, b.State.RunningVar.Name = "running_mean", "running_var"
	for i := range b.Gamma.Data {
		b.Gamma.Data[i] = 1
	}
	return b
}

// Forward implements Module.
func (b *BatchNorm) Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	return tp.BatchNorm(x, b.Gamma, b.Beta, &b.State, b.Training)
}

// Parameters implements Module.
func (b *BatchNorm) Parameters() []*tensor.Tensor { return []*tensor.Tensor{b.Gamma, b.Beta} }

// Buffers implements Buffered.
func (b *BatchNorm) Buffers() []*tensor.Tensor {
	return []*tensor.Tensor{b.State.RunningMean, b.State.RunningVar}
}

// SetTraining implements Switchable.
func (b *BatchNorm) SetTraining(t bool) { b.Training = t }

// Func is a parameter-free layer defined by a function of its input.
type Func struct {
	Name string
	F    func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor
}

// Forward implements Module.
func (f Func) Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor { return f.F(tp, x) }

// Parameters implements Module.
func (f Func) Parameters() []*tensor.Tensor { return nil }

// ReLU is max(x, 0).
func ReLU() Func {
	return Func{"ReLU", func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor { return tp.ReLU(x) }}
}

// LeakyReLU is x for x > 0, slope·x otherwise.
func LeakyReLU(slope float32) Func {
	return Func{fmt.Sprintf("LeakyReLU(%g)", slope), func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor { return tp.LeakyReLU(x, slope) }}
}

// Tanh is the hyperbolic tangent.
func Tanh() Func {
	return Func{"Tanh", func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor { return tp.Tanh(x) }}
}

// Sigmoid is 1/(1+e^-x).
func Sigmoid() Func {
	return Func{"Sigmoid", func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor { return tp.Sigmoid(x) }}
}

// Flatten reshapes N×... to N×(rest).
func Flatten() Func {
	return Func{"Flatten", func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor { return tp.Flatten(x) }}
}

// Reshape reshapes N×... to N×shape.
func Reshape(shape ...int) Func {
	return Func{fmt.Sprintf("Reshape%v", shape), func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
		return tp.Reshape(x, append([]int{x.Shape[0]}, shape...)...)
	}}
}

// Upsample repeats each pixel factor×factor times (nearest neighbour).
func Upsample(factor int) Func {
	return Func{fmt.Sprintf("Upsample(%d)", factor), func(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
		return tp.UpsampleNearest(x, factor)
	}}
}

// Sequential chains modules; its parameters are named "<index>.<name>".
type Sequential struct {
	Layers []Module
}

// NewSequential chains layers and prefixes their parameter and buffer names
// with their position.
func NewSequential(layers ...Module) *Sequential {
	s := &Sequential{Layers: layers}
	for i, l := range layers {
		for _, t := range State(l) {
			t.Name = fmt.Sprintf("%d.%s", i, t.Name)
		}
	}
	return s
}

// Prefix adds prefix+"." to the names of every tensor of m, so several
// networks of one model keep distinct names. It returns m.
func Prefix[M Module](prefix string, m M) M {
	for _, t := range State(m) {
		t.Name = prefix + "." + t.Name
	}
	return m
}

// Forward implements Module.
func (s *Sequential) Forward(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	for _, l := range s.Layers {
		x = l.Forward(tp, x)
	}
	return x
}

// Parameters implements Module.
func (s *Sequential) Parameters() []*tensor.Tensor {
	var ps []*tensor.Tensor
	for _, l := range s.Layers {
		ps = append(ps, l.Parameters()...)
	}
	return ps
}

// Buffers implements Buffered.
func (s *Sequential) Buffers() []*tensor.Tensor {
	var bs []*tensor.Tensor
	for _, l := range s.Layers {
		bs = append(bs, Buffers(l)...)
	}
	return bs
}

// SetTraining implements Switchable.
func (s *Sequential) SetTraining(t bool) {
	for _, l := range s.Layers {
		SetTraining(l, t)
	}
}
