// Package lof is the Local Outlier Factor detector (Breunig, Kriegel, Ng
// and Sander, "LOF: identifying density-based local outliers", SIGMOD
// 2000; docs/methods.md §6.2) with novelty scoring of new samples exactly
// as scikit-learn's LocalOutlierFactor(novelty=True) defines it.
//
// # The paper in the code
//
// Definitions 3 and 4, the k-distance of a point and its k-distance
// neighbourhood: Fit (detector.go) finds each training row's k nearest
// other rows with an exact index (package neighbors) and keeps its
// distance to the k-th, kdist. Like scikit-learn it takes exactly k
// neighbours, ties at the k-th distance broken by the lower row, where
// the paper would take every tied row.
//
// Definition 5, the reachability distance reach-dist_k(p, o) =
// max(k-distance(o), d(p, o)), and Definition 6, the local reachability
// density lrd(p) = 1 / mean over p's neighbours o of reach-dist(p, o):
// density. As scikit-learn, 1e-10 is added to the mean before inverting
// it (lrdEps), so a row with k or more duplicates (mean 0) has density
// 1e10 instead of an infinite one.
//
// Definition 7, LOF(p) = mean over p's neighbours o of lrd(o) / lrd(p):
// factor. Fit computes it for every training row, each left out of its own
// neighbourhood (TrainScores: scikit-learn's −negative_outlier_factor_).
//
// Novelty scoring, Score: a new sample's k nearest training rows give its
// reachability distances (with the training rows' k-distances) and its
// density; its score is its LOF against the training rows' densities,
// which new samples never change. This is −score_samples(X) of
// scikit-learn's LocalOutlierFactor(novelty=True): higher is more
// anomalous, about 1 inside a cluster. A sample equal to a training row
// finds that row at distance 0, as score_samples does when given training
// data, so Score on the training rows differs from TrainScores.
//
// Constant features add nothing to any distance and change nothing. When
// all training rows are identical every density is 1e10; a new sample at
// distance r from them scores 1e10·(r + 1e-10), 1 for the row itself, as
// scikit-learn's does. k = 20 by default; Fit refuses k ≥ n with an error
// naming both. LOF has no natural exact per-feature decomposition, so
// the detector does not implement detector.Explainer; package explain's
// Shapley estimate applies.
//
// # Files
//
// options.go holds Options and their defaults; detector.go the Detector
// (detector.Detector: Fit, Score, Marshal, Unmarshal) registered as "lof".
// The model stores the training rows (4·n·d bytes) and three float64
// values a row (24·n bytes); the index is rebuilt when it is loaded.
package lof
