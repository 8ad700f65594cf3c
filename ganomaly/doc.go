// Package ganomaly implements GANomaly (Akcay, Atapour-Abarghouei and
// Breckon, "GANomaly: Semi-Supervised Anomaly Detection via Adversarial
// Training", ACCV 2018), specified in docs/methods.md §1.
//
// It owns GANomaly's networks, their training step and score, its loss
// weights and discriminator reset (Options), and its registration with
// package detector as "ganomaly". The DCGAN encoder and decoder, the input
// preprocessing, the training loop with its validation split and epoch
// selection, the options other than those (dcgan.Settings, embedded in
// Options) and the detector itself (dcgan.Detector, embedded in Detector:
// Fit, Score, Embed, Reconstruct, Marshal, ...) are shared with the
// convolutional-autoencoder baseline (package cae) through the internal
// package internal/dcgan. The networks are built from the project's own
// engine (packages tensor, nn, optim) because the project has no
// dependency on a deep-learning framework.
//
// # Paper to code
//
//	Paper / reference code                       Here
//	-------------------------------------------  ------------------------------------------
//	generator encoder G_E (DCGAN encoder)        Networks.GE, NewEncoder
//	generator decoder G_D (DCGAN decoder)        Networks.GD, NewDecoder
//	second encoder E (G_E's architecture)        Networks.E2 (own weights)
//	discriminator D, features f(.) = 4w×4×4      Networks.D (an Encoder with nz = 1):
//	  activations before the last conv             D.Features is f(.), D.Final the logit
//	sigmoid + BCELoss                            BCEWithLogits on the logit (same value,
//	                                               numerically stable)
//	weights_init: conv N(0, .02),                dcgan.Init (NewNetworks, ReinitD)
//	  BatchNorm γ N(1, .02), β 0
//	L_adv = ||f(x) - f(G(x))||²  (mean)          TrainStep: MSELoss(f(x'), f(x)), x' = G(x)
//	L_con = ||x - G(x)||₁  (mean)                TrainStep: L1Loss(x', x)
//	L_enc = ||G_E(x) - E(G(x))||²  (mean)        TrainStep: MSELoss(E(x'), G_E(x))
//	L_G = w_adv L_adv + w_con L_con + w_enc L_enc Options.WAdv, WCon, WEnc (1, 50, 1)
//	L_D = ½(BCE(D(x),1) + BCE(D(x'.detach),0))   TrainStep, second half
//	reinit_d when L_D < 1e-5                     Options.ReinitBelow, Networks.ReinitD
//	Adam(lr 2e-4, β (0.5, 0.999)), batch 64,     Options.LR, Beta1, Beta2, BatchSize,
//	  15 epochs, drop_last loader                  Epochs (PaperOptions); the loop
//	                                               (dcgan.Train) drops the last short
//	                                               batch
//	nz = 100, ngf = ndf = 64                     Options.NZ, Options.Width
//	isize 32 (other 4·2^k: extra pyramid         Options.Side, ValidSide; other sides
//	  blocks; others loop forever there)           are refused with an error
//	inputs normalised to [-1, 1]                 dcgan.Geometry.Fill: v ∈ [0,1] → 2v − 1
//	MNIST transforms.Resize(32)                  FitPad by default (28×28 centred on a
//	                                               32×32 black canvas, lossless);
//	                                               FitResize resamples bilinearly instead
//	A(x) = mean((G_E(x) − E(G(x)))²)             Networks.Score, Detector.Score (raw;
//	                                               dcgan.Detector.Score)
//	min-max scaling of A over the test set       reports only (MinMax); never stored
//
// # Where this departs from the reference code, and why
//
//   - Scoring uses BatchNorm in inference mode (running statistics); the
//     reference code leaves BatchNorm in training mode at test time, which
//     makes an image's score depend on its batch and inflates AUC.
//   - No epoch or model is selected on the test set. The reference code keeps
//     the epoch with the best test AUC. Here Options.ValFraction of the
//     normal training images is held out; Options.Select = SelectVal keeps
//     the epoch with the lowest validation generator loss (networks in
//     inference mode), SelectLast the last epoch. The test split is scored
//     once, after Fit.
//   - The discriminator's parameters are frozen during the generator's
//     update (their gradients from L_G would be discarded anyway).
//
// # Anomaly maps
//
// Detector is a detector.Localizer: Localize returns, per image, the
// generator's residual |x − G(x)| averaged over channels, with the padding
// cropped off (or the resizing undone) so the map has the input's H×W, and
// smoothed by a Gaussian of dcgan.DefaultSigma = 2 pixels; LocalizeSigma
// takes another smoothing (0: none). The map comes from G(x) alone, so it
// costs less than Score, which also runs the second encoder. On planted
// MNIST defects its pixel AUROC is 0.89 (normal digit 0) and 0.93 (digit
// 1) with the CPU schedule (docs/methods.md §7).
//
// # Schedules
//
// PaperOptions is the paper's schedule. DefaultOptions (width 16, 4 epochs,
// a random 12,000 training images, validation included) is the reduced
// schedule `oddity train ganomaly` and the benchmark suite run on CPUs;
// results obtained with it are labelled as such (timings: see
// docs/results).
package ganomaly
