package experiments

import (
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/suite/results"
)

// How each method's defaults were chosen, for the report (issue #19,
// "honest defaults"): a default tuned by looking at results on the files
// the report shows overstates what a user sees on new data, so the report
// says which defaults were tuned, on what, and what they give out of sample.
func init() {
	suite.RegisterDefaults(
		results.Provenance{Method: "ganomaly", Source: "paper; budget",
			How: "The paper's networks, losses (weights 1, 50, 1) and Adam settings. The suite's CPU schedule (width 16, 4 epochs, 12,000 training images) was set by the time budget before any result was seen; the epoch kept is the one with the lowest generator loss on held-out normal training images, never on test labels."},
		results.Provenance{Method: "cae", Source: "paper; budget",
			How: "GANomaly's generator and schedule, unchanged; nothing tuned."},
		results.Provenance{Method: "dplan", Source: "tuned (checked out of sample)",
			How: "The paper's settings except the nearest/farthest subset, 3 instead of 1,000, chosen on UCI thyroid and the 21 ADBench files (tuning seeds apart from the seeds reported), so in sample. Redone with the files split in two (odd and even file numbers), choosing the subset from {1000, 10, 3, 1} by mean AUC-PR on one half and reporting it on the other, then swapping: the halves choose 3 and 1, and out of sample they give AUC-PR 0.663 and AUC-ROC 0.871, against 0.661 and 0.870 for the default on all files (the paper's 1,000: 0.452 and 0.734). The default stays 3. Command: oddity eval dplan --protocol adbench --data DIR --methods dplan --subset S --seeds 3 (docs/results/dplan-subset-out-of-sample.txt)."},
		results.Provenance{Method: "devnet", Source: "paper",
			How: "The paper's and its official code's settings (RMSprop 1e-3, clip norm 1, margin 5, 5,000 reference scores, L2 0.01); nothing tuned."},
		results.Provenance{Method: "deepsad", Source: "paper",
			How: "The official code's settings for tabular data; nothing tuned."},
		results.Provenance{Method: "deepcluster", Source: "paper; one disclosed choice",
			How: "DCEC's settings for the paper-faithful mode. The self-expressive mode's COIL-20 schedule (pretraining epochs, the identity on the affinity's diagonal) was chosen by looking at ACC on COIL-20 itself, so its COIL-20 figures are in sample."},
		results.Provenance{Method: "iforest", Source: "paper",
			How: "The paper's settings (100 trees of 256 samples), as scikit-learn's; nothing tuned."},
		results.Provenance{Method: "pca", Source: "fixed rule",
			How: "Half the features' worth of axes, set before any result; nothing tuned."},
		results.Provenance{Method: "autoencoder", Source: "fixed rule",
			How: "Widths min(64, d) and min(32, d/2), 50 epochs, Adam 1e-3, batch 128, set before any result; a floor of 2,000 Adam steps was added after seeing that 50 epochs of a 214-row table leave the network near its initialisation (a training check, not an AUC comparison)."},
		results.Provenance{Method: "knn", Source: "reference library", How: "PyOD's defaults (k = 5, distance to the k-th neighbour); nothing tuned."},
		results.Provenance{Method: "lof", Source: "reference library", How: "scikit-learn's defaults (k = 20, novelty scoring); nothing tuned."},
		results.Provenance{Method: "ecod", Source: "paper", How: "No setting to choose."},
		results.Provenance{Method: "copod", Source: "paper; reference library", How: "No setting to choose; the comparison runs PyOD's aggregation (aggregate = pyod), because the paper's formula gives ECOD's scores exactly."},
		results.Provenance{Method: "hbos", Source: "reference library", How: "PyOD's defaults (10 bins, alpha 0.1, tol 0.5); nothing tuned."},
		results.Provenance{Method: "ocsvm", Source: "reference library", How: "scikit-learn's defaults (RBF kernel, nu 0.5, gamma scale, tolerance 1e-3); above 10,000 training rows a seeded subsample, said in the model."},
		results.Provenance{Method: "loda", Source: "reference library", How: "PyOD's defaults (100 projections, 10 bins); nothing tuned."},
	)
}
