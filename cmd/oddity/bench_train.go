package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// `oddity bench train` times the project's networks exactly as
// ../shared/reference/torch_throughput.py times their PyTorch twins: same
// networks, batch sizes, optimisers and losses, two warm-up steps, the median
// of the timed steps, and the same output lines.
func init() {
	var steps int
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Training and inference throughput of the detectors' networks",
		Example: `  oddity bench train
  oddity bench train --steps 16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if steps < 1 {
				return fmt.Errorf("--steps must be at least 1, got %d", steps)
			}
			return benchTrain(cmd, steps)
		},
	}
	cmd.Flags().IntVar(&steps, "steps", 8, "timed steps per workload (the DQN update runs 50 times as many)")
	benchCmd.AddCommand(cmd)
}

// medianStep runs step warm times, then n timed times, and returns the
// median duration in seconds.
func medianStep(step func(), n, warm int) float64 {
	for i := 0; i < warm; i++ {
		step()
	}
	ts := make([]float64, n)
	for i := range ts {
		t := time.Now()
		step()
		ts[i] = time.Since(t).Seconds()
	}
	sort.Float64s(ts)
	if n%2 == 1 {
		return ts[n/2]
	}
	return (ts[n/2-1] + ts[n/2]) / 2
}

func randTensor(r *rand.Rand, lo, hi float32, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*r.Float32()
	}
	return t
}

func benchTrain(cmd *cobra.Command, steps int) error {
	out := cmd.OutOrStdout()
	ctx := cmd.Context()
	r := rand.New(rand.NewPCG(0, 0))

	// DCEC convolutional autoencoder, Adam 1e-3, MSE.
	ae, err := deepcluster.NewAutoencoder(1, 28, 10, r)
	if err != nil {
		return err
	}
	opt, err := optim.NewAdam(ae.Parameters(), optim.AdamDefaults())
	if err != nil {
		return err
	}
	x := randTensor(r, 0, 1, 256, 1, 28, 28)
	dt := medianStep(func() {
		tp := tensor.NewTape()
		rec, _ := ae.Forward(tp, x)
		opt.ZeroGrad()
		tp.Backward(tp.MSELoss(rec, x))
		opt.Step()
	}, steps, 2)
	fmt.Fprintf(out, "dcec-cae-train batch=256 28x28x1: %.0f img/s\n", 256/dt)
	dt = medianStep(func() { ae.Forward(nil, x) }, steps, 2)
	fmt.Fprintf(out, "dcec-cae-infer batch=256 28x28x1: %.0f img/s\n", 256/dt)
	if err := ctx.Err(); err != nil {
		return err
	}

	for _, c := range []int{1, 3} {
		nets, err := ganomaly.NewNetworks(ganomaly.NetConfig{Channels: c, Side: 32, Width: 64, NZ: 100,
			WAdv: 1, WCon: 50, WEnc: 1, LR: 2e-4, Beta1: 0.5, Beta2: 0.999}, r)
		if err != nil {
			return err
		}
		xb := randTensor(r, -1, 1, 64, c, 32, 32)
		dt := medianStep(func() { nets.TrainStep(xb) }, steps, 2)
		fmt.Fprintf(out, "ganomaly-train batch=64 32x32x%d: %.0f img/s\n", c, 64/dt)
		nets.SetTraining(false)
		dt = medianStep(func() { nets.Score(xb) }, steps, 2)
		fmt.Fprintf(out, "ganomaly-score batch=64 32x32x%d: %.0f img/s\n", c, 64/dt)
		if err := ctx.Err(); err != nil {
			return err
		}
	}

	// DPLAN's Q-network update: smooth-L1 TD loss against a target network,
	// RMSprop(2.5e-4, alpha 0.99, momentum 0.95, eps 0.01).
	q := nn.NewSequential(nn.NewLinear(21, 20, true, r), nn.ReLU(), nn.NewLinear(20, 2, true, r))
	qt := nn.NewSequential(nn.NewLinear(21, 20, true, r), nn.ReLU(), nn.NewLinear(20, 2, true, r))
	oq, err := optim.NewRMSprop(q.Parameters(), optim.RMSpropConfig{LR: 2.5e-4, Alpha: 0.99, Momentum: 0.95, Eps: 0.01})
	if err != nil {
		return err
	}
	s, s2, rew := randTensor(r, 0, 1, 32, 21), randTensor(r, 0, 1, 32, 21), randTensor(r, 0, 1, 32)
	act := make([]int, 32)
	for i := range act {
		act[i] = r.IntN(2)
	}
	dt = medianStep(func() {
		next, _ := tensor.NoGrad.MaxAxis(qt.Forward(nil, s2), 1, false)
		y := tensor.New(32)
		for i := range y.Data {
			y.Data[i] = rew.Data[i] + 0.99*next.Data[i]
		}
		tp := tensor.NewTape()
		l := tp.SmoothL1Loss(tp.Gather(q.Forward(tp, s), act), y, 1)
		oq.ZeroGrad()
		tp.Backward(l)
		oq.Step()
	}, steps*50, 20)
	fmt.Fprintf(out, "dplan-dqn-update batch=32 d=21: %.0f updates/s\n", 1/dt)
	return nil
}
