package cae

import (
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
)

// Method is the name under which the autoencoder registers.
const Method = "cae"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Images,
		"Convolutional autoencoder baseline: GANomaly's generator trained on reconstruction loss alone",
		DefaultOptions, PaperOptions, New))
}

// EpochStats is one epoch of training, as History records it: the epoch
// (1-based); Con and G, both the mean training reconstruction loss (Adv,
// Enc, D and ReinitD are 0: the autoencoder has no other term); Val, the
// validation reconstruction loss (0 without a validation split); and
// Seconds, the epoch's wall time. It is the type ganomaly.EpochStats.
type EpochStats = dcgan.EpochStats

// Detector is the convolutional-autoencoder baseline: Fit trains G_E and
// G_D of GANomaly's generator (same width and latent size, so the same
// size) on the reconstruction loss alone, without second encoder or
// adversary; Score is the per-image reconstruction error (mean squared, or
// mean absolute with Options.Loss "l1"). It also embeds images (their code
// G_E(x)) and reconstructs them (G(x)).
//
// Its methods come from the detector it shares with package ganomaly
// (internal/dcgan), so they behave as GANomaly's: Fit reports each epoch's
// mean reconstruction loss as "loss" (and the validation loss "val");
// Marshal saves the encoder's and decoder's tensors; Unmarshal also loads
// the "cae" models package ganomaly saved before the autoencoder had its
// own package (the stored JSON keys are the same, and GANomaly's loss
// weights stored with them are ignored).
type Detector struct {
	dcgan.Detector[Options]
}

// New returns an unfitted autoencoder; Fit validates the options.
func New(o Options) *Detector { return &Detector{dcgan.NewDetector(Method, o, build)} }

// Interfaces the detector implements.
var (
	_ detector.Detector      = (*Detector)(nil)
	_ detector.Embedder      = (*Detector)(nil)
	_ detector.Reconstructor = (*Detector)(nil)
)
