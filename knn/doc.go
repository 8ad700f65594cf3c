// Package knn is the k-nearest-neighbour distance detector (docs/methods.md
// §6.1) as PyOD's KNN defines it: a sample is as anomalous as it is far
// from the training data, measured by the Euclidean distance to its k-th
// nearest training row (Ramaswamy, Rastogi and Shim, "Efficient algorithms
// for mining outliers from large data sets", SIGMOD 2000), or by the mean
// (Angiulli and Pizzuti, "Fast outlier detection in high dimensional
// spaces", PKDD 2002) or median of the k distances.
//
// # The method in the code
//
// Fit (detector.go) copies the training rows and builds an exact
// neighbour index over them (package neighbors: a k-d tree for few
// features, blocked SGEMM distances beyond); it then scores every training
// row by its k nearest other rows, PyOD's decision_scores_ (TrainScores).
// Score searches the k nearest training rows of each sample, in chunks of
// scoreChunk rows, and reduces their distances (reduce): the largest
// (default), the mean or the median. A sample identical to a training row
// finds that row at distance 0, as a new sample does in PyOD's
// decision_function and scikit-learn's kneighbors(X).
//
// k = 5 by default (PyOD's n_neighbors). Fit refuses k ≥ n with an error
// that names both: a training row's own score needs k other rows.
//
// Constant features add nothing to any distance and change nothing. When
// all training rows are identical the training scores are all 0 and a new
// sample scores its distance to that row. There is no natural exact
// per-feature decomposition of a neighbour distance's rank among others,
// so the detector does not implement detector.Explainer; package explain's
// Shapley estimate applies.
//
// # Files
//
// options.go holds Options and their defaults; detector.go the Detector
// (detector.Detector: Fit, Score, Marshal, Unmarshal) registered as "knn".
// The model stores the training rows (4·n·d bytes) and the training
// scores (8·n bytes); the index is rebuilt when the model is loaded.
package knn
