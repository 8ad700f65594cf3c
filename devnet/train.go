package devnet

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/optim"
)

// Fit implements detector.Detector: ts.X is the unlabelled data and
// ts.Anomalies the labelled anomalies, of the same sample shape; DevNet
// needs at least one of each. It reports one Progress per epoch (phase
// "epoch", with the epoch's mean loss).
func (m *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	o := m.Options
	if err := detector.CheckFit(ctx, o, ts); err != nil {
		return err
	}
	if ts.Anomalies == nil || ts.Anomalies.N == 0 {
		return fmt.Errorf("%w: DevNet needs at least one labelled anomaly", detector.ErrInput)
	}
	d, h, b := ts.X.Dim(), o.Hidden, o.BatchSize
	r := rand.New(rand.NewPCG(o.Seed, 0x4445_564e))
	if err := m.initParams(d, r); err != nil {
		return err
	}
	m.shape = slices.Clone(ts.X.Shape)
	mu, sigma := referenceScores(r, o.RefSize)
	opt, err := optim.NewRMSprop(m.params(), optim.RMSpropConfig{LR: o.LR, Alpha: o.Rho, Eps: o.Eps})
	if err != nil {
		return err
	}
	bb := newBuffers(b, d, h)
	m.Losses = m.Losses[:0]
	for ep := 0; ep < o.Epochs; ep++ {
		var epLoss float64
		for it := 0; it < o.BatchesPerEpoch; it++ {
			if err := ctx.Err(); err != nil {
				m.w1 = nil // not fitted
				return err
			}
			fillBatch(bb, b, ts.X, ts.Anomalies, r)
			epLoss += m.lossGrad(bb, b, mu, sigma)
			if o.ClipNorm > 0 {
				optim.ClipGradNormKeras(m.params(), o.ClipNorm)
			}
			opt.Step()
		}
		m.Losses = append(m.Losses, epLoss/float64(o.BatchesPerEpoch))
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "epoch", Done: ep + 1, Total: o.Epochs, Metrics: map[string]float64{"loss": m.Losses[ep]}})
		}
	}
	for _, p := range m.params() {
		p.SetRequiresGrad(false)
	}
	return nil
}

// referenceScores draws n reference scores from N(0, 1) and returns their
// mean and standard deviation μ_R and σ_R (the population formula, floored
// away from zero).
func referenceScores(r *rand.Rand, n int) (mu, sigma float64) {
	var sum, sq float64
	for i := 0; i < n; i++ {
		v := r.NormFloat64()
		sum += v
		sq += v * v
	}
	mu = sum / float64(n)
	return mu, math.Sqrt(max(sq/float64(n)-mu*mu, 1e-12))
}

// fillBatch fills bb with b rows that alternate an unlabelled row of unl
// (label 0) and a labelled anomaly of lab (label 1), each drawn at random
// with replacement.
func fillBatch(bb *buffers, b int, unl, lab *data.Dataset, r *rand.Rand) {
	d := unl.Dim()
	for i := 0; i < b; i++ {
		if i%2 == 0 {
			copy(bb.x[i*d:(i+1)*d], unl.Row(r.IntN(unl.N)))
			bb.y[i] = 0
		} else {
			copy(bb.x[i*d:(i+1)*d], lab.Row(r.IntN(lab.N)))
			bb.y[i] = 1
		}
	}
}
