package tensor

import (
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/kernels"
)

// broadcastShape returns the NumPy broadcast of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, fmt.Errorf("tensor: shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bcastIndex maps every flat index of shape out to the flat index of an
// operand of shape in (right-aligned, size-1 dimensions repeat).
func bcastIndex(out, in []int) []int32 {
	n := Numel(out)
	idx := make([]int32, n)
	// strides of in, aligned to out, zero where broadcast
	st := make([]int, len(out))
	s := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := len(in) - len(out) + i
		if j >= 0 && in[j] != 1 {
			st[i] = s
		}
		if j >= 0 {
			s *= in[j]
		}
	}
	coord := make([]int, len(out))
	off := 0
	for k := 0; k < n; k++ {
		idx[k] = int32(off)
		for d := len(out) - 1; d >= 0; d-- {
			coord[d]++
			off += st[d]
			if coord[d] < out[d] {
				break
			}
			off -= st[d] * coord[d]
			coord[d] = 0
		}
	}
	return idx
}

// binary applies f element-wise with broadcasting, and records df, which
// returns the partial derivatives (d out/d a, d out/d b) at (a, b, out).
func (tp *Tape) binary(a, b *Tensor, f func(x, y float32) float32, df func(x, y, o float32) (float32, float32)) *Tensor {
	if SameShape(a.Shape, b.Shape) {
		out := New(a.Shape...)
		ad, bd, od := a.Data, b.Data, out.Data
		parallelFor(len(od), elementGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				od[i] = f(ad[i], bd[i])
			}
		})
		return tp.Record(out, func() {
			g := out.grad
			if g == nil {
				return
			}
			var ga, gb []float32
			if a.requiresGrad {
				ga = a.Grad()
			}
			if b.requiresGrad {
				gb = b.Grad()
			}
			for i := range g {
				da, db := df(ad[i], bd[i], od[i])
				if ga != nil {
					ga[i] += g[i] * da
				}
				if gb != nil {
					gb[i] += g[i] * db
				}
			}
		}, a, b)
	}
	shape, err := broadcastShape(a.Shape, b.Shape)
	if err != nil {
		panic(err)
	}
	ia, ib := bcastIndex(shape, a.Shape), bcastIndex(shape, b.Shape)
	out := New(shape...)
	for i := range out.Data {
		out.Data[i] = f(a.Data[ia[i]], b.Data[ib[i]])
	}
	return tp.Record(out, func() {
		g := out.grad
		if g == nil {
			return
		}
		var ga, gb []float32
		if a.requiresGrad {
			ga = a.Grad()
		}
		if b.requiresGrad {
			gb = b.Grad()
		}
		for i := range g {
			da, db := df(a.Data[ia[i]], b.Data[ib[i]], out.Data[i])
			if ga != nil {
				ga[ia[i]] += g[i] * da
			}
			if gb != nil {
				gb[ib[i]] += g[i] * db
			}
		}
	}, a, b)
}

// Add returns a + b with NumPy broadcasting.
func (tp *Tape) Add(a, b *Tensor) *Tensor {
	if SameShape(a.Shape, b.Shape) {
		out := a.Clone()
		kernels.Axpy(1, b.Data, out.Data)
		return tp.Record(out, func() {
			if out.grad == nil {
				return
			}
			if a.requiresGrad {
				kernels.Axpy(1, out.grad, a.Grad())
			}
			if b.requiresGrad {
				kernels.Axpy(1, out.grad, b.Grad())
			}
		}, a, b)
	}
	return tp.binary(a, b, func(x, y float32) float32 { return x + y },
		func(_, _, _ float32) (float32, float32) { return 1, 1 })
}

// Sub returns a - b with NumPy broadcasting.
func (tp *Tape) Sub(a, b *Tensor) *Tensor {
	if SameShape(a.Shape, b.Shape) {
		out := a.Clone()
		kernels.Axpy(-1, b.Data, out.Data)
		return tp.Record(out, func() {
			if out.grad == nil {
				return
			}
			if a.requiresGrad {
				kernels.Axpy(1, out.grad, a.Grad())
			}
			if b.requiresGrad {
				kernels.Axpy(-1, out.grad, b.Grad())
			}
		}, a, b)
	}
	return tp.binary(a, b, func(x, y float32) float32 { return x - y },
		func(_, _, _ float32) (float32, float32) { return 1, -1 })
}

// Mul returns the element-wise product a * b with NumPy broadcasting.
func (tp *Tape) Mul(a, b *Tensor) *Tensor {
	return tp.binary(a, b, func(x, y float32) float32 { return x * y },
		func(x, y, _ float32) (float32, float32) { return y, x })
}

// Div returns the element-wise quotient a / b with NumPy broadcasting.
func (tp *Tape) Div(a, b *Tensor) *Tensor {
	return tp.binary(a, b, func(x, y float32) float32 { return x / y },
		func(x, y, _ float32) (float32, float32) { return 1 / y, -x / (y * y) })
}

// unary applies f element-wise and records df(x, out) = d out / d x.
func (tp *Tape) unary(a *Tensor, f func(x float32) float32, df func(x, o float32) float32) *Tensor {
	out := New(a.Shape...)
	ad, od := a.Data, out.Data
	parallelFor(len(od), elementGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			od[i] = f(ad[i])
		}
	})
	return tp.Record(out, func() {
		g := out.grad
		if g == nil {
			return
		}
		ga := a.Grad()
		parallelFor(len(g), elementGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				ga[i] += g[i] * df(ad[i], od[i])
			}
		})
	}, a)
}

// AddScalar returns a + c.
func (tp *Tape) AddScalar(a *Tensor, c float32) *Tensor {
	return tp.unary(a, func(x float32) float32 { return x + c }, func(_, _ float32) float32 { return 1 })
}

// MulScalar returns c * a.
func (tp *Tape) MulScalar(a *Tensor, c float32) *Tensor {
	return tp.unary(a, func(x float32) float32 { return c * x }, func(_, _ float32) float32 { return c })
}

// Neg returns -a.
func (tp *Tape) Neg(a *Tensor) *Tensor { return tp.MulScalar(a, -1) }

// ReLU returns max(a, 0).
func (tp *Tape) ReLU(a *Tensor) *Tensor { return tp.LeakyReLU(a, 0) }

// LeakyReLU returns a where a > 0 and slope*a elsewhere; its derivative is 1
// or slope (slope at 0, as PyTorch). Both passes are kernels.LeakyReLU(Grad):
// activations run over every pixel of every feature map.
func (tp *Tape) LeakyReLU(a *Tensor, slope float32) *Tensor {
	out := New(a.Shape...)
	ad, od := a.Data, out.Data
	parallelFor(len(od), elementGrain, func(lo, hi int) {
		kernels.LeakyReLU(slope, ad[lo:hi], od[lo:hi])
	})
	return tp.Record(out, func() {
		g := out.grad
		if g == nil {
			return
		}
		ga := a.Grad()
		parallelFor(len(g), elementGrain, func(lo, hi int) {
			kernels.LeakyReLUGrad(slope, ad[lo:hi], g[lo:hi], ga[lo:hi])
		})
	}, a)
}

// Tanh returns tanh(a).
func (tp *Tape) Tanh(a *Tensor) *Tensor {
	return tp.unary(a, func(x float32) float32 { return float32(math.Tanh(float64(x))) },
		func(_, o float32) float32 { return 1 - o*o })
}

// Sigmoid returns 1 / (1 + exp(-a)).
func (tp *Tape) Sigmoid(a *Tensor) *Tensor {
	return tp.unary(a, sigmoid, func(_, o float32) float32 { return o * (1 - o) })
}

func sigmoid(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}

// Exp returns e^a.
func (tp *Tape) Exp(a *Tensor) *Tensor {
	return tp.unary(a, func(x float32) float32 { return float32(math.Exp(float64(x))) },
		func(_, o float32) float32 { return o })
}

// Log returns the natural logarithm of a.
func (tp *Tape) Log(a *Tensor) *Tensor {
	return tp.unary(a, func(x float32) float32 { return float32(math.Log(float64(x))) },
		func(x, _ float32) float32 { return 1 / x })
}

// Square returns a².
func (tp *Tape) Square(a *Tensor) *Tensor {
	return tp.unary(a, func(x float32) float32 { return x * x }, func(x, _ float32) float32 { return 2 * x })
}

// Sqrt returns √a.
func (tp *Tape) Sqrt(a *Tensor) *Tensor {
	return tp.unary(a, func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
		func(_, o float32) float32 { return 0.5 / o })
}

// Pow returns a^p for a constant exponent p.
func (tp *Tape) Pow(a *Tensor, p float32) *Tensor {
	return tp.unary(a, func(x float32) float32 { return float32(math.Pow(float64(x), float64(p))) },
		func(x, _ float32) float32 { return p * float32(math.Pow(float64(x), float64(p-1))) })
}

// Abs returns |a|; its derivative at 0 is taken as 0.
func (tp *Tape) Abs(a *Tensor) *Tensor {
	return tp.unary(a, func(x float32) float32 {
		if x < 0 {
			return -x
		}
		return x
	}, func(x, _ float32) float32 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	})
}
