package knn

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

// Method is the name kNN is registered, saved and loaded under.
const Method = "knn"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"k-nearest-neighbour distance (Ramaswamy, Rastogi and Shim 2000; PyOD's KNN)",
		DefaultOptions, nil, New))
}

// scoreChunk is how many rows Score searches at a time: the neighbour
// lists of a chunk (scoreChunk·k distances and indices) are all the memory
// scoring holds beyond the search's own blocks, whatever the number of
// rows scored.
const scoreChunk = 8192

// Detector is kNN behind the shared detector interface. It keeps its
// training rows (unsupervised; labelled anomalies are ignored), flattened,
// and scores a sample by its distances to the k nearest of them.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int     // training sample shape
	x       []float32 // training rows, n×d (a copy)
	n, d    int
	index   *neighbors.Index
	train   []float64 // leave-one-out training scores
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: it copies and indexes the training
// rows and, as PyOD's KNN.fit does for decision_scores_, scores each of
// them by its k nearest other rows (TrainScores). That leave-one-out
// search costs as much as scoring n new rows; Fit stops with ctx's error
// between its blocks.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	n, dim, k := ts.X.N, ts.X.Dim(), d.Options.K
	if k >= n {
		return fmt.Errorf("%w: knn: k = %d neighbours need more training rows than k, got n = %d (a training row's own score leaves it out, so k must be at most n − 1)",
			detector.ErrInput, k, n)
	}
	x := append([]float32(nil), ts.X.X...)
	ix, err := neighbors.New(x, n, dim, neighbors.Algorithm(d.Options.Algorithm), d.Options.Workers)
	if err != nil {
		return fmt.Errorf("knn: %w", err)
	}
	res, err := ix.DistancesTraining(ctx, k)
	if err != nil {
		return err
	}
	train := make([]float64, n)
	if err := d.reduce(res, train); err != nil {
		return err
	}
	d.shape, d.x, d.n, d.d, d.index, d.train = append([]int(nil), ts.X.Shape...), x, n, dim, ix, train
	return nil
}

// Score implements detector.Detector: each sample's distance to its k-th
// nearest training row (or the mean or median of the k distances). A
// sample equal to a training row counts that row among its neighbours at
// distance 0, as scikit-learn's kneighbors(X) and PyOD's
// decision_function(X) do; TrainScores gives the training rows' scores
// with each row left out of its own neighbours.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.index != nil, x, d.shape); err != nil {
		return nil, err
	}
	out := make([]float64, x.N)
	for i0 := 0; i0 < x.N; i0 += scoreChunk {
		m := min(scoreChunk, x.N-i0)
		res, err := d.index.Distances(ctx, x.X[i0*d.d:(i0+m)*d.d], m, d.Options.K)
		if err != nil {
			return nil, err
		}
		if err := d.reduce(res, out[i0:i0+m]); err != nil {
			return nil, err
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

// TrainScores returns the training rows' leave-one-out scores (nil before
// Fit): each row scored by its k nearest other rows, PyOD's
// decision_scores_. They are what a threshold chosen on the training data
// should be read from: Score on a training row counts the row itself, so
// its score is lower than the same row's would be as new data.
func (d *Detector) TrainScores() []float64 { return append([]float64(nil), d.train...) }

// reduce writes each query's score from its k distances.
func (d *Detector) reduce(res *neighbors.Result, out []float64) error {
	k := res.K
	for i := range out {
		dist := res.Dist[i*k : (i+1)*k]
		var s float64
		switch d.Options.Method {
		case Largest:
			s = dist[k-1]
		case Mean:
			for _, v := range dist {
				s += v
			}
			s /= float64(k)
		case Median:
			s = dist[k/2]
			if k%2 == 0 {
				s = (dist[k/2-1] + s) / 2
			}
		}
		if math.IsInf(s, 0) || math.IsNaN(s) {
			return fmt.Errorf("%w: knn: sample %d scores %v (its distances overflow float64)", detector.ErrInput, i, s)
		}
		out[i] = s
	}
	return nil
}

// config is the stored configuration: the options and the sample shape.
type config struct {
	Options Options `json:"options"`
	Shape   []int   `json:"shape"`
}

// Marshal implements detector.Detector: the options and shape as JSON, the
// training rows as the tensor "train" (n×d float32, 4·n·d bytes: the model
// is as large as its training data) and the leave-one-out training scores
// as the blob "train_scores" (float64, little-endian). The index is not
// stored: Unmarshal rebuilds it, deterministically.
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
	p.SetFloat64s("train_scores", d.train)
	return p, nil
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones and rebuilds the index.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: knn configuration: %v", detector.ErrPayload, err)
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
		return fmt.Errorf("%w: knn: training tensor %v for samples of shape %v and k = %d", detector.ErrPayload, t.Shape, c.Shape, c.Options.K)
	}
	n, dim := t.Shape[0], t.Shape[1]
	train, err := p.Float64s("train_scores", n)
	if err != nil {
		return err
	}
	ix, err := neighbors.New(t.Data, n, dim, neighbors.Algorithm(c.Options.Algorithm), c.Options.Workers)
	if err != nil {
		return fmt.Errorf("%w: knn: %v", detector.ErrPayload, err)
	}
	d.Options, d.shape, d.x, d.n, d.d, d.index, d.train = c.Options, c.Shape, t.Data, n, dim, ix, train
	return nil
}
