package deepcluster

import (
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/tensor"
)

// SoftAssign is the clustering layer of DEC/DCEC: the Student's t kernel
// between every embedding row z_i (n×d) and every centroid mu_j (k×d),
// normalised over the centroids,
//
//	q_ij = (1 + ||z_i - mu_j||²/alpha)^(-(alpha+1)/2) / Σ_j' (same for j').
//
// It is one fused operation recorded on tp: with s_ij = 1 + ||z_i - mu_j||²/alpha,
// G the gradient of the loss with respect to q and c_ij =
// -(alpha+1)/alpha · q_ij (G_ij - Σ_l G_il q_il) / s_ij, the gradients are
// dz_i = Σ_j c_ij (z_i - mu_j) and dmu_j = -Σ_i c_ij (z_i - mu_j).
// A nil tape computes q only. alpha must be positive.
func SoftAssign(tp *tensor.Tape, z, mu *tensor.Tensor, alpha float64) *tensor.Tensor {
	n, d := z.Shape[0], z.Shape[1]
	k := mu.Shape[0]
	if mu.Shape[1] != d {
		panic(fmt.Sprintf("deepcluster: SoftAssign: embedding %v and centroids %v disagree", z.Shape, mu.Shape))
	}
	q := tensor.New(n, k)
	s := make([]float64, n*k) // kept for the backward pass
	expo := -(alpha + 1) / 2
	for i := 0; i < n; i++ {
		zi := z.Data[i*d : (i+1)*d]
		var sum float64
		for j := 0; j < k; j++ {
			mj := mu.Data[j*d : (j+1)*d]
			var d2 float64
			for t, v := range zi {
				e := float64(v) - float64(mj[t])
				d2 += e * e
			}
			sv := 1 + d2/alpha
			s[i*k+j] = sv
			u := math.Pow(sv, expo)
			if alpha == 1 {
				u = 1 / sv
			}
			s[i*k+j] = sv
			q.Data[i*k+j] = float32(u)
			sum += u
		}
		for j := 0; j < k; j++ {
			q.Data[i*k+j] = float32(float64(q.Data[i*k+j]) / sum)
		}
	}
	if !tp.Recording() {
		return q
	}
	return tp.Record(q, func() {
		g := q.Grad()
		var gz, gmu []float32
		if z.RequiresGrad() {
			gz = z.Grad()
		}
		if mu.RequiresGrad() {
			gmu = mu.Grad()
		}
		c := make([]float64, k)
		for i := 0; i < n; i++ {
			var dot float64
			for j := 0; j < k; j++ {
				dot += float64(g[i*k+j]) * float64(q.Data[i*k+j])
			}
			for j := 0; j < k; j++ {
				c[j] = -(alpha + 1) / alpha * float64(q.Data[i*k+j]) * (float64(g[i*k+j]) - dot) / s[i*k+j]
			}
			for j := 0; j < k; j++ {
				for t := 0; t < d; t++ {
					e := c[j] * (float64(z.Data[i*d+t]) - float64(mu.Data[j*d+t]))
					if gz != nil {
						gz[i*d+t] += float32(e)
					}
					if gmu != nil {
						gmu[j*d+t] -= float32(e)
					}
				}
			}
		}
	}, z, mu)
}

// TargetDistribution returns DEC's auxiliary target for soft assignments q
// (n×k, row-major): p_ij = (q_ij²/f_j) / Σ_j' (q_ij'²/f_j') with cluster
// frequencies f_j = Σ_i q_ij. It sharpens confident assignments and
// down-weights large clusters. Computed in float64, returned as float32.
func TargetDistribution(q []float32, n, k int) []float32 {
	f := make([]float64, k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			f[j] += float64(q[i*k+j])
		}
	}
	p := make([]float32, n*k)
	w := make([]float64, k)
	for i := 0; i < n; i++ {
		var sum float64
		for j := 0; j < k; j++ {
			v := float64(q[i*k+j])
			w[j] = 0
			if f[j] > 0 {
				w[j] = v * v / f[j]
			}
			sum += w[j]
		}
		for j := 0; j < k; j++ {
			if sum > 0 {
				p[i*k+j] = float32(w[j] / sum)
			} else {
				p[i*k+j] = 1 / float32(k)
			}
		}
	}
	return p
}

// argmaxRows returns the index of the largest entry of every row of the n×k
// matrix m (the first on ties).
func argmaxRows(m []float32, n, k int) []int {
	out := make([]int, n)
	for i := range out {
		best := 0
		for j := 1; j < k; j++ {
			if m[i*k+j] > m[i*k+best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}
