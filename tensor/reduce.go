package tensor

import (
	"fmt"

	"github.com/oddity-ml/oddity/kernels"
)

// Sum returns the sum of all elements as a scalar (accumulated in float64).
func (tp *Tape) Sum(a *Tensor) *Tensor {
	var s float64
	for _, v := range a.Data {
		s += float64(v)
	}
	out := Scalar(float32(s))
	return tp.Record(out, func() {
		g := out.grad[0]
		ga := a.Grad()
		for i := range ga {
			ga[i] += g
		}
	}, a)
}

// Mean returns the mean of all elements as a scalar.
func (tp *Tape) Mean(a *Tensor) *Tensor {
	return tp.MulScalar(tp.Sum(a), 1/float32(len(a.Data)))
}

// splitAxis returns (outer, n, inner) so that a's data is viewed as
// outer × n × inner with n the size of axis.
func splitAxis(shape []int, axis int) (int, int, int) {
	if axis < 0 || axis >= len(shape) {
		panic(fmt.Sprintf("tensor: axis %d out of range for shape %v", axis, shape))
	}
	return Numel(shape[:axis]), shape[axis], Numel(shape[axis+1:])
}

// dropAxis returns shape without axis (keepDim false) or with it set to 1.
func dropAxis(shape []int, axis int, keepDim bool) []int {
	out := append([]int(nil), shape...)
	if keepDim {
		out[axis] = 1
		return out
	}
	return append(out[:axis], out[axis+1:]...)
}

// SumAxis sums over one axis; keepDim leaves it with size 1.
func (tp *Tape) SumAxis(a *Tensor, axis int, keepDim bool) *Tensor {
	outer, n, inner := splitAxis(a.Shape, axis)
	out := New(dropAxis(a.Shape, axis, keepDim)...)
	for o := 0; o < outer; o++ {
		dst := out.Data[o*inner : (o+1)*inner]
		for j := 0; j < n; j++ {
			kernels.Axpy(1, a.Data[(o*n+j)*inner:(o*n+j+1)*inner], dst)
		}
	}
	return tp.Record(out, func() {
		ga := a.Grad()
		for o := 0; o < outer; o++ {
			g := out.grad[o*inner : (o+1)*inner]
			for j := 0; j < n; j++ {
				kernels.Axpy(1, g, ga[(o*n+j)*inner:(o*n+j+1)*inner])
			}
		}
	}, a)
}

// MeanAxis averages over one axis; keepDim leaves it with size 1.
func (tp *Tape) MeanAxis(a *Tensor, axis int, keepDim bool) *Tensor {
	return tp.MulScalar(tp.SumAxis(a, axis, keepDim), 1/float32(a.Shape[axis]))
}

// MaxAxis returns the maximum over one axis and the index of the maximum
// (first one on ties) for every other position. The gradient goes to the
// selected element.
func (tp *Tape) MaxAxis(a *Tensor, axis int, keepDim bool) (*Tensor, []int) {
	outer, n, inner := splitAxis(a.Shape, axis)
	out := New(dropAxis(a.Shape, axis, keepDim)...)
	arg := make([]int, outer*inner)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			best, bj := a.Data[o*n*inner+i], 0
			for j := 1; j < n; j++ {
				if v := a.Data[(o*n+j)*inner+i]; v > best {
					best, bj = v, j
				}
			}
			out.Data[o*inner+i] = best
			arg[o*inner+i] = bj
		}
	}
	tp.Record(out, func() {
		ga := a.Grad()
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				ga[(o*n+arg[o*inner+i])*inner+i] += out.grad[o*inner+i]
			}
		}
	}, a)
	return out, arg
}
