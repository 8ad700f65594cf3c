// Package devnet implements DevNet (Pang, Shen and van den Hengel, "Deep
// Anomaly Detection with Deviation Networks", KDD 2019), a weakly
// supervised detector for tables, specified in docs/methods.md §4: it
// learns from unlabelled rows (taken as normal) and a few labelled
// anomalies, and scores a row by the network's output.
//
// # From the paper to the code
//
//   - Anomaly scoring network φ(x; Θ): d → Dense(Hidden) + ReLU → Dense(1),
//     Keras's default initialisation (Glorot-uniform weights, zero biases):
//     Detector.initParams, with the forward pass in Detector.hidden and
//     the output layer in Detector.lossGrad and [Detector.Score].
//   - Reference scores: RefSize draws r₁ … r_l from the prior N(0, 1), drawn
//     once per Fit as the official code's K.variable, summarised by their
//     mean μ_R and standard deviation σ_R: referenceScores.
//   - Deviation dev(x) = (φ(x) − μ_R) / σ_R and the deviation loss
//     L = (1 − y)·|dev(x)| + y·max(0, a − dev(x)) with margin a = Margin = 5,
//     y = 1 for a labelled anomaly and 0 for an unlabelled row, averaged
//     over the batch, plus the L2 penalty L2·ΣW² on the hidden layer's
//     weights (Keras kernel_regularizer=l2(0.01)): the loss and its
//     gradient, written by hand, in Detector.lossGrad.
//   - Algorithm 1's stratified batches: each batch of BatchSize rows
//     alternates an unlabelled row and a labelled anomaly, both drawn at
//     random with replacement: fillBatch; Epochs × BatchesPerEpoch
//     batches (50 × 20 of 512): [Detector.Fit].
//   - Optimiser: RMSprop (LR 0.001, Rho 0.9, Eps 1e-7) with the gradient
//     rescaled to global norm ClipNorm = 1 by optim.ClipGradNormKeras:
//     [Detector.Fit]. docs/methods.md §4 quotes the paper's "gradient
//     clipping at 0.001"; the official devnet.py passes lr=0.001 and
//     clipnorm=1, which is what the defaults follow.
//   - Anomaly score: φ(x) itself, larger meaning more anomalous:
//     [Detector.Score].
//
// The two-layer network's forward and backward passes are written with
// kernels.Sgemm on reused buffers (no tape): at this size the tape's
// per-operation allocations would dominate. The parameters stay
// tensor.Tensor values so optim and the model file handle them.
//
// # Explanations
//
// [Detector.Explain] (detector.Explainer) attributes φ(x) to the features
// by integrated gradients (Sundararajan, Taly and Yan, ICML 2017;
// docs/methods.md §7), through explain.IntegratedGradients. The baseline
// is typical normal data: the per-feature median of the background rows
// the caller passes (a sample of the training rows, which the model file
// does not hold). Each attribution is the feature's share of
// φ(x) − φ(baseline), positive when it pushes the sample towards
// anomalous, and Offset is φ(baseline), so a row's attributions plus its
// offset give its score to within 1%. The gradient with respect to the
// input, W1ᵀ·(w2 ⊙ 1[W1·x + b1 > 0]), is written by hand beside the
// forward pass that Score runs (Detector.gradFunc), the path points of
// many samples in one batch.
//
// DevNet needs at least one labelled anomaly: without one its loss has no
// term that separates anomalies, and Fit returns an error wrapping
// detector.ErrInput.
package devnet
