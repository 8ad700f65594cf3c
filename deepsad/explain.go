package deepsad

import (
	"context"
	"slices"
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
// is feature j's share of ‖φ(x_i) − c‖² − ‖φ(baseline) − c‖², positive
// when the feature moves the sample away from the centre; Offset is the
// baseline's score, so Offset[i] plus the row's sum is the score of x_i to
// within 1% of the difference from the baseline's score where 256 steps
// reach that (a row scored about as the baseline is, whose attributions
// cancel out, can miss it). The gradient with respect to the input is
// written by hand (gradFunc) rather than taken from the tape, which would
// accumulate into the shared weights' gradients. Safe for concurrent use.
func (m *Detector) Explain(ctx context.Context, x, background *data.Dataset) (*detector.Attributions, error) {
	if err := detector.CheckScore(ctx, m.enc != nil, x, m.shape); err != nil {
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

// gradChunk bounds the rows of one forward and backward pass in gradFunc,
// and so its buffers.
const gradChunk = 4096

// workspace holds gradFunc's buffers for gradChunk rows: pre[l] is layer
// l's output before its activation, act[l] the activated output that layer
// l+1 takes, g and gin the gradients flowing back. Explain reuses them
// through a pool: at 32 path points a sample, allocating them afresh made
// the garbage collector a quarter of the cost.
type workspace struct {
	pre, act [][]float32
	g, gin   []float32
}

var workspaces sync.Pool

// getWorkspace returns a pooled workspace for the layer widths w, or a new
// one when the pooled one was made for other widths.
func getWorkspace(w []int) *workspace {
	if ws, ok := workspaces.Get().(*workspace); ok && len(ws.pre) == len(w)-1 {
		fits := true
		for l := range ws.pre {
			fits = fits && len(ws.pre[l]) == gradChunk*w[l+1]
		}
		if fits && len(ws.g) == gradChunk*slices.Max(w) {
			return ws
		}
	}
	nl := len(w) - 1
	ws := &workspace{pre: make([][]float32, nl), act: make([][]float32, nl)}
	for l := 0; l < nl; l++ {
		ws.pre[l] = make([]float32, gradChunk*w[l+1])
		if l < nl-1 {
			ws.act[l] = make([]float32, gradChunk*w[l+1])
		}
	}
	ws.g, ws.gin = make([]float32, gradChunk*slices.Max(w)), make([]float32, gradChunk*slices.Max(w))
	return ws
}

// gradFunc is the explain.GradFunc of the score ‖φ(x) − c‖²: the forward
// pass of each layer is the one Score runs on the tape (the same Sgemm
// and LeakyReLU kernels, so the same scores), and the backward pass to the
// input goes from 2(φ(x) − c) through each layer, dA = dZ·W, and each
// LeakyReLU, times 1 or the slope by the sign of the pre-activation.
// kernels.Sgemm spreads the larger products over goroutines itself.
func (m *Detector) gradFunc(ctx context.Context, x []float32, n int, grad []float32) ([]float64, error) {
	w := widths(m.d, m.Options)
	nl := len(m.enc)
	ws := getWorkspace(w)
	defer workspaces.Put(ws)
	pre, act, g, gin := ws.pre, ws.act, ws.g, ws.gin
	rep := len(m.c)
	out := make([]float64, n)
	for lo := 0; lo < n; lo += gradChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(n, lo+gradChunk)
		r := hi - lo
		in := x[lo*m.d : hi*m.d]
		for l, ly := range m.enc {
			o, k := w[l+1], w[l]
			p := pre[l][:r*o]
			beta := float32(0)
			if ly.Bias != nil {
				beta = 1
				for i := 0; i < r; i++ {
					copy(p[i*o:(i+1)*o], ly.Bias.Data)
				}
			}
			kernels.Sgemm(false, true, r, o, k, 1, in, k, ly.Weight.Data, k, beta, p, o)
			if l < nl-1 {
				kernels.LeakyReLU(slope, p, act[l][:r*o])
				in = act[l][:r*o]
			}
		}
		z, dz := pre[nl-1][:r*rep], g[:r*rep]
		for i := 0; i < r; i++ {
			var s float64
			for j := 0; j < rep; j++ {
				t := z[i*rep+j] - m.c[j]
				s += float64(t) * float64(t)
				dz[i*rep+j] = 2 * t
			}
			out[lo+i] = s
		}
		for l := nl - 1; l >= 0; l-- {
			o, k := w[l+1], w[l]
			if l == 0 {
				kernels.Sgemm(false, false, r, k, o, 1, g[:r*o], o, m.enc[l].Weight.Data, k, 0, grad[lo*m.d:hi*m.d], k)
				break
			}
			// through layer l, then the LeakyReLU before it
			kernels.Sgemm(false, false, r, k, o, 1, g[:r*o], o, m.enc[l].Weight.Data, k, 0, gin[:r*k], k)
			clear(g[:r*k])
			kernels.LeakyReLUGrad(slope, pre[l-1][:r*k], gin[:r*k], g[:r*k])
		}
	}
	return out, ctx.Err()
}
