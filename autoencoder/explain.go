package autoencoder

import (
	"context"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// Explain implements detector.Explainer: each feature's share of the
// reconstruction error, (x_j − x̂_j)²/d for a sample of d values and its
// reconstruction x̂. The score is the mean of the squared residuals, so
// these decompose it exactly: Offset is 0 and Σ_j Values[i,j] is
// Score(x_i) up to float32 rounding of each term. All are at least 0;
// Technique is "reconstruction". background is not used. It costs one
// forward pass, as Score does. A feature the network cannot rebuild from
// the others (its value off the relations it learnt) carries a large
// residual; since every output depends on every input, a broken relation
// can raise the residuals of the features it ties as well.
func (d *Detector) Explain(ctx context.Context, x, background *data.Dataset) (*detector.Attributions, error) {
	if d.net == nil {
		return nil, detector.ErrNotFitted
	}
	var a *detector.Attributions
	err := d.forward(ctx, x, d.net, func(lo int, in, rec *tensor.Tensor) {
		if a == nil {
			a = &detector.Attributions{N: x.N, D: d.dim, Values: make([]float32, x.N*d.dim), Offset: make([]float64, x.N), Technique: "reconstruction"}
		}
		out := a.Values[lo*d.dim : lo*d.dim+len(in.Data)]
		inv := 1 / float64(d.dim)
		for k, v := range in.Data {
			e := float64(rec.Data[k] - v)
			out[k] = float32(e * e * inv)
		}
	})
	if err != nil {
		return nil, err
	}
	if a == nil {
		a = &detector.Attributions{D: d.dim, Values: []float32{}, Offset: []float64{}, Technique: "reconstruction"}
	}
	return a, nil
}
