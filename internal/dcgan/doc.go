// Package dcgan holds what GANomaly (package ganomaly) and its
// convolutional-autoencoder baseline (package cae) share: the DCGAN encoder
// and decoder with their initialisation, the preprocessing that brings
// images to the networks' side, the training loop with its validation
// split and epoch selection, the scoring, reconstruction, embedding and
// saving of a trained network, the options both methods have (Settings,
// with their defaults and validation), and the detector itself
// (Detector, which each method's Detector embeds).
//
// The specification is docs/methods.md §1. Each method's package owns its
// own options (embedding Settings), its networks with their training step
// and score (a Net, made by its Build function) and its registration; this
// package drives them. Package dcgantest holds the checks both methods'
// tests run.
package dcgan
