package autoencoder

import (
	"context"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// train builds the network for x's samples and trains it with Adam to
// reconstruct them: o.epochs(x.N) epochs of shuffled minibatches, each step
// minimising the mean squared error between the batch and its
// reconstruction. It reports progress once per epoch and stops with ctx's
// error between steps.
func train(ctx context.Context, x *data.Dataset, o Options, widths []int, progress func(detector.Progress)) (*nn.Sequential, error) {
	r := rand.New(rand.NewPCG(o.Seed, 0xae))
	net, err := build(x.Dim(), widths, r)
	if err != nil {
		return nil, err
	}
	cfg := optim.AdamDefaults()
	cfg.LR = o.LR
	opt, err := optim.NewAdam(net.Parameters(), cfg)
	if err != nil {
		return nil, err
	}
	epochs := o.epochs(x.N)
	k := x.Dim()
	for ep := 0; ep < epochs; ep++ {
		perm := r.Perm(x.N)
		var sum float64
		steps := 0
		for lo := 0; lo < x.N; lo += o.BatchSize {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			hi := min(lo+o.BatchSize, x.N)
			b := tensor.New(hi-lo, k)
			for i, j := range perm[lo:hi] {
				copy(b.Data[i*k:(i+1)*k], x.Row(j))
			}
			tp := tensor.NewTape()
			loss := tp.MSELoss(net.Forward(tp, b), b)
			opt.ZeroGrad()
			tp.Backward(loss)
			opt.Step()
			sum += float64(loss.Data[0])
			steps++
		}
		if progress != nil {
			progress(detector.Progress{Phase: "epoch", Done: ep + 1, Total: epochs, Metrics: map[string]float64{"loss": sum / float64(max(steps, 1))}})
		}
	}
	return net, nil
}
