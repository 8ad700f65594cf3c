package copod

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ecod"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is the name COPOD is registered, saved and loaded under.
const Method = "copod"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"COPOD, copula-based outlier detection (Li, Zhao, Botta, Ionescu and Hu 2020)",
		DefaultOptions, nil, New))
}

// Detector is COPOD behind the shared detector interface: it learns each
// feature's empirical distribution (the margins of the empirical copula)
// from the training samples (unsupervised; labelled anomalies are
// ignored), flattened to rows, and scores a sample by the tail
// probabilities of its values.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int
	tails   *ecod.Tails
	neg     []bool
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: it sorts each feature's training
// values (the empirical CDFs) and records the sign of its skewness.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	t, err := ecod.FitTails(ctx, ts.X.X, ts.X.N, ts.X.Dim(), d.Options.workers())
	if err != nil {
		return fmt.Errorf("copod: %w", err)
	}
	d.set(slices.Clone(ts.X.Shape), t)
	return nil
}

func (d *Detector) set(shape []int, t *ecod.Tails) {
	d.shape, d.tails = shape, t
	d.neg = make([]bool, t.D())
	for j := range d.neg {
		d.neg[j] = t.LeftSkewed(j)
	}
}

// Score implements detector.Detector: each sample's outlier score, at
// least 0, higher = more anomalous.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.tails != nil, x, d.shape); err != nil {
		return nil, err
	}
	out := make([]float64, x.N)
	err := d.tails.Terms(ctx, x.X, x.N, func(lo, hi int, left, right []float64) {
		aggregate(d.Options.Aggregate, d.neg, hi-lo, left, right, out[lo:hi], nil)
	})
	if err != nil {
		return nil, err
	}
	for i, s := range out {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: copod: score %d is %v", detector.ErrInput, i, s)
		}
	}
	return out, nil
}

// aggregate turns one block's tail terms (m rows; left[j*m+r] =
// −log U_{j,r}, right[j*m+r] = −log V_{j,r} for feature j of row r) into
// scores. With AggregatePaper: p_l = Σ_j −log U, p_r = Σ_j −log V,
// p_s = Σ_j −log W (W = U for a feature skewed left, V otherwise), and
// the largest of the three. With AggregatePyOD: Σ_j max(−log W,
// (−log U − log V)/2). When attr is not nil it receives each row's
// per-feature terms of the sum that gives the score (attr[r*d+j]): with
// AggregatePaper the first of p_s, p_l and p_r that equals the maximum.
func aggregate(mode string, neg []bool, m int, left, right []float64, score []float64, attr []float32) {
	d := len(neg)
	if mode == AggregatePyOD {
		clear(score)
		for j := range d {
			l, r := left[j*m:(j+1)*m], right[j*m:(j+1)*m]
			a := r
			if neg[j] {
				a = l
			}
			for i := range m {
				v := max(a[i], (l[i]+r[i])/2)
				score[i] += v
				if attr != nil {
					attr[i*d+j] = float32(v)
				}
			}
		}
		return
	}
	pl, pr, ps := make([]float64, m), make([]float64, m), make([]float64, m)
	for j := range d {
		l, r := left[j*m:(j+1)*m], right[j*m:(j+1)*m]
		a := r
		if neg[j] {
			a = l
		}
		for i := range m {
			pl[i] += l[i]
			pr[i] += r[i]
			ps[i] += a[i]
		}
	}
	for i := range m {
		score[i] = max(ps[i], pl[i], pr[i])
	}
	if attr == nil {
		return
	}
	for i := range m {
		for j := range d {
			var v float64
			switch {
			case ps[i] == score[i]:
				v = right[j*m+i]
				if neg[j] {
					v = left[j*m+i]
				}
			case pl[i] == score[i]:
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
// the tensor "sorted" of shape [d, n] (ECOD's layout). The model is as
// large as the training data.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.tails == nil {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(config{d.Options, d.shape, d.tails.N()})
	if err != nil {
		return nil, err
	}
	s := tensor.FromData(d.tails.Sorted(), d.tails.D(), d.tails.N())
	s.Name = "sorted"
	return &detector.Payload{Config: cfg, Tensors: []*tensor.Tensor{s}}, nil
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones, and checks the stored
// state as ecod.UnmarshalTails does.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: copod configuration: %v", detector.ErrPayload, err)
	}
	c.Options.Workers = d.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	t, err := ecod.UnmarshalTails(p, c.Shape, c.N, c.Options.workers())
	if err != nil {
		return fmt.Errorf("copod: %w", err)
	}
	d.Options = c.Options
	d.set(c.Shape, t)
	return nil
}
