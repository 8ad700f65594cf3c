// Package ecod is ECOD, unsupervised outlier detection by empirical
// cumulative distribution functions (Li, Zhao, Hu, Botta, Ionescu and
// Chen, "ECOD: Unsupervised Outlier Detection Using Empirical Cumulative
// Distribution Functions", IEEE TKDE 2022; docs/methods.md §6.3), and the
// per-feature tails it shares with COPOD (package copod).
//
// # The paper in the code
//
// Algorithm 1, step 2, the left- and right-tail ECDFs of each feature j,
// F_left(z) = #{X_ij ≤ z}/n and F_right(z) = #{X_ij ≥ z}/n: FitTails
// (tails.go) keeps each feature's distinct training values with their
// cumulative counts; Tails.Counts and Tails.Terms answer both counts of a
// new value z by one search.
//
// Step 3, the sample skewness γ_j: only its sign is used (left tail for
// γ_j < 0, right tail otherwise), so column.negativeSkew computes the
// sign of the numerator Σ_i (X_ij − x̄_j)³; a constant feature has γ_j = 0
// (right tail). A third moment within 1e-10 of Σ_i |X_ij − x̄_j|³ of zero
// counts as zero, so that rounding cannot decide the side of a symmetric
// feature (and oddity and the NumPy reference decide alike).
//
// Step 6, the aggregated tail scores O_left = −Σ_j log F_left(x_j),
// O_right = −Σ_j log F_right(x_j) and the skewness-corrected O_auto, and
// step 7, O = max(O_left, O_right, O_auto): aggregate (detector.go), on
// the terms −log F of Tails.Terms.
//
// Scoring new samples. The paper scores the training samples, each
// counted in its own ECDF. oddity fits on training data and scores any
// sample with the training ECDFs, the new value counted among them:
// F_left(z) = (#{X_ij ≤ z} + 1)/(n + 1), likewise on the right. The tail
// probability is never 0 (a value beyond the training range costs
// log(n+1), not an infinite score), a sample's score depends on the
// training data alone, not on the other samples scored with it. These are
// the tail probabilities PyOD's decision_function computes for a batch of
// a single sample; for a larger batch PyOD refits the ECDFs (and the
// skewness) on the training and test rows together, so its score of a
// sample changes with the batch scored around it.
//
// The option aggregate=pyod computes PyOD's ECOD instead of step 7: the
// sum over features of max(−log F_left, −log F_right), the largest tail
// of each feature on its own (PyOD also includes the skewness-corrected
// term in that maximum, which changes nothing but for a feature of skew
// exactly 0, where PyOD adds both tails; oddity does not). It is at least
// the paper's score, and ranks samples differently.
//
// # Explanations
//
// The score is a sum of per-feature terms, so Explain returns them
// exactly: the terms of the sum that wins for each sample (the
// skewness-corrected one when it attains the maximum, else the left, else
// the right), adding up to the score, Offset 0. They are the paper's
// "dimensional outlier graph".
//
// # Bad input
//
// A constant feature, identical rows or a single training row are valid:
// a value equal to the constant adds nothing to the score, one above or
// below it log(n+1) to that tail. Non-finite values are refused
// (detector.ErrInput), as are more than 2³¹−2 training rows.
//
// # Implementation and cost
//
// Fit transposes the data to columns, counts a feature with few distinct
// values (at most 8192, and at most an eighth of the rows) in a small hash
// table, and radix-sorts one with many; a lookup is a bucket index,
// linear in the value, and a short binary search. Fit costs O(n·d), Score
// O(m·d) for m samples (about 15 ns a value here). Memory: 8 bytes per
// training value for features with all values distinct, 12 to 28 bytes per
// distinct value otherwise, and 8 bytes per training row; the saved model
// holds each feature's sorted training values (4 bytes a value). Scores do
// not depend on the number of workers.
//
// scripts/reference/ecod.py is the NumPy reference written from the paper;
// ODDITY_PARITY=1 go test -run Parity -v ./ecod/ compares the two on the
// ADBench files.
package ecod
