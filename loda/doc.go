// Package loda is LODA, the lightweight on-line detector of anomalies
// (Pevný, "Loda: Lightweight on-line detector of anomalies", Machine
// Learning 102(2), 2016; docs/methods.md §6.7), with PyOD's defaults
// (100 projections, 10 bins).
//
// # The paper in the code
//
// Algorithm 1 (training): k = Options.Projections sparse random
// projections w_i, each with ⌊√d⌋ (at least one) non-zero entries at
// features drawn uniformly without replacement, weights from N(0, 1)
// (Ensemble.draw, loda.go); for each, a one-dimensional histogram p̂_i of
// the training data projected on it, x^T w_i (Ensemble.fitHistogram).
//
// The score Algorithm 2 evaluates, f(x) = −(1/k) Σ_i log p̂_i(x^T w_i),
// the mean negated log density over the projections: Ensemble.Score.
//
// Where the paper leaves details open, PyOD's choices: equal-width bins
// over the projected training range (numpy.histogram's edges, widened to
// ±0.5 around a single value), 1e-12 added to every bin's count before
// normalising (an empty bin then costs about 27.6 + log n nats rather than
// an infinite score), and a projected value outside the range takes the
// edge bin. So the score saturates far from the training data: a point
// 10^4 or 10^5 standard deviations out scores the same. Unlike PyOD,
// densities (probability / bin width) enter the logarithm, as f(x) says
// (PyOD takes probabilities; the two differ by a constant per model, so
// they rank samples alike), and a value on an inner edge is looked up in
// the bin it was counted in.
//
// # Randomness
//
// Projection t draws from its own PCG source seeded from (Options.Seed,
// t) through splitmix64 (as Isolation Forest's trees do), so an ensemble,
// and its scores, are bit for bit the same for a seed whatever the number
// of workers. Projections sum their features in
// ascending order, in float64.
//
// # Bad input, cost
//
// A constant feature, identical rows and a single row fit (a constant
// projection gets numpy's ±0.5 range); a projection whose range is too
// narrow at float64 precision for its bins is refused with
// detector.ErrInput. Fit costs O(n·k·√d), Score O(m·k·√d); the model holds
// k·(2√d + 2·bins + 1) numbers (at most 2^26 histogram cells).
//
// LODA's explanation of an anomaly (the paper's one-sided test, for each
// feature, between the terms of the projections that use it and of those
// that do not) is not implemented, nor is the on-line updating of the
// histograms.
//
// scripts/reference/loda.py is the NumPy reference written from the
// paper; ODDITY_PARITY=1 go test -run Parity -v ./loda/ compares mean
// AUC-ROC over ten seeds on the ADBench files.
package loda
