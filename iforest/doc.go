// Package iforest is the Isolation Forest detector (Liu, Ting and Zhou,
// "Isolation Forest", ICDM 2008; docs/methods.md §4) as scikit-learn's
// IsolationForest builds it, and the forest behind DPLAN's intrinsic
// reward (§2).
//
// # The paper in the code
//
// Training, Algorithm 1 iForest(X, t, ψ): Fit (iforest.go) grows t =
// Options.NTrees trees, each on a subsample of ψ = Options.MaxSamples rows
// drawn without replacement (builder.sampleRows, Floyd's algorithm; ψ is
// reduced to n on smaller data, as scikit-learn's "auto" does), with the
// height limit l = ⌈log₂ ψ⌉ (Forest.HeightLimit).
//
// Algorithm 2 iTree(X, e, l): builder.build. A node becomes a leaf when its
// depth e reaches l or it holds at most one sample; otherwise it splits on
// a feature q drawn uniformly among those not constant in the node (the
// paper draws among all features; scikit-learn skips constant ones, and so
// does this package), at a threshold p drawn uniformly between q's minimum
// and maximum in the node (drawThreshold; values <= p go left). builder.leaf stores the leaf's
// path length e + c(Size).
//
// Algorithm 3 PathLength(x, T, e): Forest.scoreBlock, walkRoot and
// walkLevel walk a point down every tree; its path length in a tree is the
// depth of the leaf it reaches plus c(m), m the number of training samples
// in that leaf (Forest.MeanPathLength returns E[h(x)]).
//
// Equation 1, c(n) = 2H(n−1) − 2(n−1)/n with H(i) ≈ ln i + γ (γ =
// EulerGamma): AveragePathLength, with scikit-learn's c(n) = 0 for n <= 1
// and c(2) = 1.
//
// Equation 2, the anomaly score s(x, ψ) = 2^(−E[h(x)]/c(ψ)), normalised by
// the subsample size ψ: Forest.Score and Forest.ScoreInto. Scores lie in
// (0, 1), higher = more anomalous (scikit-learn's score_samples returns the
// negation; this package does not), and are exactly 0.5 for a forest fitted
// on a single row.
//
// Beyond the paper, as scikit-learn: Options.MaxFeatures lets each tree
// split on a random fraction of the features (default all).
//
// One deliberate difference from scikit-learn: its splitter treats a
// feature whose range in a node is at most 1e-7 as constant, an absolute
// threshold that ignores the data's scale; here only an exactly constant
// feature is skipped. On the ADBench files the two implementations' AUCs
// differ by no more than the forests' own randomness (see docs/results);
// the reference script is testdata/sklearn_compare.py.
//
// # Explanations
//
// Detector.Explain (detector.Explainer, Technique "path"; explain.go) says
// which features isolate a sample: each split on its path in a tree
// credits its feature with the bits of isolation it gains, log₂ of how
// many times it shrinks the training samples sharing the sample's cell,
// each tree weighted by 1/h (h its path length) and the trees averaged: a
// per-sample DIFFI (Carletti, Terzi and Susto 2023) that measures what
// each split isolates. The values rank features (all at least 0) and do
// not add up to the score; the walk is Score's, at about half its rate.
//
// # Files
//
// options.go holds Options and their defaults; detector.go the Detector
// (detector.Detector: Fit, Score, Marshal, Unmarshal) registered as
// "iforest"; iforest.go the forest itself (Fit, Forest); explain.go its
// explanations (Detector.Explain, Forest.Attributions); distributed.go the
// tree-by-tree fitting a data-parallel pipeline uses (SampleRows, GrowTree,
// Assemble; the beam module's fit-iforest); encoding.go the forest's
// binary format.
//
// # Implementation
//
// The package is written by hand, not wrapped from a library, because it is
// on the hot path of DPLAN (the intrinsic reward refits a forest every
// episode and scores every step) and no Go library offers a seeded,
// reproducible, fast implementation. Trees are stored as one flat array of
// 12-byte nodes in which leaves loop to themselves, so scoring walks every
// tree a fixed number of levels with no data-dependent branch, one level at
// a time for a block of 128 rows that stays in the L1 cache with the tree.
//
// Reproducibility: tree t draws from its own PCG stream derived from
// (Seed, t), trees are fitted in parallel and assembled in index order, and
// each row's path lengths are summed in tree order, so the forest and the
// scores are bit-for-bit identical for a given seed whatever the number of
// workers.
package iforest
