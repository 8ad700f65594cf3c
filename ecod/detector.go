package ecod

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is the name ECOD is registered, saved and loaded under.
const Method = "ecod"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"ECOD, empirical-CDF outlier detection (Li, Zhao, Hu, Botta, Ionescu and Chen 2022)",
		DefaultOptions, nil, New))
}

// Detector is ECOD behind the shared detector interface: it learns each
// feature's empirical distribution from the training samples
// (unsupervised; labelled anomalies are ignored), flattened to rows, and
// scores a sample by how far into the tails of those distributions its
// values lie.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int
	tails   *Tails
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: it sorts each feature's training
// values and records the sign of its skewness.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	t, err := FitTails(ctx, ts.X.X, ts.X.N, ts.X.Dim(), d.Options.workers())
	if err != nil {
		return err
	}
	d.shape, d.tails = slices.Clone(ts.X.Shape), t
	return nil
}

// Tails returns the fitted tails (nil before Fit).
func (d *Detector) Tails() *Tails { return d.tails }

// Score implements detector.Detector: each sample's outlier score, at
// least 0, higher = more anomalous (see Scores for the formula).
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.tails != nil, x, d.shape); err != nil {
		return nil, err
	}
	out := make([]float64, x.N)
	err := d.tails.Terms(ctx, x.X, x.N, func(lo, hi int, left, right []float64) {
		aggregate(d.Options.Aggregate, d.tails.neg, hi-lo, left, right, out[lo:hi], nil)
	})
	if err != nil {
		return nil, err
	}
	for i, s := range out {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: score %d is %v", ErrInput, i, s)
		}
	}
	return out, nil
}

// aggregate turns one block's tail terms (m rows; left[j*m+r], right[j*m+r]
// for feature j of row r) into scores. With AggregatePaper, three sums
// over the features (all left terms, all right terms, and for each
// feature the term of the tail its skewness picks: left when it is skewed
// left, right otherwise), and the largest of them; with AggregatePyOD,
// the sum over features of the larger of the two terms. When attr is not
// nil it receives each row's per-feature terms of the sum that gives the
// score (attr[r*d+j]): with AggregatePaper the first of the
// skewness-corrected, left and right sums that equals the maximum.
func aggregate(mode string, neg []bool, m int, left, right []float64, score []float64, attr []float32) {
	d := len(neg)
	if mode == AggregatePyOD {
		clear(score)
		for j := range d {
			l, r := left[j*m:(j+1)*m], right[j*m:(j+1)*m]
			for i := range m {
				v := max(l[i], r[i])
				score[i] += v
				if attr != nil {
					attr[i*d+j] = float32(v)
				}
			}
		}
		return
	}
	sl, sr, sa := make([]float64, m), make([]float64, m), make([]float64, m)
	for j := range d {
		l, r := left[j*m:(j+1)*m], right[j*m:(j+1)*m]
		a := r
		if neg[j] {
			a = l
		}
		for i := range m {
			sl[i] += l[i]
			sr[i] += r[i]
			sa[i] += a[i]
		}
	}
	for i := range m {
		score[i] = max(sa[i], sl[i], sr[i])
	}
	if attr == nil {
		return
	}
	for i := range m {
		for j := range d {
			var v float64
			switch {
			case sa[i] == score[i]:
				v = right[j*m+i]
				if neg[j] {
					v = left[j*m+i]
				}
			case sl[i] == score[i]:
				v = left[j*m+i]
			default:
				v = right[j*m+i]
			}
			attr[i*d+j] = float32(v)
		}
	}
}

// config is the stored configuration: the options, the sample shape and
// the number of training rows.
type config struct {
	Options Options `json:"options"`
	Shape   []int   `json:"shape"`
	N       int     `json:"n"`
}

// Marshal implements detector.Detector: the options, shape and number of
// training rows as JSON, and each feature's training values, sorted, as
// the tensor "sorted" of shape [d, n]. The model is as large as the
// training data.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.tails == nil {
		return nil, detector.ErrNotFitted
	}
	return marshalTails(config{d.Options, d.shape, d.tails.n}, d.tails)
}

func marshalTails(c any, t *Tails) (*detector.Payload, error) {
	cfg, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	s := tensor.FromData(t.Sorted(), t.d, t.n)
	s.Name = "sorted"
	return &detector.Payload{Config: cfg, Tensors: []*tensor.Tensor{s}}, nil
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones, and checks the stored
// state: the shape, the row count and the tensor agree, and every
// feature's values are finite and ascending.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: ecod configuration: %v", detector.ErrPayload, err)
	}
	c.Options.Workers = d.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	t, err := UnmarshalTails(p, c.Shape, c.N, c.Options.workers())
	if err != nil {
		return err
	}
	d.Options, d.shape, d.tails = c.Options, c.Shape, t
	return nil
}

// UnmarshalTails restores the Tails a payload's tensor "sorted" holds, for
// samples of the given shape fitted on n rows, checking every size
// before it allocates. Errors wrap detector.ErrPayload.
func UnmarshalTails(p *detector.Payload, shape []int, n, workers int) (*Tails, error) {
	dim, err := sampleSize(shape)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > MaxRows {
		return nil, fmt.Errorf("%w: %d training rows (1 to %d)", detector.ErrPayload, n, MaxRows)
	}
	s, err := p.Tensor("sorted")
	if err != nil {
		return nil, err
	}
	if len(s.Shape) != 2 || s.Shape[0] != dim || s.Shape[1] != n || len(s.Data) != dim*n {
		return nil, fmt.Errorf("%w: tensor sorted of shape %v and %d values for %d features of %d rows", detector.ErrPayload, s.Shape, len(s.Data), dim, n)
	}
	t, err := NewTails(s.Data, n, dim, workers)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	return t, nil
}

// maxFeatures bounds the features of a stored model's sample shape.
const maxFeatures = 1 << 28

// sampleSize returns the number of features of a stored sample shape,
// refusing an empty shape, a non-positive dimension, or more than
// maxFeatures features.
func sampleSize(shape []int) (int, error) {
	if len(shape) == 0 || len(shape) > 8 {
		return 0, fmt.Errorf("%w: sample shape %v", detector.ErrPayload, shape)
	}
	size := 1
	for _, s := range shape {
		if s < 1 || s > maxFeatures || size*s > maxFeatures {
			return 0, fmt.Errorf("%w: sample shape %v (at most %d features)", detector.ErrPayload, shape, maxFeatures)
		}
		size *= s
	}
	return size, nil
}
