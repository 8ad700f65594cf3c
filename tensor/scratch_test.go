package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Recycled scratch buffers come back with stale contents. Poisoning every
// free list with NaN must not change a convolution's or a batch norm's
// outputs or gradients: the operations that use scratch overwrite every
// entry before reading it.
func TestScratchContentsNeverLeak(t *testing.T) {
	run := func() (outs, grads [][]float32) {
		rng := rand.New(rand.NewPCG(5, 6))
		fill := func(tn *Tensor) *Tensor {
			for i := range tn.Data {
				tn.Data[i] = rng.Float32()*2 - 1
			}
			return tn
		}
		x := fill(New(3, 4, 9, 9)).SetRequiresGrad(true)
		w := fill(New(5, 4, 4, 4)).SetRequiresGrad(true)
		wt := fill(New(5, 2, 3, 3)).SetRequiresGrad(true)
		gamma, beta := fill(New(5)).SetRequiresGrad(true), fill(New(5)).SetRequiresGrad(true)
		st := &BatchNormState{RunningMean: New(5), RunningVar: Full(1, 5), Momentum: 0.1, Eps: 1e-5}
		tp := NewTape()
		y := tp.BatchNorm(tp.Conv2d(x, w, nil, ConvOptions{Stride: 2, Padding: 1}), gamma, beta, st, true)
		z := tp.ConvTranspose2d(y, wt, nil, ConvOptions{Stride: 2, Padding: 1, OutputPadding: 1})
		tp.Backward(tp.Mean(tp.Mul(z, z)))
		inf := NoGrad.Conv2d(x, w, nil, ConvOptions{Stride: 2, Padding: 1})
		infBN := NoGrad.BatchNorm(inf, gamma, beta, st, false)
		return [][]float32{y.Data, z.Data, inf.Data, infBN.Data}, [][]float32{x.Grad(), w.Grad(), wt.Grad(), gamma.Grad()}
	}
	outs, grads := run()
	for b := 0; b < 22; b++ {
		for k := 0; k < 4; k++ {
			buf := make([]float32, 1<<b)
			for i := range buf {
				buf[i] = float32(math.NaN())
			}
			putScratch(buf)
		}
	}
	outs2, grads2 := run()
	for i := range outs {
		for j := range outs[i] {
			if outs[i][j] != outs2[i][j] {
				t.Fatalf("output %d entry %d: %v with clean scratch, %v with poisoned", i, j, outs[i][j], outs2[i][j])
			}
		}
		for j := range grads[i] {
			if grads[i][j] != grads2[i][j] {
				t.Fatalf("gradient %d entry %d: %v with clean scratch, %v with poisoned", i, j, grads[i][j], grads2[i][j])
			}
		}
	}
}
