// Package deepcluster owns deep clustering: the DCEC convolutional
// autoencoder, its pretraining, k-means initialisation of the centroids, the
// Student's t clustering layer, fine-tuning with a clustering loss plus the
// reconstruction loss, the final assignments, and the use of the clustering
// as an anomaly detector (registered with package detector as "deepcluster").
//
// # The parts, after Aljalbout et al.'s taxonomy
//
// A method is four independent parts (METHODS.md §3), each an interface here
// so a new combination is a few lines of a Trainer literal:
//
//	network             Network          *Autoencoder (DCEC layout)
//	clustering loss     ClusterLoss      *KLHardening (default), *KMeansLoss (DCN)
//	combination         Combination      Gamma (default 0.1), AlphaRamp (the seed's a·Lc + (1-a)·L_AE)
//	final clustering    FinalClustering  ArgmaxQ (default), KMeansRerun
//
// Config names the defaults by string (so they are saved with a model);
// setting Trainer.Net, .Loss, .Combination or .Final replaces one part.
//
// # Paper to code
//
//	DCEC conv autoencoder, Conv 32-64-128 (k5 s2, k5 s2, k3 s2),
//	  Dense(10), mirrored decoder; 'valid' third conv unless side%8 == 0   NewAutoencoder (network.go)
//	Phase 1: L_AE = mean ||x - x'||², Adam lr 1e-3, batch 256, 200 epochs  pretrain (train.go), Config.PretrainEpochs/LR/BatchSize
//	k-means on z, best of 20 k-means++ runs                                Trainer.Fit → kmeans.Fit, Config.KMeansInit
//	q_ij = (1 + ||z_i-mu_j||²/α)^(-(α+1)/2) / Σ_j', α = 1, trainable mu   SoftAssign (layer.go; fused op, its own backward)
//	p_ij = (q_ij²/f_j) / Σ_j'(q_ij'²/f_j'), f_j = Σ_i q_ij, every T = 140  TargetDistribution, ClusterLoss.Refresh, Config.UpdateInterval
//	L = γ KL(P‖Q) + L_AE, γ = 0.1 (DCEC)                                  KLHardening.Batch (tensor.Tape.KLDiv, batchmean) + Gamma
//	L = a L_cluster + (1-a) L_AE, a rising (seed document)                 AlphaRamp, Config.Schedule = "alpha"
//	DCN k-means loss Σ r_ij ||z_i - mu_j||², online centroid update        KMeansLoss
//	stop when < 0.1% of assignments change between updates, or 20,000 steps   finetune, Config.Tol/MaxSteps
//	final assignments argmax_j q_ij, or k-means re-run on z                ArgmaxQ, KMeansRerun, Config.Final
//	anomaly score: distance to the nearest centroid, or 1 - max_j q_ij     Model.Score, Config.Score
//
// Details the papers leave open, as chosen here: batches are drawn from a
// seeded permutation of the data, renewed after each pass (DCEC's Keras code
// walks the data in order, which would feed class-sorted COIL-20 one class
// at a time); the KL term is averaged over the batch and L_AE over every
// pixel, as Keras' "kld" and "mse" losses are; fine-tuning uses a fresh Adam
// (lr 1e-3) over the network and the centroids.
//
// # Why by hand
//
// The clustering layer is one fused operation (SoftAssign) with its gradient
// written out, checked against finite differences in the tests, rather than a
// composition of a dozen tape operations: it keeps the n×k×d work in one
// loop and the maths in one place. Everything else composes the project's
// engine (tensor, nn, optim) and kmeans; there is no Go library for DEC/DCEC.
package deepcluster
