package pca

import (
	"context"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// explainRows bounds the rows reconstructed at once by Explain, and so its
// memory beyond the result (float64 codes and reconstructions).
const explainRows = 4096

// Explain implements detector.Explainer: each feature's share of the
// reconstruction error, the squared residual (x_j − x̂_j)² of the sample
// and its reconstruction x̂ from the kept axes. The score is the sum of
// these over the features, so the attributions decompose it exactly:
// Offset is 0 and Σ_j Values[i,j] is Score(x_i) up to float32 rounding of
// each term. All are at least 0; Technique is "reconstruction". background
// is not used. A feature the principal subspace cannot account for (off
// the correlations of the training data) carries a large residual; the
// residual of a broken correlation spreads over the features that take
// part in it, in proportion to how the subspace ties them.
func (d *Detector) Explain(ctx context.Context, x, background *data.Dataset) (*detector.Attributions, error) {
	if err := detector.CheckScore(ctx, d.pca != nil, x, d.shape); err != nil {
		return nil, err
	}
	p, dim := d.pca, x.Dim()
	a := &detector.Attributions{N: x.N, D: dim, Values: make([]float32, x.N*dim), Offset: make([]float64, x.N), Technique: "reconstruction"}
	for lo := 0; lo < x.N; lo += explainRows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+explainRows, x.N)
		rows := x.X[lo*dim : hi*dim]
		z, err := p.Transform(rows, hi-lo)
		if err != nil {
			return nil, fmt.Errorf("pca explain: %w", err)
		}
		r, err := p.InverseTransform(z, hi-lo)
		if err != nil {
			return nil, fmt.Errorf("pca explain: %w", err)
		}
		out := a.Values[lo*dim : hi*dim]
		for k, v := range rows {
			t := float64(v) - r[k]
			out[k] = float32(t * t)
		}
	}
	return a, nil
}
