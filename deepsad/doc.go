// Package deepsad implements Deep SAD (Ruff, Vandermeulen, Görnitz,
// Binder, Müller, Müller and Kloft, "Deep Semi-Supervised Anomaly
// Detection", ICLR 2020) for tables, specified in docs/methods.md §4: a
// weakly supervised detector that maps rows close to a centre c and pushes
// labelled anomalies away from it. Without labelled anomalies it is Deep
// SVDD (Ruff et al., ICML 2018).
//
// # From the paper to the code
//
//   - The network φ(·; W) without bias terms (a bias would let φ map every
//     row onto c): d → Hidden… → Rep, LeakyReLU(0.01) between layers, as
//     the official code's "*_mlp" networks for cardio, satellite, shuttle
//     and thyroid (d → 32 → 16 → 8): widths, newEncoder,
//     Detector.encode.
//   - Autoencoder pretraining, whose encoder initialises φ: a mirror
//     decoder (newDecoder) with a sigmoid output, mean squared reconstruction error,
//     AEEpochs epochs: Detector.pretrain.
//   - The centre c, the mean of φ over every training row after
//     pretraining, with coordinates closer to 0 than 0.1 pushed to ±0.1 as
//     the official code does: Detector.setCentre.
//   - The objective (Eq. 4) with η = Eta and ỹ = −1 for the labelled
//     anomalies: per minibatch, the mean over its unlabelled rows of
//     ‖φ(x) − c‖² plus η times the mean over its labelled anomalies of
//     (‖φ(x) − c‖² + 1e-6)⁻¹ (the 1e-6 as the official code's eps), with
//     its gradient written by hand: Detector.sadLoss. The weight penalty (λ/2)·Σ‖W‖² is Adam's
//     weight decay (WeightDecay 1e-6), as in the official code.
//   - Optimisation: Adam (LR 0.001) over shuffled minibatches of BatchSize
//     rows of the union of the unlabelled rows and the labelled anomalies,
//     Epochs epochs: Detector.train.
//   - The anomaly score ‖φ(x) − c‖²: [Detector.Score]; φ(x) itself is the
//     latent code [Detector.Embed] returns.
//
// Departures from the paper and the official code. Eq. 4 (and the official
// code's mean over the batch) divides both sums by the number of rows in
// the batch; this code, like the formula of docs/methods.md §4, averages
// each term over its own rows, so a batch with few labelled anomalies
// weighs them more. The official MLP has BatchNorm1d(affine=False) after
// each hidden layer; this one has none, which keeps scoring a pure
// function of one row. MaxBatches caps the batches of an epoch on large
// data sets; 0 (the default) runs full epochs.
//
// The networks run on the tensor package's tape; the per-batch work is
// large enough that the tape's overhead does not matter.
//
// # Explanations
//
// [Detector.Explain] (detector.Explainer) attributes the score
// ‖φ(x) − c‖² to the features by integrated gradients (Sundararajan, Taly
// and Yan, ICML 2017; docs/methods.md §7), through
// explain.IntegratedGradients. The baseline is typical normal data: the
// per-feature median of the background rows the caller passes (a sample of
// the training rows, which the model file does not hold). Each
// attribution is the feature's share of score(x) − score(baseline),
// positive when it moves the sample away from c, and Offset is the
// baseline's score, so a row's attributions plus its offset give its score
// to within 1%. The gradient with respect to the input is written by hand
// (Detector.gradFunc): the forward pass uses the kernels Score's tape
// calls, and the backward pass runs 2(φ(x) − c) back through each layer
// and LeakyReLU. The tape is not used for it because its backward pass
// accumulates into the weights' gradients, which concurrent Explain calls
// share.
package deepsad
