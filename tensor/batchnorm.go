package tensor

import (
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/kernels"
)

// BatchNormState holds a batch-norm layer's running statistics, updated in
// training mode and used in inference mode.
type BatchNormState struct {
	// RunningMean and RunningVar are per-channel estimates (PyTorch semantics:
	// the running variance uses the unbiased batch variance).
	RunningMean, RunningVar *Tensor
	// Momentum weights the newest batch in the running averages (0.1).
	Momentum float32
	// Eps is added to the variance before the square root (1e-5).
	Eps float32
}

// BatchNorm normalises x per channel (axis 1) over every other axis: x is
// N×C (BatchNorm1d) or N×C×H×W (BatchNorm2d). In training mode it uses the
// batch's statistics and updates st's running averages; otherwise it uses the
// running averages. gamma and beta (C) scale and shift the result.
//
// Training-mode gradients, with x̂ the normalised input, M values per channel
// and σ the batch standard deviation:
//
//	dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/(Mσ) · (M·dy − Σdy − x̂·Σ dy·x̂).
func (tp *Tape) BatchNorm(x, gamma, beta *Tensor, st *BatchNormState, training bool) *Tensor {
	if x.Dim() != 2 && x.Dim() != 4 {
		panic(fmt.Sprintf("tensor: BatchNorm needs N×C or N×C×H×W, got %v", x.Shape))
	}
	n, c := x.Shape[0], x.Shape[1]
	p := 1
	if x.Dim() == 4 {
		p = x.Shape[2] * x.Shape[3]
	}
	if gamma.Len() != c || beta.Len() != c || st.RunningMean.Len() != c || st.RunningVar.Len() != c {
		panic(fmt.Sprintf("tensor: BatchNorm of %v with %d-channel parameters", x.Shape, gamma.Len()))
	}
	m := n * p
	if training && m < 2 {
		panic(fmt.Sprintf("tensor: BatchNorm in training mode needs more than one value per channel, got input %v", x.Shape))
	}
	mean := make([]float64, c)
	invStd := make([]float32, c)
	if training {
		parallelFor(c, 1, func(lo, hi int) {
			for ci := lo; ci < hi; ci++ {
				// Each run of p values is summed in float32 (vectorised),
				// the runs in float64.
				var s, ss float64
				for i := 0; i < n; i++ {
					s += float64(kernels.Sum(x.Data[(i*c+ci)*p : (i*c+ci+1)*p]))
				}
				mu := s / float64(m)
				for i := 0; i < n; i++ {
					ss += float64(kernels.SumSqDev(x.Data[(i*c+ci)*p:(i*c+ci+1)*p], float32(mu)))
				}
				v := ss / float64(m)
				mean[ci] = mu
				invStd[ci] = float32(1 / math.Sqrt(v+float64(st.Eps)))
				mo := float64(st.Momentum)
				st.RunningMean.Data[ci] = float32((1-mo)*float64(st.RunningMean.Data[ci]) + mo*mu)
				st.RunningVar.Data[ci] = float32((1-mo)*float64(st.RunningVar.Data[ci]) + mo*v*float64(m)/float64(m-1))
			}
		})
	} else {
		for ci := 0; ci < c; ci++ {
			mean[ci] = float64(st.RunningMean.Data[ci])
			invStd[ci] = float32(1 / math.Sqrt(float64(st.RunningVar.Data[ci])+float64(st.Eps)))
		}
	}
	out := New(x.Shape...)
	xhat := getScratch(len(x.Data)) // every entry is written below
	parallelFor(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for ci := 0; ci < c; ci++ {
				lo, hi := (i*c+ci)*p, (i*c+ci+1)*p
				kernels.BatchNormApply(x.Data[lo:hi], xhat[lo:hi], out.Data[lo:hi], float32(mean[ci]), invStd[ci], gamma.Data[ci], beta.Data[ci])
			}
		}
	})
	if !tp.needs(x, gamma, beta) {
		putScratch(xhat)
		return out
	}
	return tp.Record(out, func() {
		defer putScratch(xhat)
		dy := out.grad
		sumDy := make([]float64, c)
		sumDyXh := make([]float64, c)
		parallelFor(c, 1, func(lo, hi int) {
			for ci := lo; ci < hi; ci++ {
				var a, b float64
				for i := 0; i < n; i++ {
					off := (i*c + ci) * p
					a += float64(kernels.Sum(dy[off : off+p]))
					b += float64(kernels.Dot(dy[off:off+p], xhat[off:off+p]))
				}
				sumDy[ci], sumDyXh[ci] = a, b
			}
		})
		if gamma.requiresGrad {
			g := gamma.Grad()
			for ci := range g {
				g[ci] += float32(sumDyXh[ci])
			}
		}
		if beta.requiresGrad {
			g := beta.Grad()
			for ci := range g {
				g[ci] += float32(sumDy[ci])
			}
		}
		if !x.requiresGrad {
			return
		}
		gx := x.Grad()
		parallelFor(n, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				for ci := 0; ci < c; ci++ {
					off := (i*c + ci) * p
					k := gamma.Data[ci] * invStd[ci]
					if !training {
						for j := off; j < off+p; j++ {
							gx[j] += k * dy[j]
						}
						continue
					}
					md, mdx := float32(sumDy[ci]/float64(m)), float32(sumDyXh[ci]/float64(m))
					kernels.BatchNormGrad(gx[off:off+p], dy[off:off+p], xhat[off:off+p], k, md, mdx)
				}
			}
		})
	}, x, gamma, beta)
}
