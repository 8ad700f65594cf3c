package tensor

import (
	"fmt"
	"math"
)

// Losses reduce to a scalar mean, as PyTorch's default reduction. Each is one
// fused operation so that large images cost one pass forwards and one back.

func checkSame(op string, a, b *Tensor) {
	if len(a.Data) != len(b.Data) {
		panic(fmt.Sprintf("tensor: %s of %v and %v", op, a.Shape, b.Shape))
	}
}

// pairLoss builds a mean loss Σ f(a_i, b_i)/n whose derivative with respect
// to a_i is df(a_i, b_i) (and with respect to b_i its negative, for the
// difference-based losses below).
func (tp *Tape) pairLoss(op string, a, b *Tensor, f func(d float64) float64, df func(d float32) float32) *Tensor {
	checkSame(op, a, b)
	var s float64
	for i, v := range a.Data {
		s += f(float64(v) - float64(b.Data[i]))
	}
	nf := float32(len(a.Data))
	out := Scalar(float32(s / float64(len(a.Data))))
	return tp.Record(out, func() {
		g := out.grad[0] / nf
		var ga, gb []float32
		if a.requiresGrad {
			ga = a.Grad()
		}
		if b.requiresGrad {
			gb = b.Grad()
		}
		for i, v := range a.Data {
			d := g * df(v-b.Data[i])
			if ga != nil {
				ga[i] += d
			}
			if gb != nil {
				gb[i] -= d
			}
		}
	}, a, b)
}

// MSELoss returns mean((a - b)²).
func (tp *Tape) MSELoss(a, b *Tensor) *Tensor {
	return tp.pairLoss("MSELoss", a, b, func(d float64) float64 { return d * d }, func(d float32) float32 { return 2 * d })
}

// L1Loss returns mean(|a - b|); the derivative at 0 is taken as 0.
func (tp *Tape) L1Loss(a, b *Tensor) *Tensor {
	return tp.pairLoss("L1Loss", a, b, math.Abs, func(d float32) float32 {
		switch {
		case d > 0:
			return 1
		case d < 0:
			return -1
		}
		return 0
	})
}

// SmoothL1Loss returns the Huber loss mean: 0.5d²/β where |d| < β, else
// |d| - 0.5β, with d = a - b (PyTorch's smooth_l1_loss).
func (tp *Tape) SmoothL1Loss(a, b *Tensor, beta float32) *Tensor {
	bt := float64(beta)
	return tp.pairLoss("SmoothL1Loss", a, b, func(d float64) float64 {
		if ad := math.Abs(d); ad < bt {
			return 0.5 * d * d / bt
		}
		return math.Abs(d) - 0.5*bt
	}, func(d float32) float32 {
		switch {
		case d >= beta:
			return 1
		case d <= -beta:
			return -1
		}
		return d / beta
	})
}

// BCEWithLogits returns mean(max(x,0) - x·y + log(1 + e^(-|x|))), the binary
// cross-entropy of sigmoid(x) against targets y in [0, 1], computed stably.
// Gradient with respect to x: (sigmoid(x) - y)/n. Targets get no gradient.
func (tp *Tape) BCEWithLogits(x, y *Tensor) *Tensor {
	checkSame("BCEWithLogits", x, y)
	var s float64
	for i, v := range x.Data {
		xv, yv := float64(v), float64(y.Data[i])
		s += math.Max(xv, 0) - xv*yv + math.Log1p(math.Exp(-math.Abs(xv)))
	}
	nf := float32(len(x.Data))
	out := Scalar(float32(s / float64(len(x.Data))))
	return tp.Record(out, func() {
		g := out.grad[0] / nf
		gx := x.Grad()
		for i, v := range x.Data {
			gx[i] += g * (sigmoid(v) - y.Data[i])
		}
	}, x)
}

// KLDiv returns KL(P‖Q) = Σ p·log(p/q) / N for target distributions P and
// predicted Q, both N×K with rows summing to one; terms with p = 0 count 0.
// This is PyTorch's kl_div(log q, p, reduction="batchmean"), the DEC
// clustering loss. Gradient with respect to q: -p/(q·N). P gets none.
func (tp *Tape) KLDiv(p, q *Tensor) *Tensor {
	checkSame("KLDiv", p, q)
	n := 1
	if q.Dim() > 0 {
		n = q.Shape[0]
	}
	var s float64
	for i, pv := range p.Data {
		if pv > 0 {
			s += float64(pv) * (math.Log(float64(pv)) - math.Log(float64(q.Data[i])))
		}
	}
	out := Scalar(float32(s / float64(n)))
	return tp.Record(out, func() {
		g := out.grad[0] / float32(n)
		gq := q.Grad()
		for i, pv := range p.Data {
			if pv > 0 {
				gq[i] -= g * pv / q.Data[i]
			}
		}
	}, q)
}
