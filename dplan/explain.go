package dplan

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/kernels"
)

var _ detector.Explainer = (*Detector)(nil)

// Explain implements detector.Explainer by integrated gradients
// (explain.IntegratedGradients, 32 steps refined where completeness
// misses by more than 1%) of the score Q(s, a1) from a baseline of
// typical normal data: the per-feature median of background, a sample of
// training rows the caller keeps beside the model (the model file does not
// hold one). The path runs through the features as x holds them and the
// gradient goes back through the input scaling when ScaleInput was on, so
// that (x_j − b_j)·∂Q/∂x_j pairs quantities of the same units (the result
// equals that of the path through the scaled rows: integrated gradients do
// not change under a per-feature affine map). Values[i*D+j] is feature j's share of Q(x_i, a1) − Q(baseline,
// a1), positive when the feature moves the sample towards anomalous;
// Offset is Q(baseline, a1), so Offset[i] plus the row's sum is the score
// of x_i, within 1% of the difference from the baseline's score where 256
// steps reach that (a row scored about as the baseline is, whose
// attributions cancel out, can miss it). Safe for concurrent use.
func (m *Detector) Explain(ctx context.Context, x, background *data.Dataset) (*detector.Attributions, error) {
	// the checks of Score (m.input), without its scaled copy of x
	if err := detector.CheckScore(ctx, m.net != nil, x, m.shape); err != nil {
		return nil, err
	}
	if x.Dim() != m.net.d {
		return nil, fmt.Errorf("%w: the model takes %d features, data %s has %d", detector.ErrSchema, m.net.d, x.Name, x.Dim())
	}
	shape := m.shape
	if shape == nil {
		shape = x.Shape // a model saved before the shape was stored checks the width only
	}
	b, err := explain.MedianBaseline(background, shape)
	if err != nil {
		return nil, err
	}
	if x.N == 0 {
		return &detector.Attributions{D: m.net.d, Values: []float32{}, Offset: []float64{}, Technique: "integrated-gradients"}, nil
	}
	return explain.IntegratedGradients(ctx, m.gradFunc, x, b, explain.IGOptions{})
}

// scratch pools gradFunc's per-worker buffers (scoreChunk·(H+1) values)
// and scaled copies of its input: at 32 path points a sample, allocating
// them on every call made the garbage collector a visible share of the
// cost.
var scratch sync.Pool

// getScratch returns a pooled buffer of n values, or a new one.
func getScratch(n int) *[]float32 {
	if b, ok := scratch.Get().(*[]float32); ok && cap(*b) >= n && cap(*b) <= 2*n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

// gradFunc is the explain.GradFunc of the score Q(s, a1) of raw rows: the
// rows are scaled as Score scales them, the forward pass is
// QNet.ScoreAnomaly's (HiddenT, then the a1 output summed unit by unit in
// the same order, so the same scores), and the gradient with respect to
// the scaled row, W1ᵀ·(W2[a1] ⊙ 1[hidden > 0]), is divided by each
// feature's range to be the gradient with respect to the raw row. Blocks of
// rows are spread over Workers goroutines, each product sized to stay on
// its goroutine, as in scoring.
func (m *Detector) gradFunc(ctx context.Context, x []float32, n int, grad []float32) ([]float64, error) {
	q := m.net
	d, h := q.d, q.h
	in := x[:n*d]
	if m.lo != nil {
		buf := getScratch(n * d)
		defer scratch.Put(buf)
		in = *buf
		scaleRows(in, x[:n*d], m.lo, m.span)
	}
	dst := make([]float64, n)
	blocks := (n + scoreChunk - 1) / scoreChunk
	workers := m.Options.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, blocks))
	step := q.chunkRows()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := getScratch(scoreChunk * (h + 1))
			defer scratch.Put(buf)
			hid, acc := (*buf)[:scoreChunk*h], (*buf)[scoreChunk*h:]
			w1, b1 := q.W2.Data[h:2*h], q.B2.Data[1]
			for b := w; b < blocks; b += workers {
				if ctx.Err() != nil {
					return
				}
				lo := b * scoreChunk
				hi := min(n, lo+scoreChunk)
				r := hi - lo
				q.HiddenT(hid, scoreChunk, in[lo*d:hi*d], r)
				a := acc[:r]
				for i := range a {
					a[i] = b1
				}
				for j := 0; j < h; j++ {
					wj := w1[j]
					row := hid[j*scoreChunk : j*scoreChunk+r]
					for i, v := range row {
						a[i] += wj * v
						// the hidden value is spent: keep ∂Q/∂hidden
						if v > 0 {
							row[i] = wj
						} else {
							row[i] = 0
						}
					}
				}
				for i, v := range a {
					dst[lo+i] = float64(v)
				}
				for s := 0; s < r; s += step {
					e := min(r, s+step)
					kernels.Sgemm(true, false, e-s, d, h, 1, hid[s:], scoreChunk, q.W1.Data, d, 0, grad[(lo+s)*d:(lo+e)*d], d)
				}
				if m.span != nil {
					for i := lo; i < hi; i++ {
						g := grad[i*d : (i+1)*d]
						for j, s := range m.span {
							g[j] /= s
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return dst, nil
}
