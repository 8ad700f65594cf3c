package tensor

import (
	"fmt"

	"github.com/oddity-ml/oddity/kernels"
)

// MatMul returns the matrix product a·b of a (m×k) and b (k×n).
//
// Gradients: dA = dOut·Bᵀ, dB = Aᵀ·dOut.
func (tp *Tape) MatMul(a, b *Tensor) *Tensor {
	if a.Dim() != 2 || b.Dim() != 2 || a.Shape[1] != b.Shape[0] {
		panic(fmt.Sprintf("tensor: MatMul %v by %v", a.Shape, b.Shape))
	}
	m, k, n := a.Shape[0], a.Shape[1], b.Shape[1]
	out := New(m, n)
	kernels.Sgemm(false, false, m, n, k, 1, a.Data, k, b.Data, n, 0, out.Data, n)
	return tp.Record(out, func() {
		if a.requiresGrad {
			kernels.Sgemm(false, true, m, k, n, 1, out.grad, n, b.Data, n, 1, a.Grad(), k)
		}
		if b.requiresGrad {
			kernels.Sgemm(true, false, k, n, m, 1, a.Data, k, out.grad, n, 1, b.Grad(), n)
		}
	}, a, b)
}

// Linear returns x·Wᵀ + bias for x (n×in), W (out×in) and bias (out) or nil:
// PyTorch's layout, so weights read the same in both.
//
// Gradients: dx = dOut·W, dW = dOutᵀ·x, dbias = column sums of dOut.
func (tp *Tape) Linear(x, w, bias *Tensor) *Tensor {
	if x.Dim() != 2 || w.Dim() != 2 || x.Shape[1] != w.Shape[1] {
		panic(fmt.Sprintf("tensor: Linear input %v with weight %v", x.Shape, w.Shape))
	}
	n, in, o := x.Shape[0], x.Shape[1], w.Shape[0]
	out := New(n, o)
	if bias != nil {
		if bias.Len() != o {
			panic(fmt.Sprintf("tensor: Linear bias %v for %d outputs", bias.Shape, o))
		}
		for i := 0; i < n; i++ {
			copy(out.Data[i*o:(i+1)*o], bias.Data)
		}
	}
	beta := float32(0)
	if bias != nil {
		beta = 1
	}
	kernels.Sgemm(false, true, n, o, in, 1, x.Data, in, w.Data, in, beta, out.Data, o)
	return tp.Record(out, func() {
		g := out.grad
		if x.requiresGrad {
			kernels.Sgemm(false, false, n, in, o, 1, g, o, w.Data, in, 1, x.Grad(), in)
		}
		if w.requiresGrad {
			kernels.Sgemm(true, false, o, in, n, 1, g, o, x.Data, in, 1, w.Grad(), in)
		}
		if bias != nil && bias.requiresGrad {
			gb := bias.Grad()
			for i := 0; i < n; i++ {
				kernels.Axpy(1, g[i*o:(i+1)*o], gb)
			}
		}
	}, x, w, bias)
}
