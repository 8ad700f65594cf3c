// Package hbos is HBOS, the histogram-based outlier score (Goldstein and
// Dengel, "Histogram-based Outlier Score (HBOS): A fast Unsupervised
// Anomaly Detection Algorithm", KI-2012 Poster and Demo Track;
// docs/methods.md §6.5), with the static histograms and the defaults of
// PyOD's HBOS (10 bins, alpha 0.1, tol 0.5).
//
// # The paper in the code
//
// Section 3, one histogram per feature, the features taken as
// independent: Fit (hbos.go) builds static histograms, Options.Bins bins
// of equal width over each feature's training range. The paper's second
// kind, dynamic bin widths, is not implemented (nor is it in PyOD).
//
// The score, HBOS(p) = Σ_i log(1/hist_i(p)), the negated log of the
// product of the features' bin heights: Histograms.Score, as
// −Σ_j log2(density_j + alpha).
//
// Where the paper leaves details open, PyOD's choices (as its HBOS reads
// today), so that oddity's HBOS and PyOD's compute the same scores:
//
//   - A bin's height is its density, count/(width·n), as numpy.histogram
//     with density=True computes it. The paper scales each histogram to a
//     maximum height of 1 instead (so that every feature weighs alike);
//     with densities, a feature with a narrow range weighs more, which
//     min-max scaling (ADBench's protocol) evens out.
//   - Logarithms are base 2, and alpha (Options.Alpha) is added to every
//     density first, so that an empty bin scores a finite −log2(alpha).
//   - The edges are numpy.linspace's, to the last bit; a value on an inner
//     edge counts in the bin above it, the training maximum in the last
//     bin; a constant feature's range is widened to ±0.5 around its value.
//   - A value outside the training range by at most Options.Tol bin
//     widths counts in the edge bin; one further out scores as the
//     feature's least dense bin (−log2(alpha) when a bin is empty).
//
// # Explanations
//
// The score is a sum of per-feature terms, so Explain returns them
// exactly, adding up to the score, Offset 0. A term is negative where the
// value lies in a bin denser than 1 − alpha.
//
// # Bad input, cost
//
// A constant feature, identical rows and a single row fit (numpy's ±0.5
// rule); a feature whose range is too narrow, at float64 precision, for
// its bins to have positive widths (a constant beyond 2^53 in magnitude,
// say) is refused with detector.ErrInput rather than scored as infinite.
// Fit makes two passes over the data, Score one; the model is 24 bytes per
// bin and feature (at most 2^26 cells).
//
// scripts/reference/hbos.py is the NumPy reference; ODDITY_PARITY=1 go
// test -run Parity -v ./hbos/ compares the two on the ADBench files.
package hbos
