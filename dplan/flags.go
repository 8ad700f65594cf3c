package dplan

import "github.com/spf13/pflag"

// BindFlags binds every option of o except the seed to a flag of fs, with
// o's current values as defaults, so `oddity train dplan`, `oddity eval
// dplan` and the benchmark runner's cells spell each option the same way.
func BindFlags(fs *pflag.FlagSet, o *Options) {
	fs.IntVar(&o.Hidden, "hidden", o.Hidden, "hidden units of the Q-network")
	fs.IntVar(&o.Episodes, "episodes", o.Episodes, "training episodes")
	fs.IntVar(&o.StepsPerEpisode, "steps", o.StepsPerEpisode, "steps per episode")
	fs.IntVar(&o.Memory, "memory", o.Memory, "replay memory capacity")
	fs.IntVar(&o.Warmup, "warmup", o.Warmup, "steps before the first network update")
	fs.Float64Var(&o.EpsStart, "eps-start", o.EpsStart, "initial epsilon")
	fs.Float64Var(&o.EpsEnd, "eps-end", o.EpsEnd, "final epsilon")
	fs.IntVar(&o.EpsSteps, "eps-steps", o.EpsSteps, "steps of the linear epsilon schedule")
	fs.IntVar(&o.Batch, "batch", o.Batch, "minibatch size")
	fs.Float64Var(&o.Gamma, "gamma", o.Gamma, "discount factor")
	fs.Float64Var(&o.LR, "lr", o.LR, "RMSprop learning rate")
	fs.Float64Var(&o.Alpha, "alpha", o.Alpha, "RMSprop squared-gradient decay")
	fs.Float64Var(&o.Momentum, "momentum", o.Momentum, "RMSprop heavy-ball momentum")
	fs.Float64Var(&o.RMSEps, "rms-eps", o.RMSEps, "RMSprop epsilon")
	fs.Float64Var(&o.L2, "l2", o.L2, "L2 penalty on the hidden layer's weights")
	fs.IntVar(&o.TargetUpdate, "target-update", o.TargetUpdate, "steps between target-network copies")
	fs.BoolVar(&o.DoubleDQN, "double-dqn", o.DoubleDQN, "double DQN targets")
	fs.StringVar((*string)(&o.Loss), "loss", string(o.Loss), "TD loss: squared or huber")
	fs.Float64Var(&o.P, "p", o.P, "probability of sampling a labelled anomaly")
	fs.IntVar(&o.Subset, "subset", o.Subset, "unlabelled subset size of the nearest/farthest search")
	fs.Float64Var(&o.IntrinsicScale, "intrinsic-scale", o.IntrinsicScale, "weight of the intrinsic reward")
	fs.StringVar((*string)(&o.IntrinsicFeatures), "intrinsic-features", string(o.IntrinsicFeatures), "intrinsic-reward forest space: hidden or raw")
	fs.IntVar(&o.ForestTrees, "forest-trees", o.ForestTrees, "trees of the intrinsic-reward forest")
	fs.IntVar(&o.ForestSamples, "forest-samples", o.ForestSamples, "subsample of the intrinsic-reward forest")
}
