package deepcluster

import (
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// ErrOption is wrapped by every error about an option value; it wraps
// detector.ErrOption.
var ErrOption = fmt.Errorf("deepcluster: %w", detector.ErrOption)

// ErrInput is wrapped by errors about unusable training or scoring data
// (images that are not square, fewer images than clusters, ...); it wraps
// detector.ErrInput.
var ErrInput = fmt.Errorf("deepcluster: %w", detector.ErrInput)

// Options holds every setting of a deep clustering run (docs/methods.md §3).
// DefaultOptions gives DCEC's values, which are what `oddity cluster` and
// `oddity train deepcluster` run; the zero Options is not a valid
// configuration. Options are stored with saved models as JSON.
type Options struct {
	// K is the number of clusters (default 10, the number of classes of
	// MNIST and USPS; set it to the number of groups expected in the data).
	K int `json:"k" opt:"k" min:"1" help:"number of clusters"`
	// Embedding is the size of the embedding z (default 10).
	Embedding int `json:"embedding" opt:"z" min:"1" help:"embedding size"`
	// Seed drives the weights, the batch order and k-means (default 0).
	Seed uint64 `json:"seed"`
	// PretrainEpochs is the number of epochs of reconstruction-only
	// training (default 200; 0 runs none).
	PretrainEpochs int `json:"pretrain_epochs" opt:"epochs" min:"0" help:"pretraining epochs"`
	// NoPretrain skips pretraining whatever PretrainEpochs says (default
	// false).
	NoPretrain bool `json:"no_pretrain,omitempty" opt:"no-pretrain" help:"skip pretraining"`
	// BatchSize is the batch size of both phases (default 256).
	BatchSize int `json:"batch_size" opt:"batch" min:"1" help:"batch size"`
	// LR is Adam's learning rate in pretraining (default 1e-3).
	LR float64 `json:"lr" opt:"lr" gt:"0" help:"Adam learning rate of pretraining"`
	// FinetuneLR is Adam's learning rate in fine-tuning (default 1e-3).
	FinetuneLR float64 `json:"finetune_lr" opt:"finetune-lr" gt:"0" help:"Adam learning rate of fine-tuning"`
	// KMeansInit is the number of k-means++ restarts of the centroid
	// initialisation, and of the final k-means when Final is "kmeans"
	// (default 20).
	KMeansInit int `json:"kmeans_init" opt:"kmeans-init" min:"1" help:"k-means++ restarts of the initialisation"`
	// MaxSteps bounds fine-tuning (default 20,000; 0 runs no fine-tuning
	// step).
	MaxSteps int `json:"max_steps" opt:"max-steps" min:"0" help:"fine-tuning step limit"`
	// UpdateInterval is T, the number of steps between target distribution
	// updates (default 140).
	UpdateInterval int `json:"update_interval" opt:"update-interval" min:"1" help:"steps between target distribution updates (T)"`
	// Tol stops fine-tuning when fewer than this fraction of assignments
	// change between two updates (default 0.001); 0 or a negative value
	// never stops early.
	Tol float64 `json:"tol" opt:"tol" help:"stop when fewer than this fraction of assignments change between updates"`
	// Alpha is the degrees of freedom of the Student's t kernel (default 1,
	// as in DEC, IDEC and DCEC). It is not a command-line option.
	Alpha float64 `json:"alpha"`
	// Loss is the clustering loss: "kl" (default, DEC's assignment
	// hardening) or "kmeans" (DCN).
	Loss string `json:"loss" opt:"loss" enum:"kl|kmeans" help:"clustering loss: kl (assignment hardening) or kmeans (DCN)"`
	// Schedule combines the losses: "gamma" (default, L = Gamma·L_cluster +
	// L_AE) or "alpha" (L = a·L_cluster + (1-a)·L_AE, a rising from
	// AlphaFrom to AlphaTo over AlphaSteps steps).
	Schedule string `json:"schedule" opt:"schedule" enum:"gamma|alpha" help:"combination: gamma (gamma*L_c + L_AE) or alpha (a*L_c + (1-a)*L_AE, a rising)"`
	// Gamma is the weight of the clustering loss of schedule "gamma"
	// (default 0.1, DCEC's).
	Gamma float64 `json:"gamma" opt:"gamma" gt:"0" help:"weight of the clustering loss (schedule gamma)"`
	// AlphaFrom is the starting a of schedule "alpha" (default 0).
	AlphaFrom float64 `json:"alpha_from" opt:"alpha-from" min:"0" max:"1" help:"starting a (schedule alpha)"`
	// AlphaTo is the final a of schedule "alpha" (default 0.5).
	AlphaTo float64 `json:"alpha_to" opt:"alpha-to" min:"0" max:"1" help:"final a (schedule alpha)"`
	// AlphaSteps is the number of steps over which a rises (default 0,
	// which means a fifth of MaxSteps, at least 1).
	AlphaSteps int `json:"alpha_steps" opt:"alpha-steps" min:"0" help:"steps over which a rises (0: max-steps/5)"`
	// Final is the final clustering: "argmax" (default, argmax_j q_ij) or
	// "kmeans" (k-means re-run on the final embedding).
	Final string `json:"final" opt:"final" enum:"argmax|kmeans" help:"final clustering: argmax (of q) or kmeans (re-run on the embedding)"`
	// Score is the anomaly score: "distance" (default, Euclidean distance
	// of z to the nearest centroid) or "maxq" (1 - max_j q_ij).
	Score string `json:"score" opt:"score" enum:"distance|maxq" help:"anomaly score: distance (to the nearest centroid) or maxq (1 - max q)"`
}

// DefaultOptions returns DCEC's settings (Guo et al. 2017, docs/methods.md
// §3) with k = 10: they are the paper's, so there is no PaperOptions.
func DefaultOptions() Options {
	return Options{
		K:              10,
		Embedding:      10,
		PretrainEpochs: 200,
		BatchSize:      256,
		LR:             1e-3,
		FinetuneLR:     1e-3,
		KMeansInit:     20,
		MaxSteps:       20000,
		UpdateInterval: 140,
		Tol:            0.001,
		Alpha:          1,
		Loss:           "kl",
		Schedule:       "gamma",
		Gamma:          0.1,
		AlphaFrom:      0,
		AlphaTo:        0.5,
		AlphaSteps:     0,
		Final:          "argmax",
		Score:          "distance",
	}
}

// alphaSteps is AlphaSteps with 0 resolved to a fifth of MaxSteps.
func (o Options) alphaSteps() int {
	if o.AlphaSteps == 0 {
		return max(1, o.MaxSteps/5)
	}
	return o.AlphaSteps
}

// Validate returns nil when o is a usable configuration, and otherwise an
// error wrapping ErrOption that names the first bad option.
func (o Options) Validate() error {
	if err := option.Check(&o); err != nil {
		return fmt.Errorf("%w: %v", ErrOption, err)
	}
	// Alpha is not a command-line option, so no tag states its bound.
	if math.IsNaN(o.Alpha) || math.IsInf(o.Alpha, 0) || o.Alpha <= 0 {
		return fmt.Errorf("%w: alpha = %v: must be a positive number", ErrOption, o.Alpha)
	}
	return nil
}
