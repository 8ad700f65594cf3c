package dplan

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/initw"
	"github.com/oddity-ml/oddity/kernels"
	"github.com/oddity-ml/oddity/tensor"
)

// Actions of the agent.
const (
	// ActNormal (a0) labels the state normal.
	ActNormal = 0
	// ActAnomaly (a1) labels the state anomalous.
	ActAnomaly = 1
	nActions   = 2
)

// QNet is the DQN d → Dense(H) + ReLU → Dense(2): Q(s, a0), Q(s, a1). Its
// parameters are tensors in PyTorch's layout (weights out × in) so they can
// be saved and handed to an optimiser; forward and backward are written by
// hand with kernels.Sgemm on reused buffers (see the package documentation).
type QNet struct {
	// W1 (H × d), B1 (H), W2 (2 × H), B2 (2) are the parameters.
	W1, B1, W2, B2 *tensor.Tensor
	d, h           int
}

// NewQNet returns a d → h → 2 network with Keras's default initialisation
// (Glorot-uniform weights, zero biases), as DPLAN's Keras code has.
func NewQNet(d, h int, r *rand.Rand) (*QNet, error) {
	q := &QNet{
		W1: tensor.Param("q.hidden.weight", h, d), B1: tensor.Param("q.hidden.bias", h),
		W2: tensor.Param("q.out.weight", nActions, h), B2: tensor.Param("q.out.bias", nActions),
		d: d, h: h,
	}
	if err := initw.XavierUniform(r, q.W1, 1); err != nil {
		return nil, err
	}
	if err := initw.XavierUniform(r, q.W2, 1); err != nil {
		return nil, err
	}
	return q, nil
}

// Params returns the parameters in a fixed order.
func (q *QNet) Params() []*tensor.Tensor { return []*tensor.Tensor{q.W1, q.B1, q.W2, q.B2} }

// Dim returns the input width d.
func (q *QNet) Dim() int { return q.d }

// HiddenWidth returns H.
func (q *QNet) HiddenWidth() int { return q.h }

// copyFrom copies src's parameter values into q.
func (q *QNet) copyFrom(src *QNet) {
	for i, p := range q.Params() {
		p.CopyFrom(src.Params()[i])
	}
}

// Hidden writes relu(x·W1ᵀ + b1) for the n rows of x into hid (n × H);
// Detector.Embed returns it for a data set.
func (q *QNet) Hidden(hid, x []float32, n int) {
	h, d := q.h, q.d
	for i := 0; i < n; i++ {
		copy(hid[i*h:(i+1)*h], q.B1.Data)
	}
	step := q.chunkRows()
	for lo := 0; lo < n; lo += step {
		hi := min(n, lo+step)
		kernels.Sgemm(false, true, hi-lo, h, d, 1, x[lo*d:hi*d], d, q.W1.Data, d, 1, hid[lo*h:hi*h], h)
	}
	for i, v := range hid[:n*h] {
		if v < 0 {
			hid[i] = 0
		}
	}
}

// outputs writes hid·W2ᵀ + b2 (n × 2) into out.
func (q *QNet) outputs(out, hid []float32, n int) {
	h := q.h
	w0, w1 := q.W2.Data[:h], q.W2.Data[h:2*h]
	b0, b1 := q.B2.Data[0], q.B2.Data[1]
	for i := 0; i < n; i++ {
		r := hid[i*h : (i+1)*h]
		s0, s1 := b0, b1
		for j, v := range r {
			s0 += v * w0[j]
			s1 += v * w1[j]
		}
		out[2*i], out[2*i+1] = s0, s1
	}
}

// Forward writes Q-values (n × 2) of the n rows of x into out, using hid
// (n × H) as scratch.
func (q *QNet) Forward(out, hid, x []float32, n int) {
	q.Hidden(hid, x, n)
	q.outputs(out, hid, n)
}

// serialFlops bounds the multiply-adds of one Sgemm call made by this
// package so that kernels.Sgemm stays on the calling goroutine (it splits
// larger products across goroutines, which only adds synchronisation at
// these sizes and oversubscribes the scoring workers).
const serialFlops = 1<<19 - 1

// chunkRows is the number of rows per Sgemm call for HiddenT.
func (q *QNet) chunkRows() int { return max(16, serialFlops/(q.h*q.d)) }

// HiddenT writes the hidden representation of the n rows of x transposed:
// dst[j*ld+i] = relu(W1[j]·x_i + b1[j]) for unit j < H and row i < n, with
// ld >= n the row stride of dst. The product is W1·xᵀ, the orientation in
// which kernels.Sgemm is fastest for a 20-unit layer.
func (q *QNet) HiddenT(dst []float32, ld int, x []float32, n int) {
	h, d := q.h, q.d
	step := q.chunkRows()
	for lo := 0; lo < n; lo += step {
		hi := min(n, lo+step)
		kernels.Sgemm(false, true, h, hi-lo, d, 1, q.W1.Data, d, x[lo*d:hi*d], d, 0, dst[lo:], ld)
	}
	for j := 0; j < h; j++ {
		b := q.B1.Data[j]
		row := dst[j*ld : j*ld+n]
		for i, v := range row {
			row[i] = max(v+b, 0)
		}
	}
}

// scoreChunk is the number of rows scored per block.
const scoreChunk = 2048

// ScoreAnomaly returns Q(s, a1) for the n rows of x, computed in blocks of
// rows across workers goroutines (0: GOMAXPROCS). Safe for concurrent use.
// A length of x other than n·d is an error wrapping detector.ErrInput.
func (q *QNet) ScoreAnomaly(x []float32, n, workers int) ([]float64, error) {
	if len(x) != n*q.d {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d features", detector.ErrInput, len(x), n, q.d)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	dst := make([]float64, n)
	blocks := (n + scoreChunk - 1) / scoreChunk
	workers = max(1, min(workers, blocks))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			h := q.h
			hid := make([]float32, scoreChunk*h)
			acc := make([]float32, scoreChunk)
			w1 := q.W2.Data[h : 2*h]
			b1 := q.B2.Data[1]
			for b := w; b < blocks; b += workers {
				lo := b * scoreChunk
				hi := min(n, lo+scoreChunk)
				m := hi - lo
				q.HiddenT(hid, scoreChunk, x[lo*q.d:hi*q.d], m)
				a := acc[:m]
				for i := range a {
					a[i] = b1
				}
				for j := 0; j < h; j++ {
					wj := w1[j]
					for i, v := range hid[j*scoreChunk : j*scoreChunk+m] {
						a[i] += wj * v
					}
				}
				for i, v := range a {
					dst[lo+i] = float64(v)
				}
			}
		}(w)
	}
	wg.Wait()
	return dst, nil
}
