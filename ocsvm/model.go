package ocsvm

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/oddity-ml/oddity/detector"
)

// model is a fitted one-class SVM's decision function
//
//	f(x) = Σ_k c_k · exp(−γ‖x − s_k‖²) − ρ
//
// over the support vectors s_k (the training rows with α > 0, in training
// order) with coefficients c_k = α_k. It is scikit-learn's
// decision_function: positive inside the learnt region, negative outside.
type model struct {
	dim   int
	gamma float64
	rho   float64
	sv    []float32 // n×dim support vectors, as stored
	coef  []float64
	k     *kernel // the support vectors padded, with their squared norms
}

// newModelFrom builds the model of the given support vectors and
// coefficients.
func newModelFrom(dim int, gamma, rho float64, sv []float32, coef []float64) *model {
	return &model{dim: dim, gamma: gamma, rho: rho, sv: sv, coef: coef, k: newKernel(sv, len(coef), dim, gamma, 1)}
}

func (m *model) nSV() int { return len(m.coef) }

// kernelSum is Σ_k c_k·K(x, s_k), scikit-learn's score_samples, with the
// terms added in support-vector order as libsvm adds them. The squared
// distances are computed as the training kernel computes them, from
// norms and dot products (libsvm's prediction sums squared differences
// instead; the two differ by rounding, about 10⁻¹⁵ of a score). x is
// padded to the kernel's row length; buf holds scoreChunk values.
func (m *model) kernelSum(x []float64, buf []float64) float64 {
	k := m.k
	d, g := k.d, m.gamma
	xsq := dot(x, x)
	s := 0.0
	for a := 0; a < len(m.coef); a += scoreChunk {
		b := min(a+scoreChunk, len(m.coef))
		p := buf[:b-a]
		dots(x, k.x[a*d:b*d], p)
		sq, c := k.sq[a:b], m.coef[a:b]
		for j, v := range p {
			s += c[j] * expNeg(-g*(xsq+sq[j]-2*v))
		}
	}
	return s
}

// scoreChunk is the number of support vectors whose dot products with a
// sample are computed at once.
const scoreChunk = 256

// scoreBlock is the number of rows one goroutine scores at a time.
const scoreBlock = 64

// score returns ρ − Σ_k c_k·K(x_i, s_k) = −f(x_i) for each of the n rows
// of x: higher = more anomalous. Rows are scored in blocks by up to
// workers goroutines; each score depends only on its row.
func (m *model) score(ctx context.Context, x []float32, n, workers int) ([]float64, error) {
	out := make([]float64, n)
	blocks := (n + scoreBlock - 1) / scoreBlock
	w := max(1, min(workers, blocks))
	var (
		mu   sync.Mutex
		next int
		fail error
		wg   sync.WaitGroup
	)
	take := func() int {
		mu.Lock()
		defer mu.Unlock()
		if fail != nil || next >= blocks {
			return -1
		}
		if err := ctx.Err(); err != nil {
			fail = err
			return -1
		}
		next++
		return next - 1
	}
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := make([]float64, m.k.d) // padded with zeros
			buf := make([]float64, scoreChunk)
			for b := take(); b >= 0; b = take() {
				for i := b * scoreBlock; i < min(n, (b+1)*scoreBlock); i++ {
					for t, v := range x[i*m.dim : i*m.dim+m.dim] {
						row[t] = float64(v)
					}
					out[i] = m.rho - m.kernelSum(row, buf)
				}
			}
		}()
	}
	wg.Wait()
	if fail != nil {
		return nil, fail
	}
	for i, s := range out {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: ocsvm: score of sample %d is %v", detector.ErrInput, i, s)
		}
	}
	return out, nil
}
