package tsne

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/kernels"
	"gonum.org/v1/gonum/mat"
)

// pcaChunks is the fixed number of row chunks whose partial products are
// summed in order, so PCA results do not depend on the worker count.
const pcaChunks = 8

// pcaScores returns the n×k principal-component scores of the centred n×d
// matrix xc, computed by randomized subspace iteration (Halko, Martinsson and
// Tropp 2011, as scikit-learn's randomized PCA: 10 oversampling columns, 7
// power iterations when k is under a tenth of min(n, d), else 4). Each
// component's sign is fixed so its largest loading is positive.
func pcaScores(ctx context.Context, xc []float32, n, d, k int, seed uint64, workers int) ([]float32, error) {
	if k > min(n, d) {
		return nil, fmt.Errorf("%w: %d principal components of a %d×%d matrix", ErrBadInput, k, n, d)
	}
	l := min(k+10, n, d)
	iters := 4
	if float64(k) < 0.1*float64(min(n, d)) {
		iters = 7
	}
	rng := rand.New(rand.NewPCG(seed, 0x9ca))
	v := make([]float32, d*l) // d×l basis of the row space
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, n*l) // n×l sketch of the column space
	qt := make([]float64, l*n)
	wt := make([]float64, l*d)
	q32 := make([]float32, n*l)
	for it := 0; ; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mulAB(xc, v, y, n, d, l, workers) // y = xc·v
		transposeInto(qt, y, n, l)
		orthonormalRows(qt, l, n)
		if it == iters {
			break
		}
		transposeInto32(q32, qt, l, n)
		zt := mulAtB(q32, xc, n, l, d, workers) // zt = qᵀ·xc, l×d
		for i := range wt {
			wt[i] = float64(zt[i])
		}
		orthonormalRows(wt, l, d)
		transposeInto32(v, wt, l, d)
	}
	// B = Qᵀ·xc (l×d) = U S Vᵀ; scores = Q·U·S.
	b64 := make([]float64, l*d)
	transposeInto32(q32, qt, l, n)
	bt := mulAtB(q32, xc, n, l, d, workers)
	for i := range b64 {
		b64[i] = float64(bt[i])
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(l, d, b64), mat.SVDThin) {
		return nil, fmt.Errorf("tsne: PCA: SVD of the %d×%d sketch did not converge", l, d)
	}
	var u, vv mat.Dense
	svd.UTo(&u)
	svd.VTo(&vv)
	s := svd.Values(nil)
	// Fold S and the sign convention into the small factor U (l×k).
	coef := make([]float64, l*k)
	for c := range k {
		big, sign := 0.0, 1.0
		for r := range d {
			if a := vv.At(r, c); math.Abs(a) > big {
				big = math.Abs(a)
				sign = math.Copysign(1, a)
			}
		}
		for r := range l {
			coef[r*k+c] = u.At(r, c) * s[c] * sign
		}
	}
	out := make([]float32, n*k)
	for i := range n {
		for c := range k {
			var acc float64
			for r := range l {
				acc += qt[r*n+i] * coef[r*k+c]
			}
			out[i*k+c] = float32(acc)
		}
	}
	return out, nil
}

// mulAB computes c (n×l) = a (n×d) · b (d×l) in row blocks.
func mulAB(a, b, c []float32, n, d, l, workers int) {
	parallelFor(workers, n, 256, func(_, lo, hi int) {
		kernels.Sgemm(false, false, hi-lo, l, d, 1, a[lo*d:], d, b, l, 0, c[lo*l:], l)
	})
}

// mulAtB returns aᵀ·b (l×d) for a (n×l) and b (n×d), summing fixed row chunks
// in order.
func mulAtB(a, b []float32, n, l, d, workers int) []float32 {
	chunk := (n + pcaChunks - 1) / pcaChunks
	parts := make([][]float32, pcaChunks)
	parallelFor(workers, pcaChunks, 1, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			r0, r1 := p*chunk, min((p+1)*chunk, n)
			parts[p] = make([]float32, l*d)
			if r1 > r0 {
				kernels.Sgemm(true, false, l, d, r1-r0, 1, a[r0*l:], l, b[r0*d:], d, 0, parts[p], d)
			}
		}
	})
	out := parts[0]
	for _, p := range parts[1:] {
		for i, v := range p {
			out[i] += v
		}
	}
	return out
}

// orthonormalRows applies modified Gram-Schmidt twice to the r rows (length
// c) of m; rows that lose all but 1e-10 of their norm to the earlier ones
// (numerically dependent) become zero.
func orthonormalRows(m []float64, r, c int) {
	for pass := 0; pass < 2; pass++ {
		for i := range r {
			ri := m[i*c : (i+1)*c]
			var nrm0 float64
			for _, v := range ri {
				nrm0 += v * v
			}
			for j := range i {
				rj := m[j*c : (j+1)*c]
				var dot float64
				for t, v := range rj {
					dot += v * ri[t]
				}
				for t, v := range rj {
					ri[t] -= dot * v
				}
			}
			var nrm float64
			for _, v := range ri {
				nrm += v * v
			}
			if nrm <= 1e-20*nrm0 || nrm == 0 {
				clear(ri)
				continue
			}
			nrm = math.Sqrt(nrm)
			for t := range ri {
				ri[t] /= nrm
			}
		}
	}
}

func transposeInto(dst []float64, src []float32, rows, cols int) {
	for i := range rows {
		for j := range cols {
			dst[j*rows+i] = float64(src[i*cols+j])
		}
	}
}

func transposeInto32(dst []float32, src []float64, rows, cols int) {
	for i := range rows {
		for j := range cols {
			dst[j*rows+i] = float32(src[i*cols+j])
		}
	}
}
