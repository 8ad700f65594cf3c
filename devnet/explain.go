package devnet

import (
	"context"
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
// misses by more than 1%) from a baseline of typical normal data: the
// per-feature median of background, a sample of training rows the caller
// keeps beside the model (the model file does not hold one). Values[i*D+j]
// is feature j's share of φ(x_i) − φ(baseline), positive when the feature
// moves the sample towards anomalous; Offset is φ(baseline), so Offset[i]
// plus the row's sum is φ(x_i), within 1% of φ(x_i) − φ(baseline) where
// 256 steps reach that (a row scored about as the baseline is, whose
// attributions cancel out, can miss it). The network's gradient with
// respect to its input is written by hand, as its training gradient is
// (gradFunc). Safe for concurrent use.
func (m *Detector) Explain(ctx context.Context, x, background *data.Dataset) (*detector.Attributions, error) {
	if err := detector.CheckScore(ctx, m.w1 != nil, x, m.shape); err != nil {
		return nil, err
	}
	b, err := explain.MedianBaseline(background, m.shape)
	if err != nil {
		return nil, err
	}
	if x.N == 0 {
		return &detector.Attributions{D: m.d, Values: []float32{}, Offset: []float64{}, Technique: "integrated-gradients"}, nil
	}
	return explain.IntegratedGradients(ctx, m.gradFunc, x, b, explain.IGOptions{})
}

// gradChunk is the number of rows one worker takes at a time in gradFunc.
const gradChunk = 512

// scratch pools gradFunc's per-worker buffers (2·gradChunk·Hidden values):
// at 32 path points a sample, allocating them on every call made the
// garbage collector a visible share of the cost.
var scratch sync.Pool

// getScratch returns a pooled buffer of n values, or a new one.
func getScratch(n int) *[]float32 {
	if b, ok := scratch.Get().(*[]float32); ok && len(*b) == n {
		return b
	}
	b := make([]float32, n)
	return &b
}

// gradFunc is the explain.GradFunc of φ: the scores of the n rows of x,
// computed as Score computes them, and ∂φ/∂x = W1ᵀ·(w2 ⊙ 1[W1·x + b1 > 0])
// of each row written into grad, row blocks spread over Workers goroutines.
func (m *Detector) gradFunc(ctx context.Context, x []float32, n int, grad []float32) ([]float64, error) {
	h, d := m.w1.Shape[0], m.d
	dst := make([]float64, n)
	blocks := (n + gradChunk - 1) / gradChunk
	workers := m.Options.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, blocks)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := getScratch(2 * gradChunk * h)
			defer scratch.Put(buf)
			hid, dh := (*buf)[:gradChunk*h], (*buf)[gradChunk*h:]
			w2 := m.w2.Data[:h]
			for bl := w; bl < blocks; bl += workers {
				if ctx.Err() != nil {
					return
				}
				lo, hi := bl*gradChunk, min(n, (bl+1)*gradChunk)
				m.hidden(hid, x[lo*d:hi*d], hi-lo)
				for i := 0; i < hi-lo; i++ {
					s := m.b2.Data[0]
					r, g := hid[i*h:(i+1)*h], dh[i*h:(i+1)*h]
					for j, v := range r {
						s += v * w2[j]
						if v > 0 {
							g[j] = w2[j]
						} else {
							g[j] = 0
						}
					}
					dst[lo+i] = float64(s)
				}
				kernels.Sgemm(false, false, hi-lo, d, h, 1, dh[:(hi-lo)*h], h, m.w1.Data, d, 0, grad[lo*d:hi*d], d)
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return dst, nil
}
