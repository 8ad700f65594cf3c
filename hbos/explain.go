package hbos

import (
	"context"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

var _ detector.Explainer = (*Detector)(nil)

// Explain implements detector.Explainer exactly: HBOS's score is a sum of
// per-feature terms, so Values[i*D+j] is feature j's term
// −log2(density_j(x_ij) + alpha) and Offset is 0; each row adds up to the
// score (to float32 rounding of the terms). A term is negative where the
// value lies in a bin denser than 1 − alpha: such a feature pulls the
// score towards normal. background is not used. Safe for concurrent use.
func (d *Detector) Explain(ctx context.Context, x, background *data.Dataset) (*detector.Attributions, error) {
	if err := detector.CheckScore(ctx, d.h != nil, x, d.shape); err != nil {
		return nil, err
	}
	a := &detector.Attributions{N: x.N, D: d.h.d, Values: make([]float32, x.N*d.h.d), Offset: make([]float64, x.N), Technique: "exact"}
	if _, err := d.h.Score(ctx, x.X, x.N, d.Options.workers(), a.Values); err != nil {
		return nil, err
	}
	return a, nil
}
