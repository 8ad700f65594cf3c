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

// Explain implements detector.Explainer. The score is the squared
// reconstruction error ‖r‖², r = x − x̂ = (I − P)(x − μ) with P the
// projection on the kept axes and μ the training mean; since I − P is a
// symmetric projection, ‖r‖² = (x − μ)ᵀ r = Σ_j (x_j − μ_j)·r_j, and feature
// j is given (x_j − μ_j)·r_j: how far it sits from the mean times the part
// of it the subspace cannot account for. This is both the integrated
// gradients attribution from μ (exact for a quadratic score) and its
// Shapley value with μ as the reference, so it decomposes the score
// exactly: Offset is 0 (μ scores 0) and Σ_j Values[i,j] is Score(x_i) up to
// rounding. A value can be negative (a feature that pulls the row back
// towards the subspace). Technique is "reconstruction"; background is not
// used. Measured on planted causes (oddity bench, explain-tabular), this
// finds an extreme feature far more often than the per-feature squared
// residual (x_j − x̂_j)², which spreads a single extreme value over every
// feature the kept axes tie it to.
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
			out[k] = float32((float64(v) - p.Mean[k%dim]) * (float64(v) - r[k]))
		}
	}
	return a, nil
}
