package ganomaly

import (
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
)

// Method is the name under which GANomaly registers.
const Method = "ganomaly"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Images,
		"GANomaly (Akcay, Atapour-Abarghouei and Breckon 2018)", DefaultOptions, PaperOptions, New))
}

// EpochStats is one epoch of training, as History records it: the epoch
// (1-based); the mean training losses Adv, Con, Enc (unweighted), G
// (weighted generator loss) and D (discriminator); Val, the validation
// generator loss (0 without a validation split); ReinitD, the number of
// discriminator re-initialisations; and Seconds, the epoch's wall time.
type EpochStats = dcgan.EpochStats

// Detector is the GANomaly detector: Fit trains the generator, second
// encoder and discriminator on normal images; Score is the latent distance
// A(x) = mean((G_E(x) - E(G(x)))²). It also embeds images (their code
// G_E(x)) and reconstructs them (G(x)).
//
// Its methods come from the detector it shares with package cae
// (internal/dcgan): Fit (on normal images [C,H,W] or [H,W] in [0, 1],
// holding out Options.ValFraction; each epoch reports the mean losses adv,
// con, enc, g, d and the validation loss val), Score (the raw A(x), with
// BatchNorm in inference mode; safe for concurrent use), Embed (G_E(x),
// Options.NZ values per image), Reconstruct (the network inputs and G(x),
// in [0, 1]), Options, Side, History, BestEpoch, TrainImages, ValImages,
// and Marshal and Unmarshal (options, geometry, history and the tensors of
// G_E, G_D and E; models saved before the options had option names load
// unchanged, the stored JSON keys being the same).
type Detector struct {
	dcgan.Detector[Options]
}

// New returns an unfitted GANomaly detector; Fit validates the options.
func New(o Options) *Detector { return &Detector{dcgan.NewDetector(Method, o, build)} }

// MinMax returns the scores scaled to [0, 1] by their minimum and maximum
// (all zeros when they are equal). It is for reports and plots only: models
// store and return raw scores.
func MinMax(scores []float64) []float64 {
	if len(scores) == 0 {
		return nil
	}
	lo, hi := scores[0], scores[0]
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	out := make([]float64, len(scores))
	if hi > lo {
		for i, s := range scores {
			out[i] = (s - lo) / (hi - lo)
		}
	}
	return out
}

// Interfaces the detector implements.
var (
	_ detector.Detector      = (*Detector)(nil)
	_ detector.Embedder      = (*Detector)(nil)
	_ detector.Reconstructor = (*Detector)(nil)
)
