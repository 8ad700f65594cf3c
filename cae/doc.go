// Package cae implements the convolutional-autoencoder baseline of
// GANomaly (method "cae"): GANomaly's generator alone, trained with the
// reconstruction loss only, and scored by each image's reconstruction
// error. It is the "plain autoencoder scored by its reconstruction error"
// of docs/methods.md §4, built from the networks of §1 so that it has the
// same size as GANomaly's generator and runs on the same schedule: the
// comparison isolates what GANomaly's second encoder and adversarial
// training add.
//
// The networks, the image preprocessing, the training loop (validation
// split, epoch selection), the options other than the loss, and the
// detector (Fit, Score, Embed, Reconstruct, Marshal, ...) are GANomaly's,
// shared through the internal package internal/dcgan (Settings, Detector);
// this package holds the autoencoder's networks with their training step
// and score, its Loss option, and its registration.
//
// # Method to code
//
//	Method (docs/methods.md)                     Here
//	-------------------------------------------  ------------------------------------------
//	networks for the data's geometry             build (called by dcgan.Detector.Fit)
//	encoder G_E (DCGAN encoder, §1)              dcgan.NewEncoder (newAutoencoder)
//	decoder G_D (DCGAN decoder, §1)              dcgan.NewDecoder (newAutoencoder)
//	weights_init: conv N(0, .02),                dcgan.Init
//	  BatchNorm γ N(1, .02), β 0
//	inputs in [-1, 1], padded or resized to S    dcgan.Geometry.Fill; Options.Side, FitMode
//	x' = G_D(G_E(x))                             autoencoder.Reconstruct
//	loss mean((x - x')²)  (or mean|x - x'|)      autoencoder.Step; Options.Loss "l2" ("l1")
//	Adam(lr 2e-4, β (0.5, 0.999)), batch 64      Options.LR, Beta1, Beta2, BatchSize
//	no epoch chosen on test data (§1, §5)        dcgan.Train: Options.ValFraction held out,
//	                                               Options.Select "val" keeps the epoch of
//	                                               lowest validation reconstruction loss
//	score: reconstruction error per image,       autoencoder.Score (BatchNorm in inference
//	  mean over its values (§4)                    mode), Detector.Score (raw;
//	                                               dcgan.Detector.Score)
//
// # Anomaly maps
//
// Detector is a detector.Localizer, as GANomaly's (internal/dcgan): the
// residual |x − x'| averaged over channels, brought back to the input's
// H×W and smoothed by a Gaussian of 2 pixels (LocalizeSigma for another
// smoothing). It costs what Score costs: one pass through the autoencoder
// (docs/methods.md §7).
//
// # Schedules
//
// DefaultOptions is the reduced CPU schedule `oddity train cae` and the
// benchmark suite run (width 16, 4 epochs, a random 12,000 training images,
// validation included), the same as GANomaly's; PaperOptions is GANomaly's
// paper schedule (width 64, 15 epochs, all images). Both take their
// Settings from dcgan.DefaultSettings and dcgan.PaperSettings.
package cae
