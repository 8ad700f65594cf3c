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
	// of z to the nearest centroid), "maxq" (1 - max_j q_ij) or "lof" (the
	// local outlier factor of the image's hidden features among the
	// training images', FeatureLOF; the model keeps a reference of up to
	// MaxFeatureRows training images). With Manifold, use lof: the
	// centroids are then mean codes of clusters found in the UMAP layout,
	// and the distance to them averages AUC-ROC 0.746 on MNIST common
	// ground where lof averages 0.927 (docs/methods.md §3).
	Score string `json:"score" opt:"score" enum:"distance|maxq|lof" help:"anomaly score: distance (to the nearest centroid), maxq (1 - max q) or lof (of the hidden features among the training images')"`

	// The options below go beyond the papers DefaultOptions reproduces
	// (docs/methods.md §3). Each is ",omitzero" and its zero value is the
	// old behaviour, so the settings recorded for runs without them, and
	// the benchmark suite's cache keys, do not change; a zero that is not a
	// usable setting stands for the documented default.

	// Augment trains on randomly shifted and rotated copies of the images,
	// drawn afresh for every batch, in pretraining and in fine-tuning
	// (DEC-DA, Guo, Zhu, Liu and Yin, ACML 2018); targets, assignments and
	// scores use the images as given. The self-expressive mode augments its
	// pretraining only: its coefficients relate the n images as given.
	// Default false.
	Augment bool `json:"augment,omitempty" opt:"augment,omitzero" help:"train on randomly shifted and rotated copies (DEC-DA)"`
	// AugmentShift is the largest shift along each axis as a fraction of
	// the side (0 means 0.1, DEC-DA's: 2.8 pixels on MNIST, 1.6 on USPS,
	// 3.2 on COIL-20); a negative value turns shifts off.
	AugmentShift float64 `json:"augment_shift,omitempty" opt:"augment-shift,omitzero" max:"0.5" help:"largest shift, fraction of the side (0: 0.1; negative: none)"`
	// AugmentRotate is the largest rotation in degrees (0 means 10,
	// DEC-DA's); a negative value turns rotations off.
	AugmentRotate float64 `json:"augment_rotate,omitempty" opt:"augment-rotate,omitzero" max:"180" help:"largest rotation in degrees (0: 10; negative: none)"`
	// AugmentFlip adds left-right mirror images (half of the copies); it
	// suits natural images such as CIFAR-10, not digits or COIL-20's
	// objects, whose mirror images are other shapes. Default false.
	AugmentFlip bool `json:"augment_flip,omitempty" opt:"augment-flip,omitzero" help:"also mirror left-right (natural images, not digits)"`

	// SelfExpressive replaces the DCEC network and clustering layer by
	// deep subspace clustering (DSC-Net, Ji, Zhang, Li, Salzmann and Reid,
	// NeurIPS 2017): a one-layer convolutional autoencoder, an n×n
	// self-expressive coefficient matrix trained with it on the whole data
	// set at once, and spectral clustering of the affinity built from the
	// coefficients. For at most MaxSelfExpressive images. Embedding, Loss,
	// Schedule, Gamma, Alpha*, UpdateInterval, Tol, MaxSteps, FinetuneLR
	// and Final do not apply. Default false.
	SelfExpressive bool `json:"self_expressive,omitempty" opt:"self-expressive,omitzero" help:"deep subspace clustering (DSC-Net): self-expressive layer and spectral clustering"`
	// SEChannels is the number of channels of the one convolution (0
	// means 15, DSC-Net's for COIL-20); the code has SEChannels·(side/2)²
	// values.
	SEChannels int `json:"se_channels,omitempty" opt:"se-channels,omitzero" min:"0" help:"channels of the self-expressive mode's convolution (0: 15)"`
	// SESteps is the number of full-batch fine-tuning steps of the
	// self-expressive mode (0 means 40, DSC-Net's for COIL-20).
	SESteps int `json:"se_steps,omitempty" opt:"se-steps,omitzero" min:"0" help:"self-expressive fine-tuning steps (0: 40)"`
	// SELR is Adam's learning rate in self-expressive fine-tuning (0 means
	// 1e-3).
	SELR float64 `json:"se_lr,omitempty" opt:"se-lr,omitzero" min:"0" help:"Adam learning rate of self-expressive fine-tuning (0: 0.001)"`
	// SEWeight is the weight of the self-expression loss ||Z - CZ||² (0
	// means 75, DSC-Net's COIL-20 value with sums over pixels).
	SEWeight float64 `json:"se_weight,omitempty" opt:"se-weight,omitzero" min:"0" help:"weight of the self-expression loss (0: 75)"`
	// SEReg is the weight of the coefficient penalty ||C||² (0 means 1).
	SEReg float64 `json:"se_reg,omitempty" opt:"se-reg,omitzero" min:"0" help:"weight of the coefficient penalty ||C||^2 (0: 1)"`
	// SEKeep keeps, in every column of C, the largest coefficients whose
	// magnitudes first exceed this fraction of the column's total (0 means
	// 0.04, DSC-Net's COIL-20 value; 1 keeps all).
	SEKeep float64 `json:"se_keep,omitempty" opt:"se-keep,omitzero" min:"0" max:"1" help:"fraction of each column's coefficient mass kept (0: 0.04)"`
	// SEDim is the assumed dimension of each subspace; the affinity is
	// built from the SEDim·K+1 leading eigenvectors of the symmetrised
	// coefficients (0 means 12).
	SEDim int `json:"se_dim,omitempty" opt:"se-dim,omitzero" min:"0" help:"dimension of each subspace (0: 12)"`
	// SENoIdentity builds the affinity from the symmetrised coefficients
	// alone, as DSC-Net's published post-processing does, instead of from
	// them plus the identity (the variant its code notes is better for
	// COIL-20, and the default here). Default false.
	SENoIdentity bool `json:"se_no_identity,omitempty" opt:"se-no-identity,omitzero" help:"affinity from (C+C^T)/2 without the identity DSC-Net's code adds for COIL-20"`
	// SEPower is the power the affinity is raised to (0 means 8).
	SEPower float64 `json:"se_power,omitempty" opt:"se-power,omitzero" min:"0" help:"power of the affinity (0: 8)"`

	// Manifold clusters a UMAP layout of the pretrained codes with k-means
	// instead of fine-tuning with a clustering loss (N2D: McConville,
	// Santos-Rodriguez, Piechocki and Craddock, ICPR 2020). The centroids
	// kept are the clusters' mean codes. Loss, Schedule, Gamma, Alpha*,
	// UpdateInterval, Tol, MaxSteps, FinetuneLR and Final do not apply.
	// Default false.
	Manifold bool `json:"manifold,omitempty" opt:"manifold,omitzero" help:"cluster a UMAP layout of the pretrained codes (N2D) instead of fine-tuning"`
	// ManifoldNeighbors is UMAP's neighbourhood size, the image itself
	// included (0 means 20, N2D's for MNIST).
	ManifoldNeighbors int `json:"manifold_neighbors,omitempty" opt:"manifold-neighbors,omitzero" min:"0" help:"UMAP neighbourhood size of the manifold mode (0: 20)"`
	// ManifoldDim is the dimension of the UMAP layout (0 means K, N2D's).
	ManifoldDim int `json:"manifold_dim,omitempty" opt:"manifold-dim,omitzero" min:"0" help:"dimension of the manifold mode's UMAP layout (0: k)"`
}

// MaxSelfExpressive is the largest number of images the self-expressive
// mode takes: its coefficient matrix is n×n, trained by Adam (four n×n
// float32 arrays, 400 MB at this size) on the whole data set at once, and
// one full-batch step costs three n×n×code products (about 8 seconds on two
// cores at this size).
const MaxSelfExpressive = 5000

// seDefaults returns the self-expressive settings with every 0 resolved to
// its documented default.
func (o Options) seDefaults() (channels, steps int, lr, weight, reg, keep float64, dim int, power float64) {
	pick := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return v
	}
	channels, steps, dim = o.SEChannels, o.SESteps, o.SEDim
	if channels == 0 {
		channels = 15
	}
	if steps == 0 {
		steps = 40
	}
	if dim == 0 {
		dim = 12
	}
	return channels, steps, pick(o.SELR, 1e-3), pick(o.SEWeight, 75), pick(o.SEReg, 1), pick(o.SEKeep, 0.04), dim, pick(o.SEPower, 8)
}

// augmentRanges returns the largest shift (fraction of the side) and
// rotation (radians) of Augment, 0 where that part is off.
func (o Options) augmentRanges() (shift, rotate float64) {
	shift, rotate = o.AugmentShift, o.AugmentRotate
	switch {
	case shift == 0:
		shift = 0.1
	case shift < 0:
		shift = 0
	}
	switch {
	case rotate == 0:
		rotate = 10
	case rotate < 0:
		rotate = 0
	}
	return shift, rotate * math.Pi / 180
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
	if o.Manifold && o.SelfExpressive {
		return fmt.Errorf("%w: manifold and self-expressive are two different modes: choose one", ErrOption)
	}
	if o.ManifoldNeighbors == 1 {
		return fmt.Errorf("%w: manifold-neighbors = 1: the neighbourhood counts the image itself, so it needs at least 2", ErrOption)
	}
	return nil
}
