// Package tensor is oddity's engine: dense float32 tensors and reverse-mode
// automatic differentiation over the operations the detectors need.
//
// Design, in the manner of micrograd: every operation is a method on a *Tape.
// It computes its result eagerly and, when the tape is recording and an input
// needs a gradient, appends a closure that propagates the output's gradient to
// its inputs. Backward runs the closures in reverse order, so the tape is its
// own topological order. A nil *Tape is the no-grad (inference) mode: the same
// methods compute results and record nothing. Because the mode travels with
// the tape rather than a global switch, concurrent inference on shared
// parameters is safe.
//
// Tensors are always contiguous and row-major; Reshape shares storage, other
// shape operations copy. Heavy operations (matrix multiply, convolutions)
// lower to the kernels package, which is the only place with assembly.
//
// Each operation's gradient is written beside its forward computation so a
// reader can check one against the other.
package tensor

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is a dense, contiguous, row-major float32 array.
type Tensor struct {
	// Shape is the size of each dimension; a scalar has shape [] (one value).
	Shape []int
	// Data holds prod(Shape) values, row-major.
	Data []float32

	grad         []float32
	requiresGrad bool
	// Name is optional; parameters carry theirs into saved files.
	Name string
}

// Numel returns the number of elements of a shape.
func Numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Numel(shape))}
}

// FromData wraps data (not copied) as a tensor of the given shape. It panics
// if the sizes disagree: that is a programming error, not bad input.
func FromData(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Scalar returns a 0-dimensional tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{Shape: []int{}, Data: []float32{v}} }

// Full returns a tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

// Param returns a zero tensor that requires a gradient: a trainable
// parameter.
func Param(name string, shape ...int) *Tensor {
	t := New(shape...)
	t.Name = name
	t.requiresGrad = true
	return t
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dim returns the number of dimensions.
func (t *Tensor) Dim() int { return len(t.Shape) }

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if len(t.Data) != 1 {
		panic(fmt.Sprintf("tensor: Item on shape %v", t.Shape))
	}
	return t.Data[0]
}

// RequiresGrad reports whether gradients flow to this tensor.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// SetRequiresGrad marks t as a leaf that collects a gradient (or not).
func (t *Tensor) SetRequiresGrad(b bool) *Tensor { t.requiresGrad = b; return t }

// Grad returns the accumulated gradient, allocating a zero one on first use.
func (t *Tensor) Grad() []float32 {
	if t.grad == nil {
		t.grad = make([]float32, len(t.Data))
	}
	return t.grad
}

// HasGrad reports whether a gradient buffer exists.
func (t *Tensor) HasGrad() bool { return t.grad != nil }

// ZeroGrad clears the gradient.
func (t *Tensor) ZeroGrad() { clear(t.grad) }

// Clone returns a deep copy of the values (no gradient, not a parameter).
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// CopyFrom copies src's values into t; shapes must hold the same count.
func (t *Tensor) CopyFrom(src *Tensor) {
	if len(src.Data) != len(t.Data) {
		panic(fmt.Sprintf("tensor: CopyFrom %v into %v", src.Shape, t.Shape))
	}
	copy(t.Data, src.Data)
}

// Detach returns a tensor sharing t's values that no gradient flows through.
func (t *Tensor) Detach() *Tensor { return &Tensor{Shape: t.Shape, Data: t.Data} }

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// HasNaN reports whether any value is NaN or infinite.
func (t *Tensor) HasNaN() bool {
	for _, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return true
		}
	}
	return false
}

// String prints the shape and the first few values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.Shape)
	for i, v := range t.Data {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", v)
	}
	b.WriteByte(']')
	return b.String()
}
