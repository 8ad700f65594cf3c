// Package dcgan holds what GANomaly (package ganomaly) and its
// convolutional-autoencoder baseline (package cae) share: the DCGAN encoder
// and decoder with their initialisation, the preprocessing that brings
// images to the networks' side, and the training loop with its validation
// split and epoch selection, together with the scoring, reconstruction,
// embedding and saving of a trained network.
//
// The specification is docs/methods.md §1. Each method's package owns its
// options, its networks' training step and its score; this package drives
// them through the Net interface.
package dcgan
