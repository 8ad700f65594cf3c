// Package deepcluster owns deep clustering: the DCEC convolutional
// autoencoder, its pretraining, k-means initialisation of the centroids, the
// Student's t clustering layer, fine-tuning with a clustering loss plus the
// reconstruction loss, the final assignments, and the use of the clustering
// as an anomaly detector (registered with package detector as "deepcluster",
// of kind unsupervised, images). The method is specified in docs/methods.md
// §3.
//
// The papers: DEC (Xie, Girshick and Farhadi, ICML 2016), IDEC (Guo, Gao,
// Liu and Yin, IJCAI 2017), DCEC (Guo, Liu, Zhu and Yin, ICONIP 2017), DCN
// (Yang, Fu, Sidiropoulos and Hong, ICML 2017), and the taxonomy of
// Aljalbout, Golkov, Siddiqui, Strobel and Cremers (arXiv:1801.07648, 2018).
//
// # Use
//
//	d := deepcluster.New(deepcluster.DefaultOptions()) // k = 10, DCEC's settings
//	err := d.Fit(ctx, detector.TrainSet{X: images, Progress: report})
//	scores, err := d.Score(ctx, test)            // distance of z to the nearest centroid
//	z, dim, err := d.Embed(ctx, test)            // detector.Embedder
//	in, out, err := d.Reconstruct(ctx, test)     // detector.Reconstructor
//
// Trainer runs the same training with any part replaced and returns the
// clustering itself (Result: assignments, history, timings). Neither prints:
// progress goes to TrainSet.Progress or Trainer.Progress, phases "pretrain"
// (once per epoch, with the mean reconstruction loss) and "finetune" (at
// every target update, with the loss and the fraction of changed
// assignments, "delta").
//
// # The parts, after Aljalbout et al.'s taxonomy
//
// A method is four independent parts (docs/methods.md §3), each an
// interface here so a new combination is a few lines of a Trainer literal:
//
//	network             Network          *Autoencoder (DCEC layout)
//	clustering loss     ClusterLoss      *KLHardening (default; DEC, IDEC, DCEC), *KMeansLoss (DCN)
//	combination         Combination      Gamma (default 0.1; IDEC, DCEC), AlphaRamp (the seed's a·Lc + (1-a)·L_AE)
//	final clustering    FinalClustering  ArgmaxQ (default), KMeansRerun
//
// Options names the defaults by string (so they are saved with a model);
// setting Trainer.Net, .Loss, .Combination or .Final replaces one part.
//
// # Paper to code
//
//	DCEC conv autoencoder, Conv 32-64-128 (k5 s2, k5 s2, k3 s2),
//	  Dense(10), mirrored decoder; 'valid' third conv unless side%8 == 0   NewAutoencoder (network.go)
//	Phase 1 (DEC/DCEC pretraining): L_AE = mean ||x - x'||², Adam          pretrain (train.go); Options.PretrainEpochs, LR, BatchSize
//	DEC initialisation: k-means on z, best of KMeansInit k-means++ runs    Trainer.Fit → kmeans.Fit; Options.KMeansInit
//	DEC eq. 1, soft assignment (Student's t, trainable mu):
//	  q_ij = (1 + ||z_i-mu_j||²/α)^(-(α+1)/2) / Σ_j' (same)               SoftAssign (layer.go; fused op, its own backward); Options.Alpha
//	DEC eq. 3, target distribution:
//	  p_ij = (q_ij²/f_j) / Σ_j'(q_ij'²/f_j'), f_j = Σ_i q_ij               TargetDistribution (layer.go)
//	  recomputed every T steps (IDEC/DCEC)                                 ClusterLoss.Refresh; Options.UpdateInterval
//	DEC eq. 2, clustering loss L_c = KL(P‖Q)                               KLHardening.Batch (tensor.Tape.KLDiv, batchmean)
//	IDEC/DCEC objective L = L_AE + γ L_c                                   Gamma; Options.Gamma, Options.Schedule = "gamma"
//	L = a L_c + (1-a) L_AE, a rising (the report this project started from)   AlphaRamp; Options.Schedule = "alpha", AlphaFrom/To/Steps
//	DCN k-means loss Σ_i Σ_j r_ij ||z_i - mu_j||², online centroid update  KMeansLoss; Options.Loss = "kmeans"
//	DEC/DCEC stopping: fewer than tol of the assignments change between
//	  target updates, or MaxSteps steps                                    finetune (train.go); Options.Tol, MaxSteps
//	final assignments argmax_j q_ij (DEC), or k-means re-run on z          ArgmaxQ, KMeansRerun; Options.Final
//	anomaly score (docs/methods.md §3): distance to the nearest
//	  centroid, or 1 - max_j q_ij                                          Model.Score, Detector.Score; Options.Score
//	  or LOF of the encoder's last hidden layer (unit length, 64
//	  principal axes) among the training images' (beyond the papers)      FeatureLOF (features.go); Options.Score = "lof"
//
// Details the papers leave open, as chosen here: batches are drawn from a
// seeded permutation of the data, renewed after each pass (DCEC's Keras code
// walks the data in order, which would feed class-sorted COIL-20 one class
// at a time); the KL term is averaged over the batch and L_AE over every
// pixel, as Keras' "kld" and "mse" losses are; fine-tuning uses a fresh Adam
// (Options.FinetuneLR) over the network and the centroids.
//
// # Beyond the papers: augmentation, self-expression, manifold
//
// Three modes go past DCEC for users who want the best clustering; each is
// off by default, and its options print nothing while off, so the
// paper-faithful runs and their recorded settings are unchanged
// (docs/methods.md §3).
//
//	DEC-DA (Guo, Zhu, Liu and Yin, ACML 2018): train on random copies,
//	  shifts ±10% of the side, rotations ±10°, both phases; targets,
//	  assignments and scores from the images as given                   augmenter (augment.go); Options.Augment, AugmentShift, AugmentRotate, AugmentFlip
//	DSC-Net (Ji, Zhang, Li, Salzmann and Reid, NeurIPS 2017):
//	  one-layer conv autoencoder (15 filters k3 s2 for COIL-20)         ShallowAE (selfexpr.go); Options.SEChannels
//	  self-expressive layer Z ≈ CZ, diag(C) = 0, trained jointly on
//	  L = ||X − X'||² + λ1||C||² + λ2||Z − CZ||², X' = decode(CZ)         selfExpress; Options.SESteps, SELR, SEReg, SEWeight
//	  affinity: keep each column's largest coefficients, (C + Cᵀ)/2 + I,
//	  leading K·d + 1 eigenvectors, (UUᵀ)₊ to a power                   dscAffinity; Options.SEKeep, SEDim, SEPower, SENoIdentity
//	  spectral clustering (normalised Laplacian, k-means on the rows)  package spectral
//	  anomaly score: distance of the code to the nearest cluster mean
//	  (the centroids are the clusters' mean codes)                     fitSelfExpressive, Model.Score
//	N2D (McConville, Santos-Rodriguez, Piechocki and Craddock, ICPR 2020):
//	  pretrain the autoencoder (with augmentation when set), lay the
//	  codes out by UMAP (20 neighbours, minimum distance 0, K dims),
//	  k-means on the layout; no clustering loss                        clusterManifold (manifold.go), package umap; Options.Manifold, ManifoldNeighbors, ManifoldDim
//	  new images: nearest cluster mean code; anomaly score as above    Model.Assign, Model.Score
//
// Augmentation draws from its own random stream, so the plain mode draws
// the numbers it always drew. The self-expressive mode holds an n×n matrix
// and trains on all images at once, so it refuses more than
// MaxSelfExpressive images.
//
// # Anomaly maps
//
// Detector is a detector.Localizer. LocalizeBy offers two maps: the
// autoencoder's reconstruction residual |x − x'| (MapResidual) and the
// magnitude of the score's gradient with respect to the input, |∂s/∂x|
// (MapGradient, through the engine's tape on a frozen copy of the
// network), both averaged over channels and smoothed by a Gaussian of
// DefaultSigma = 2 pixels. On planted MNIST defects the residual won by a
// wide margin (pixel AUROC 0.92 and 0.93 against 0.65 and 0.77, normal
// digits 0 and 1; docs/methods.md §7), so Localize draws it.
//
// # Why by hand
//
// The clustering layer is one fused operation (SoftAssign) with its gradient
// written out, checked against finite differences in the tests, rather than a
// composition of a dozen tape operations: it keeps the n×k×d work in one
// loop and the maths in one place. Everything else composes the project's
// engine (tensor, nn, optim) and kmeans; there is no Go library for DEC/DCEC.
package deepcluster
