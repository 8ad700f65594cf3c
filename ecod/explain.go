package ecod

import (
	"context"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

var _ detector.Explainer = (*Detector)(nil)

// Explain implements detector.Explainer exactly: ECOD's score is a sum of
// per-feature tail terms, so Values[i*D+j] is feature j's term
// −log F̂(x_ij) in the sum that gives sample i's score and Offset is 0;
// each row adds up to the score (to float32 rounding of the terms).
// With the paper's aggregation the score is the largest of three sums,
// and the terms are those of the sum that wins for that sample: the
// skewness-corrected one when it attains the maximum, else the left-tail
// one, else the right-tail one. With PyOD's, each feature's larger tail
// term. background is not used. Safe for concurrent use.
func (d *Detector) Explain(ctx context.Context, x, background *data.Dataset) (*detector.Attributions, error) {
	if err := detector.CheckScore(ctx, d.tails != nil, x, d.shape); err != nil {
		return nil, err
	}
	dim := d.tails.d
	a := &detector.Attributions{N: x.N, D: dim, Values: make([]float32, x.N*dim), Offset: make([]float64, x.N), Technique: "exact"}
	scores := make([]float64, x.N)
	err := d.tails.Terms(ctx, x.X, x.N, func(lo, hi int, left, right []float64) {
		aggregate(d.Options.Aggregate, d.tails.neg, hi-lo, left, right, scores[lo:hi], a.Values[lo*dim:hi*dim])
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}
