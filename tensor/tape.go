package tensor

import "fmt"

// Tape records operations for reverse-mode differentiation. The zero value is
// ready to use. A nil *Tape records nothing: pass nil for inference.
type Tape struct {
	backward []func()
}

// NewTape returns an empty recording tape.
func NewTape() *Tape { return &Tape{} }

// NoGrad is the nil tape, spelled out for readability at call sites.
var NoGrad *Tape

// Recording reports whether operations on the tape are recorded.
func (tp *Tape) Recording() bool { return tp != nil }

// needs reports whether an operation over inputs must be recorded.
func (tp *Tape) needs(inputs ...*Tensor) bool {
	if tp == nil {
		return false
	}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			return true
		}
	}
	return false
}

// Record registers a custom operation: out was computed from inputs, and
// backward propagates out.Grad() into the inputs' Grad(). It is how packages
// outside this one add fused operations. It returns out. When nothing needs a
// gradient the call records nothing.
func (tp *Tape) Record(out *Tensor, backward func(), inputs ...*Tensor) *Tensor {
	if tp.needs(inputs...) {
		out.requiresGrad = true
		tp.backward = append(tp.backward, backward)
	}
	return out
}

// Len returns the number of recorded operations.
func (tp *Tape) Len() int {
	if tp == nil {
		return 0
	}
	return len(tp.backward)
}

// Backward seeds d(loss)/d(loss) = 1 for the one-element tensor loss and runs
// the recorded operations in reverse, accumulating gradients into every
// tensor that requires one. The tape is cleared afterwards, so one tape serves
// one backward pass; intermediate gradients are freed with it.
func (tp *Tape) Backward(loss *Tensor) {
	if tp == nil {
		panic("tensor: Backward on a nil (no-grad) tape")
	}
	if len(loss.Data) != 1 {
		panic(fmt.Sprintf("tensor: Backward needs a one-element loss, got shape %v", loss.Shape))
	}
	if !loss.requiresGrad {
		tp.backward = tp.backward[:0]
		return
	}
	loss.Grad()[0] += 1
	for i := len(tp.backward) - 1; i >= 0; i-- {
		tp.backward[i]()
		tp.backward[i] = nil
	}
	tp.backward = tp.backward[:0]
}

// Reset drops every recorded operation without running it.
func (tp *Tape) Reset() {
	if tp != nil {
		clear(tp.backward)
		tp.backward = tp.backward[:0]
	}
}
