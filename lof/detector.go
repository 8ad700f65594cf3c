package lof

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/neighbors"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is the name LOF is registered, saved and loaded under.
const Method = "lof"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"Local Outlier Factor, novelty scoring as scikit-learn's (Breunig et al. 2000)",
		DefaultOptions, nil, New))
}

// lrdEps is what scikit-learn adds to the mean reachability distance
// before inverting it, so that a row with more than k duplicates (mean 0)
// gets a large finite density, 1e10, rather than a division by zero.
const lrdEps = 1e-10

// scoreChunk is how many rows Score searches at a time (see package knn).
const scoreChunk = 8192

// Detector is LOF behind the shared detector interface. It keeps its
// training rows (unsupervised; labelled anomalies are ignored), flattened,
// with each row's k-distance and local reachability density.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int     // training sample shape
	x       []float32 // training rows, n×d (a copy)
	n, d    int
	index   *neighbors.Index
	kdist   []float64 // each training row's distance to its k-th nearest other row
	lrd     []float64 // each training row's local reachability density
	train   []float64 // training rows' LOF, each left out of its own neighbours
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector, as scikit-learn's
// LocalOutlierFactor.fit: it finds each training row's k nearest other
// rows, then each row's k-distance, its local reachability density and
// its own LOF (TrainScores). It stops with ctx's error between the
// search's blocks.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	n, dim, k := ts.X.N, ts.X.Dim(), d.Options.K
	if k >= n {
		return fmt.Errorf("%w: lof: k = %d neighbours need more training rows than k, got n = %d (each training row's neighbourhood is k other rows, so k must be at most n − 1)",
			detector.ErrInput, k, n)
	}
	x := append([]float32(nil), ts.X.X...)
	ix, err := neighbors.New(x, n, dim, neighbors.Algorithm(d.Options.Algorithm), d.Options.Workers)
	if err != nil {
		return fmt.Errorf("lof: %w", err)
	}
	res, err := ix.SearchTraining(ctx, k)
	if err != nil {
		return err
	}
	kdist := make([]float64, n)
	for j := range kdist {
		kdist[j] = res.Dist[j*k+k-1]
	}
	lrd := make([]float64, n)
	for j := range lrd {
		lrd[j] = density(res.Dist[j*k:(j+1)*k], res.Index[j*k:(j+1)*k], kdist)
	}
	train := make([]float64, n)
	for j := range train {
		train[j] = factor(lrd[j], res.Index[j*k:(j+1)*k], lrd)
	}
	d.shape, d.x, d.n, d.d = append([]int(nil), ts.X.Shape...), x, n, dim
	d.index, d.kdist, d.lrd, d.train = ix, kdist, lrd, train
	return nil
}

// density is the local reachability density of a point whose k nearest
// training rows are idx at distances dist: the inverse of the mean
// reachability distance max(dist_r, k-distance(idx_r)), plus lrdEps, as
// scikit-learn's _local_reachability_density.
func density(dist []float64, idx []int32, kdist []float64) float64 {
	var s float64
	for r, dr := range dist {
		s += max(dr, kdist[idx[r]])
	}
	return 1 / (s/float64(len(dist)) + lrdEps)
}

// factor is the local outlier factor of a point of density lrdP whose
// neighbours are idx: the mean of lrd(o)/lrdP over them.
func factor(lrdP float64, idx []int32, lrd []float64) float64 {
	var s float64
	for _, o := range idx {
		s += lrd[o] / lrdP
	}
	return s / float64(len(idx))
}

// Score implements detector.Detector: the local outlier factor of each
// sample as a new point, the negation of scikit-learn's
// LocalOutlierFactor(novelty=True).score_samples (about 1 for inliers,
// larger for outliers). The sample's k nearest training rows give its
// reachability distances and density; the training rows keep theirs. A
// sample equal to a training row counts that row among its neighbours at
// distance 0, exactly as score_samples does on training data; TrainScores
// gives the training rows' own LOF (scikit-learn's
// −negative_outlier_factor_).
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.index != nil, x, d.shape); err != nil {
		return nil, err
	}
	k := d.Options.K
	out := make([]float64, x.N)
	for i0 := 0; i0 < x.N; i0 += scoreChunk {
		m := min(scoreChunk, x.N-i0)
		res, err := d.index.Search(ctx, x.X[i0*d.d:(i0+m)*d.d], m, k)
		if err != nil {
			return nil, err
		}
		for i := range m {
			idx := res.Index[i*k : (i+1)*k]
			s := factor(density(res.Dist[i*k:(i+1)*k], idx, d.kdist), idx, d.lrd)
			if math.IsInf(s, 0) || math.IsNaN(s) {
				return nil, fmt.Errorf("%w: lof: sample %d scores %v (its distances overflow float64)", detector.ErrInput, i0+i, s)
			}
			out[i0+i] = s
		}
	}
	return out, nil
}

// Algorithm returns the neighbour search the index uses, Options.Algorithm
// with "auto" resolved ("" before Fit).
func (d *Detector) Algorithm() neighbors.Algorithm {
	if d.index == nil {
		return ""
	}
	return d.index.Algorithm()
}

// TrainScores returns the training rows' LOF (nil before Fit), each row
// left out of its own neighbourhood: scikit-learn's
// −negative_outlier_factor_, what a threshold chosen on the training data
// should be read from.
func (d *Detector) TrainScores() []float64 { return append([]float64(nil), d.train...) }

// config is the stored configuration: the options and the sample shape.
type config struct {
	Options Options `json:"options"`
	Shape   []int   `json:"shape"`
}

// Marshal implements detector.Detector: the options and shape as JSON, the
// training rows as the tensor "train" (n×d float32: the model is as large
// as its training data, 4·n·d bytes, plus 24·n), and the k-distances,
// densities and training scores as the blobs "kdist", "lrd" and
// "train_scores" (float64, little-endian). The index is rebuilt on
// loading, deterministically.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.index == nil {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(config{d.Options, d.shape})
	if err != nil {
		return nil, err
	}
	t := tensor.FromData(d.x, d.n, d.d)
	t.Name = "train"
	p := &detector.Payload{Config: cfg, Tensors: []*tensor.Tensor{t}}
	p.SetFloat64s("kdist", d.kdist)
	p.SetFloat64s("lrd", d.lrd)
	p.SetFloat64s("train_scores", d.train)
	return p, nil
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones and rebuilds the index.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: lof configuration: %v", detector.ErrPayload, err)
	}
	c.Options.Workers = d.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	t, err := p.Tensor("train")
	if err != nil {
		return err
	}
	size := 1
	for _, s := range c.Shape {
		size *= max(s, 0)
	}
	if len(t.Shape) != 2 || len(c.Shape) == 0 || t.Shape[1] != size || t.Shape[0] <= c.Options.K {
		return fmt.Errorf("%w: lof: training tensor %v for samples of shape %v and k = %d", detector.ErrPayload, t.Shape, c.Shape, c.Options.K)
	}
	n, dim := t.Shape[0], t.Shape[1]
	var v [3][]float64
	for i, name := range []string{"kdist", "lrd", "train_scores"} {
		if v[i], err = p.Float64s(name, n); err != nil {
			return err
		}
	}
	ix, err := neighbors.New(t.Data, n, dim, neighbors.Algorithm(c.Options.Algorithm), c.Options.Workers)
	if err != nil {
		return fmt.Errorf("%w: lof: %v", detector.ErrPayload, err)
	}
	d.Options, d.shape, d.x, d.n, d.d = c.Options, c.Shape, t.Data, n, dim
	d.index, d.kdist, d.lrd, d.train = ix, v[0], v[1], v[2]
	return nil
}
