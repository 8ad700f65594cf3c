package deepcluster

import (
	"context"
	"fmt"

	"github.com/oddity-ml/oddity/kmeans"
	"github.com/oddity-ml/oddity/tensor"
)

// Network is the representation part of Aljalbout et al.'s taxonomy: an
// encoder to the embedding z and a decoder back to the input. *Autoencoder
// is the DCEC one; any other network with these methods can replace it.
type Network interface {
	// Encode maps a batch x (N×C×H×W) to its embedding (N×Embedding).
	Encode(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor
	// Decode maps an embedding back to the input space.
	Decode(tp *tensor.Tape, z *tensor.Tensor) *tensor.Tensor
	// Parameters lists every trainable tensor, each with a unique name.
	Parameters() []*tensor.Tensor
}

// ClusterLoss is the clustering-loss part of the taxonomy.
type ClusterLoss interface {
	// Name identifies the loss in configurations and reports.
	Name() string
	// TrainsCentroids reports whether the centroids are optimised by
	// gradient descent with the network (true) or updated by AfterStep.
	TrainsCentroids() bool
	// Refresh is called before the first fine-tuning step and then every
	// update interval with the soft assignments q (n×k, row-major) of all n
	// training rows; the KL loss recomputes its target distribution here.
	Refresh(q []float32, n, k int)
	// Batch returns the clustering loss of the batch rows idx, whose
	// embedding z is recorded on tp, given the centroids mu (k×d).
	Batch(tp *tensor.Tape, z, mu *tensor.Tensor, idx []int, alpha float64) *tensor.Tensor
	// AfterStep runs after each optimiser step with the batch's embedding
	// values (the DCN centroid update); most losses do nothing.
	AfterStep(z, mu *tensor.Tensor)
}

// KLHardening is DEC's cluster-assignment hardening loss KL(P‖Q), with the
// target P recomputed from Q at every Refresh. It is the default.
type KLHardening struct {
	p []float32
	k int
}

// Name implements ClusterLoss.
func (*KLHardening) Name() string { return "kl" }

// TrainsCentroids implements ClusterLoss: the centroids are trainable.
func (*KLHardening) TrainsCentroids() bool { return true }

// Refresh implements ClusterLoss: P = TargetDistribution(Q).
func (l *KLHardening) Refresh(q []float32, n, k int) { l.p, l.k = TargetDistribution(q, n, k), k }

// Batch implements ClusterLoss: KL(P_batch ‖ Q_batch), averaged over the batch.
func (l *KLHardening) Batch(tp *tensor.Tape, z, mu *tensor.Tensor, idx []int, alpha float64) *tensor.Tensor {
	q := SoftAssign(tp, z, mu, alpha)
	p := tensor.New(len(idx), l.k)
	for r, i := range idx {
		copy(p.Data[r*l.k:(r+1)*l.k], l.p[i*l.k:(i+1)*l.k])
	}
	return tp.KLDiv(p, q)
}

// AfterStep implements ClusterLoss (nothing to do).
func (*KLHardening) AfterStep(_, _ *tensor.Tensor) {}

// KMeansLoss is DCN's k-means loss: the mean over the batch of
// ||z_i - mu_r(i)||² with hard assignments r(i) to the nearest centroid.
// Centroids are not trained by gradient: after each step every batch row
// moves its centroid towards itself by 1/count, count starting at
// InitialCount (DCN's online update; 100 in the DCN code).
type KMeansLoss struct {
	// InitialCount is each centroid's starting count (0 means 100).
	InitialCount float64
	counts       []float64
	assign       []int
}

// Name implements ClusterLoss.
func (*KMeansLoss) Name() string { return "kmeans" }

// TrainsCentroids implements ClusterLoss: the centroids move by AfterStep.
func (*KMeansLoss) TrainsCentroids() bool { return false }

// Refresh implements ClusterLoss; it starts the counts on the first call.
func (l *KMeansLoss) Refresh(_ []float32, _, k int) {
	if l.counts == nil {
		c := l.InitialCount
		if c <= 0 {
			c = 100
		}
		l.counts = make([]float64, k)
		for j := range l.counts {
			l.counts[j] = c
		}
	}
}

// Batch implements ClusterLoss.
func (l *KMeansLoss) Batch(tp *tensor.Tape, z, mu *tensor.Tensor, _ []int, _ float64) *tensor.Tensor {
	n, d, k := z.Shape[0], z.Shape[1], mu.Shape[0]
	l.assign = nearest(z.Data, mu.Data, n, d, k, nil)
	diff := tp.Sub(z, tp.Rows(mu.Detach(), l.assign))
	return tp.MulScalar(tp.Sum(tp.Square(diff)), 1/float32(n))
}

// AfterStep implements ClusterLoss: the online centroid update.
func (l *KMeansLoss) AfterStep(z, mu *tensor.Tensor) {
	d := z.Shape[1]
	for i, j := range l.assign {
		l.counts[j]++
		eta := 1 / l.counts[j]
		for t := 0; t < d; t++ {
			mu.Data[j*d+t] -= float32(eta * float64(mu.Data[j*d+t]-z.Data[i*d+t]))
		}
	}
}

// Combination is the schedule part of the taxonomy: the weights of the
// clustering and reconstruction losses at fine-tuning step `step`.
type Combination interface {
	Weights(step int) (cluster, recon float64)
}

// Gamma is DCEC's fixed combination L = gamma·L_cluster + L_AE (gamma 0.1).
type Gamma float64

// Weights implements Combination.
func (g Gamma) Weights(int) (float64, float64) { return float64(g), 1 }

// AlphaRamp is the seed document's form L = a·L_cluster + (1-a)·L_AE with a
// rising linearly from From to To over Steps fine-tuning steps, then held.
type AlphaRamp struct {
	From, To float64
	Steps    int
}

// Weights implements Combination.
func (a AlphaRamp) Weights(step int) (float64, float64) {
	w := a.To
	if a.Steps > 0 && step < a.Steps {
		w = a.From + (a.To-a.From)*float64(step)/float64(a.Steps)
	}
	return w, 1 - w
}

// FinalClustering is the last part of the taxonomy: turning the trained
// embedding into hard assignments.
type FinalClustering interface {
	// Assign returns one cluster per row of the n×d embedding z, given the
	// soft assignments q (n×k) and the centroids mu (k×d).
	Assign(ctx context.Context, z, q, mu []float32, n, d, k int, seed uint64) ([]int, error)
}

// ArgmaxQ assigns every row to its most probable cluster (DEC/DCEC).
type ArgmaxQ struct{}

// Assign implements FinalClustering.
func (ArgmaxQ) Assign(_ context.Context, _, q, _ []float32, n, _, k int, _ uint64) ([]int, error) {
	return argmaxRows(q, n, k), nil
}

// KMeansRerun re-runs k-means (k-means++, NInit restarts) on the final
// embedding, as the seed document does.
type KMeansRerun struct {
	// NInit is the number of k-means++ restarts (0 means 20).
	NInit int
}

// Assign implements FinalClustering.
func (r KMeansRerun) Assign(ctx context.Context, z, _, _ []float32, n, d, k int, seed uint64) ([]int, error) {
	ni := r.NInit
	if ni <= 0 {
		ni = 20
	}
	res, err := kmeans.Fit(ctx, z, n, d, kmeans.Options{K: k, NInit: ni, Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("deepcluster: final k-means: %w", err)
	}
	return res.Labels, nil
}

// nearest returns the nearest centroid of every row of the n×d matrix z
// among the k×d centroids mu, and fills dist (if not nil, length n) with
// the Euclidean distance to it.
func nearest(z, mu []float32, n, d, k int, dist []float64) []int {
	out := make([]int, n)
	for i := 0; i < n; i++ {
		best, bd := 0, -1.0
		for j := 0; j < k; j++ {
			var s float64
			for t := 0; t < d; t++ {
				e := float64(z[i*d+t]) - float64(mu[j*d+t])
				s += e * e
			}
			if bd < 0 || s < bd {
				best, bd = j, s
			}
		}
		out[i] = best
		if dist != nil {
			dist[i] = sqrt(bd)
		}
	}
	return out
}
