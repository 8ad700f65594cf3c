package dplan

import (
	"fmt"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption reports an invalid option value. It wraps detector.ErrOption.
var ErrOption = fmt.Errorf("dplan: %w", detector.ErrOption)

// Loss names the temporal-difference loss.
type Loss string

// TD losses.
const (
	// LossSquared is 0.5·δ² (keras-rl's default, delta_clip = inf).
	LossSquared Loss = "squared"
	// LossHuber is the Huber loss with threshold 1.
	LossHuber Loss = "huber"
)

// Features names the space the intrinsic-reward Isolation Forest works in.
type Features string

// Intrinsic-reward feature spaces.
const (
	// FeaturesHidden fits the forest on the Q-network's hidden
	// representation, refitted every episode (the paper).
	FeaturesHidden Features = "hidden"
	// FeaturesRaw fits the forest once on the raw input features.
	FeaturesRaw Features = "raw"
)

// Options configures DPLAN. Each field's comment names its default
// (DefaultOptions); the package documentation says where each comes from.
// The zero Options is not a valid configuration: start from DefaultOptions
// or PaperOptions.
type Options struct {
	// Hidden is the width of the Q-network's hidden layer (default 20).
	Hidden int `json:"hidden" opt:"hidden" min:"1" max:"65536" help:"hidden units of the Q-network"`
	// Episodes is the number of training episodes (default 10).
	Episodes int `json:"episodes" opt:"episodes" min:"1" help:"training episodes"`
	// StepsPerEpisode is the number of steps of each episode (default
	// 2,000).
	StepsPerEpisode int `json:"steps_per_episode" opt:"steps" min:"1" help:"steps per episode"`
	// Memory is the replay memory's capacity in transitions (default
	// 100,000).
	Memory int `json:"memory" opt:"memory" min:"1" help:"replay memory capacity"`
	// Warmup is the number of steps before the first network update
	// (default 10,000, keras-rl's nb_steps_warmup); 0 learns from the first
	// full minibatch.
	Warmup int `json:"warmup" opt:"warmup" min:"0" help:"steps before the first network update"`
	// EpsStart is the exploration rate of the first step (default 1).
	EpsStart float64 `json:"eps_start" opt:"eps-start" min:"0" max:"1" help:"initial epsilon"`
	// EpsEnd is the exploration rate the linear schedule ends at (default
	// 0.1).
	EpsEnd float64 `json:"eps_end" opt:"eps-end" min:"0" max:"1" help:"final epsilon"`
	// EpsSteps is the number of steps over which epsilon falls from
	// EpsStart to EpsEnd (default 10,000); 0 explores at EpsEnd throughout.
	EpsSteps int `json:"eps_steps" opt:"eps-steps" min:"0" help:"steps of the linear epsilon schedule"`
	// BatchSize is the minibatch size (default 32). Its JSON key stays
	// "batch", so models saved before the rename load.
	BatchSize int `json:"batch" opt:"batch" min:"1" help:"minibatch size"`
	// Gamma is the discount factor (default 0.99).
	Gamma float64 `json:"gamma" opt:"gamma" min:"0" max:"1" help:"discount factor"`
	// LR is RMSprop's learning rate (default 2.5e-4).
	LR float64 `json:"lr" opt:"lr" gt:"0" help:"RMSprop learning rate"`
	// Alpha is RMSprop's squared-gradient decay, as PyTorch names it
	// (default 0.99).
	Alpha float64 `json:"alpha" opt:"alpha" min:"0" lt:"1" help:"RMSprop squared-gradient decay"`
	// Momentum is RMSprop's heavy-ball momentum (default 0.95).
	Momentum float64 `json:"momentum" opt:"momentum" min:"0" lt:"1" help:"RMSprop heavy-ball momentum"`
	// RMSEps is RMSprop's epsilon (default 0.01).
	RMSEps float64 `json:"rms_eps" opt:"rms-eps" min:"0" help:"RMSprop epsilon"`
	// L2 is the coefficient of the penalty L2·ΣW² on the hidden layer's
	// weights (default 0.01).
	L2 float64 `json:"l2" opt:"l2" min:"0" help:"L2 penalty on the hidden layer's weights"`
	// TargetUpdate is the number of steps between hard copies of the online
	// network into the target network (default 10,000).
	TargetUpdate int `json:"target_update" opt:"target-update" min:"1" help:"steps between target-network copies"`
	// DoubleDQN selects the action of the bootstrap target with the online
	// network and evaluates it with the target network (default false:
	// plain DQN).
	DoubleDQN bool `json:"double_dqn" opt:"double-dqn" help:"double DQN targets"`
	// Loss is the TD loss (default squared).
	Loss Loss `json:"loss" opt:"loss" enum:"squared|huber" help:"TD loss: squared or huber"`
	// P is the probability that the sampler returns a labelled anomaly
	// (default 0.5, the reference code's; the paper's text says 0.05).
	P float64 `json:"p" opt:"p" min:"0" max:"1" help:"probability of sampling a labelled anomaly"`
	// Subset is the size of the random unlabelled subset searched for the
	// nearest or farthest point (default 3; the paper 1,000, see
	// DefaultOptions; 1 makes g_u a uniform draw from D_u).
	Subset int `json:"subset" opt:"subset" min:"1" help:"unlabelled subset size of the nearest/farthest search"`
	// IntrinsicScale multiplies the intrinsic reward (default 1; 0 turns
	// the intrinsic reward and its forest off).
	IntrinsicScale float64 `json:"intrinsic_scale" opt:"intrinsic-scale" min:"0" help:"weight of the intrinsic reward"`
	// IntrinsicFeatures is the space of the intrinsic-reward forest
	// (default hidden).
	IntrinsicFeatures Features `json:"intrinsic_features" opt:"intrinsic-features" enum:"hidden|raw" help:"intrinsic-reward forest space: hidden or raw"`
	// ForestTrees is the number of trees of the intrinsic-reward forest
	// (default 100).
	ForestTrees int `json:"forest_trees" opt:"forest-trees" min:"1" max:"1048576" help:"trees of the intrinsic-reward forest"`
	// ForestSamples is the subsample size of each tree of the
	// intrinsic-reward forest (default 256).
	ForestSamples int `json:"forest_samples" opt:"forest-samples" min:"1" max:"16777216" help:"subsample of the intrinsic-reward forest"`
	// ScaleInput makes Fit learn a per-feature min-max scaling from the
	// training data (unlabelled and labelled together) and apply it to the
	// data it trains on and to everything it scores, so a saved model takes
	// raw features (default false: the evaluation protocols scale the data
	// themselves; `oddity train dplan` turns it on).
	ScaleInput bool `json:"scale_input" opt:"scale-input,omitzero" help:"learn a min-max scaling of the input and store it in the model"`
	// Seed seeds every random choice (default 0).
	Seed uint64 `json:"seed"`
	// Workers bounds the goroutines used by scoring and the intrinsic
	// forest (default 0: GOMAXPROCS). Results do not depend on it.
	Workers int `json:"-"`
}

// PaperOptions returns the settings of docs/methods.md §2 (the paper and
// its reference code): 10 episodes × 2,000 steps, memory 100,000, 10,000
// warm-up steps, epsilon 1.0 → 0.1 over 10,000 steps, minibatch 32,
// gamma 0.99, RMSprop(lr 2.5e-4, alpha 0.99, momentum 0.95, eps 0.01), L2
// 0.01, hard target copy every 10,000 steps, plain DQN, squared TD loss,
// p = 0.5, subsets of 1,000, intrinsic reward (scale 1) from an Isolation
// Forest of 100 trees × 256 samples on the hidden representation. They
// differ from DefaultOptions in Subset only.
func PaperOptions() Options {
	return Options{
		Hidden: 20, Episodes: 10, StepsPerEpisode: 2000, Memory: 100000, Warmup: 10000,
		EpsStart: 1, EpsEnd: 0.1, EpsSteps: 10000, BatchSize: 32, Gamma: 0.99,
		LR: 2.5e-4, Alpha: 0.99, Momentum: 0.95, RMSEps: 0.01, L2: 0.01,
		TargetUpdate: 10000, DoubleDQN: false, Loss: LossSquared, P: 0.5, Subset: 1000,
		IntrinsicScale: 1, IntrinsicFeatures: FeaturesHidden, ForestTrees: 100, ForestSamples: 256,
	}
}

// DefaultOptions returns the package's defaults, what `oddity train dplan`
// runs: PaperOptions with one change, Subset = 3 instead of 1,000 (see the
// package documentation's reproduction section). With a subset of 1,000 the
// unlabelled states the agent visits are almost only the nearest
// neighbours of anomalies and the farthest points of the data, so
// Q(s, a1) is never trained on typical normal points; a subset of 3 keeps
// the nearest/farthest bias but lets the agent see the bulk of D_u. It
// raised AUC-PR on both UCI thyroid tasks and on the ADBench files (see
// docs/results).
func DefaultOptions() Options {
	o := PaperOptions()
	o.Subset = 3
	return o
}

// Validate reports the first invalid option, naming it by its option name;
// the error wraps ErrOption.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	// Workers is not an option, so no tag states its bound.
	if o.Workers < 0 {
		return fmt.Errorf("%w: workers = %d: must be at least 0", ErrOption, o.Workers)
	}
	return nil
}
