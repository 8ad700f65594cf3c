// Package copod is COPOD, copula-based outlier detection (Li, Zhao,
// Botta, Ionescu and Hu, "COPOD: Copula-Based Outlier Detection", IEEE
// ICDM 2020; docs/methods.md §6.4).
//
// # The paper in the code
//
// COPOD models the data's joint distribution by an empirical copula, its
// margins the features' empirical CDFs, and scores a sample by the tail
// probabilities the copula gives it. Algorithm 1:
//
// Steps 2 and 3, the left-tail ECDF F_d(x) = #{X_id ≤ x}/n and the
// right-tail ECDF, fitted on −X: ecod.FitTails keeps each feature's
// distinct training values with their counts (the state ECOD uses).
//
// Step 4, the skewness b_d: its sign (ecod.Tails.LeftSkewed), with
// ECOD's tolerance for a symmetric feature.
//
// Step 7, the empirical copula observations U_d = F_d(x_d),
// V_d = F̄_d(−x_d) and the skewness-corrected W_d (U_d when b_d < 0, V_d
// otherwise), and step 8, the tail probabilities p_l = −Σ_d log U_d,
// p_r = −Σ_d log V_d, p_s = −Σ_d log W_d, and step 9, O = max(p_l, p_r,
// p_s): aggregate (detector.go), on the terms of ecod.Tails.Terms.
//
// As published, this is the same computation as ECOD's Algorithm 1 (ECOD,
// by the same authors, drops the copula framing and keeps the score), so
// with the default options COPOD and ECOD give the same scores. They
// differ in PyOD, and the option aggregate=pyod computes PyOD's COPOD:
// Σ_d max(−log W_d, (−log U_d − log V_d)/2), the skewness-corrected tail
// or the mean of the two tails, whichever is larger, feature by feature.
//
// New samples are scored with the training data's margins, the new value
// counted among the training values, U_d = (#{X_id ≤ x}+1)/(n+1), as
// ECOD does (see package ecod for why, and how this relates to PyOD's
// decision_function).
//
// # Explanations
//
// The score is a sum of per-feature terms, so Explain returns them
// exactly (the paper's "dimensional outlier graph"): the terms of the sum
// that wins for each sample, adding up to the score, Offset 0.
//
// # Bad input, cost
//
// As ECOD's: a constant feature, identical rows and a single row fit and
// score as the definitions say; non-finite values are refused. Fit is
// O(n·d), Score O(m·d); the model holds each feature's sorted training
// values.
//
// scripts/reference/copod.py is the NumPy reference written from the
// paper; ODDITY_PARITY=1 go test -run Parity -v ./copod/ compares the two
// on the ADBench files.
package copod
