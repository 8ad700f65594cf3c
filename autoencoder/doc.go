// Package autoencoder is the plain dense autoencoder baseline
// (docs/methods.md §4: "a plain autoencoder scored by its reconstruction
// error"): a fully connected encoder and mirrored decoder trained to
// reconstruct the training data. Samples are flattened to rows and used as
// given (scale them first; the evaluation protocols min-max scale tabular
// data).
//
// # The method in the code
//
//   - The network x̂ = g(f(x)): build (network.go). The encoder f is a
//     Linear layer to each width of Options.Hidden with a ReLU between
//     each pair, ending at the bottleneck code; the decoder g mirrors it,
//     a ReLU before each of its Linear layers, the last one linear back
//     to the d input values. The default widths are [min(64, max(2, d)),
//     min(32, max(1, d/2))].
//   - Training minimises the mean squared error mean((x − x̂)²) over
//     shuffled minibatches with Adam: train (train.go), for Options.Epochs
//     epochs, raised on small data sets until training takes
//     Options.MinSteps steps (default 2,000).
//   - The anomaly score of a sample is its mean squared reconstruction
//     error (1/d)·Σⱼ(xⱼ − x̂ⱼ)²: Detector.Score.
//   - The bottleneck code f(x): Detector.Embed (detector.Embedder); the
//     reconstruction x̂: Detector.Reconstruct (detector.Reconstructor).
//   - Explanations: Detector.Explain (detector.Explainer, Technique
//     "reconstruction"; explain.go) gives each feature its share of the
//     score, (xⱼ − x̂ⱼ)²/d, so the attributions add up to the score
//     exactly (Offset 0).
//
// # Files
//
// options.go holds Options; detector.go the Detector (detector.Detector:
// Fit, Score, Marshal, Unmarshal, and the capabilities) registered as
// "autoencoder"; explain.go its explanations; network.go the network;
// train.go its training.
package autoencoder
