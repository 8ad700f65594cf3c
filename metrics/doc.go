// Package metrics owns the evaluation measures of the project: ranking
// measures for anomaly scores (AUC-ROC, average precision, ROC and
// precision-recall curves, precision/recall/F1 at a threshold and the best
// F1), clustering measures (ACC with the Hungarian algorithm, NMI, ARI), and
// mean/std summaries over seeds.
//
// Conventions: scores are float64 with higher = more anomalous; labels are
// ints with 1 = anomaly (positive) and 0 = normal. Bad input (empty, length
// mismatch, a label other than 0/1, a NaN or infinite score, a single class)
// returns an error wrapping one of the sentinel errors below, never NaN.
//
// The measures are written here by hand rather than taken from a library
// because the project reports numbers that must agree with scikit-learn's
// (roc_auc_score, average_precision_score, roc_curve, precision_recall_curve,
// normalized_mutual_info_score, adjusted_rand_score) to the last digits, and
// no Go library reproduces those definitions (tie handling, step-wise average
// precision, the degenerate cases of NMI and ARI). The package tests compare
// against fixtures generated once by scikit-learn 1.2.1
// (testdata/sklearn_fixtures.py) and against hand-worked cases.
//
// The Hungarian (Kuhn-Munkres) assignment used by ACC is a short O(n^3)
// implementation with integer costs, so the matched count is exact; gonum
// offers no assignment solver.
package metrics
