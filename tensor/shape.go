package tensor

import (
	"fmt"

	"github.com/oddity-ml/oddity/kernels"
)

// Reshape returns a tensor with the same values in a new shape, sharing
// storage. One dimension may be -1 and is inferred.
func (tp *Tape) Reshape(a *Tensor, shape ...int) *Tensor {
	shape = append([]int(nil), shape...)
	infer, known := -1, 1
	for i, s := range shape {
		if s == -1 {
			if infer >= 0 {
				panic("tensor: Reshape with two -1 dimensions")
			}
			infer = i
		} else {
			known *= s
		}
	}
	if infer >= 0 && known > 0 {
		shape[infer] = len(a.Data) / known
	}
	if Numel(shape) != len(a.Data) {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", a.Shape, shape))
	}
	out := &Tensor{Shape: shape, Data: a.Data}
	return tp.Record(out, func() {
		if out.grad != nil {
			kernels.Axpy(1, out.grad, a.Grad())
		}
	}, a)
}

// Flatten reshapes a to [a.Shape[0], rest].
func (tp *Tape) Flatten(a *Tensor) *Tensor { return tp.Reshape(a, a.Shape[0], -1) }

// Transpose returns the transpose of a 2-D tensor.
func (tp *Tape) Transpose(a *Tensor) *Tensor {
	if a.Dim() != 2 {
		panic(fmt.Sprintf("tensor: Transpose needs 2-D, got %v", a.Shape))
	}
	r, c := a.Shape[0], a.Shape[1]
	out := New(c, r)
	transpose(a.Data, out.Data, r, c)
	return tp.Record(out, func() {
		ga := a.Grad()
		tmp := make([]float32, r*c)
		transpose(out.grad, tmp, c, r)
		kernels.Axpy(1, tmp, ga)
	}, a)
}

// transpose writes the c×r transpose of the r×c matrix src into dst, in
// cache-sized tiles.
func transpose(src, dst []float32, r, c int) {
	const tile = 32
	for i0 := 0; i0 < r; i0 += tile {
		for j0 := 0; j0 < c; j0 += tile {
			for i := i0; i < min(i0+tile, r); i++ {
				for j := j0; j < min(j0+tile, c); j++ {
					dst[j*r+i] = src[i*c+j]
				}
			}
		}
	}
}

// Concat joins tensors along axis; all other dimensions must agree.
func (tp *Tape) Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Concat of nothing")
	}
	shape := append([]int(nil), ts[0].Shape...)
	total := 0
	for _, t := range ts {
		if len(t.Shape) != len(shape) {
			panic(fmt.Sprintf("tensor: Concat shapes %v and %v", ts[0].Shape, t.Shape))
		}
		for d := range shape {
			if d != axis && t.Shape[d] != shape[d] {
				panic(fmt.Sprintf("tensor: Concat shapes %v and %v on axis %d", ts[0].Shape, t.Shape, axis))
			}
		}
		total += t.Shape[axis]
	}
	shape[axis] = total
	outer, _, inner := splitAxis(shape, axis)
	out := New(shape...)
	off := 0
	for _, t := range ts {
		w := t.Shape[axis] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*total*inner+off:o*total*inner+off+w], t.Data[o*w:(o+1)*w])
		}
		off += w
	}
	return tp.Record(out, func() {
		off := 0
		for _, t := range ts {
			w := t.Shape[axis] * inner
			if t.requiresGrad {
				g := t.Grad()
				for o := 0; o < outer; o++ {
					kernels.Axpy(1, out.grad[o*total*inner+off:o*total*inner+off+w], g[o*w:(o+1)*w])
				}
			}
			off += w
		}
	}, ts...)
}

// Rows gathers rows of a (along the first axis) by index: out[i] = a[idx[i]].
// Indices may repeat; gradients of repeated rows add up.
func (tp *Tape) Rows(a *Tensor, idx []int) *Tensor {
	w := len(a.Data) / max(a.Shape[0], 1)
	shape := append([]int{len(idx)}, a.Shape[1:]...)
	out := New(shape...)
	for i, r := range idx {
		if r < 0 || r >= a.Shape[0] {
			panic(fmt.Sprintf("tensor: Rows index %d out of range [0,%d)", r, a.Shape[0]))
		}
		copy(out.Data[i*w:(i+1)*w], a.Data[r*w:(r+1)*w])
	}
	return tp.Record(out, func() {
		ga := a.Grad()
		for i, r := range idx {
			kernels.Axpy(1, out.grad[i*w:(i+1)*w], ga[r*w:(r+1)*w])
		}
	}, a)
}

// Slice returns rows [lo, hi) along the first axis, sharing storage with a.
func (tp *Tape) Slice(a *Tensor, lo, hi int) *Tensor {
	if lo < 0 || hi > a.Shape[0] || lo > hi {
		panic(fmt.Sprintf("tensor: Slice [%d,%d) of %v", lo, hi, a.Shape))
	}
	w := len(a.Data) / max(a.Shape[0], 1)
	shape := append([]int{hi - lo}, a.Shape[1:]...)
	out := &Tensor{Shape: shape, Data: a.Data[lo*w : hi*w : hi*w]}
	return tp.Record(out, func() {
		kernels.Axpy(1, out.grad, a.Grad()[lo*w:hi*w])
	}, a)
}

// Gather picks one entry per row of a 2-D tensor: out[i] = a[i, idx[i]].
// It is how a Q-network's value of the taken action is read.
func (tp *Tape) Gather(a *Tensor, idx []int) *Tensor {
	if a.Dim() != 2 || len(idx) != a.Shape[0] {
		panic(fmt.Sprintf("tensor: Gather of %d indices from %v", len(idx), a.Shape))
	}
	c := a.Shape[1]
	out := New(len(idx))
	for i, j := range idx {
		if j < 0 || j >= c {
			panic(fmt.Sprintf("tensor: Gather index %d out of range [0,%d)", j, c))
		}
		out.Data[i] = a.Data[i*c+j]
	}
	return tp.Record(out, func() {
		ga := a.Grad()
		for i, j := range idx {
			ga[i*c+j] += out.grad[i]
		}
	}, a)
}
