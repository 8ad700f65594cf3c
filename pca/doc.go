// Package pca is principal component analysis and the PCA reconstruction
// error baseline detector (docs/methods.md §4): fitting principal axes,
// projecting onto them and back, explained variance, and the anomaly score
// of a sample, its squared distance to the principal subspace of the
// training data.
//
// # The method in the code
//
// With μ the mean of the n training rows and W the k x d matrix whose rows
// are the k leading principal axes (unit eigenvectors of the covariance
// matrix Σ = (X−μ)ᵀ(X−μ)/(n−1), by decreasing eigenvalue):
//
//   - μ, W and the variances along the axes (the eigenvalues): Fit, into a
//     PCA (Mean, Components, ExplainedVariance, ExplainedVarianceRatio);
//   - the projection z = W(x − μ): PCA.Transform;
//   - the reconstruction x̂ = μ + Wᵀz: PCA.InverseTransform;
//   - the score ‖x − x̂‖², higher = farther from the subspace:
//     PCA.ReconstructionError, which Detector.Score returns.
//
// Explanations: Detector.Explain (detector.Explainer, Technique
// "reconstruction"; explain.go) gives each feature its squared residual
// (x_j − x̂_j)², so the attributions add up to the score exactly (Offset
// 0).
//
// k is Options.NComponents; its default 0 keeps half the features, rounded
// up ((d+1)/2 of d; Options.Components).
//
// # Files
//
// options.go holds Options; detector.go the Detector (detector.Detector:
// Fit, Score, Marshal, Unmarshal) registered as "pca"; explain.go its
// explanations; pca.go the decomposition and the projections.
//
// # Implementation
//
// The linear algebra is gonum's: the eigendecomposition of the covariance
// matrix (mat.EigenSym, the covariance accumulated block by block so the
// data are never copied whole into float64) when there are at least as many
// rows as features, otherwise the thin SVD of the centred data (mat.SVD);
// Options.Solver forces either. Inputs are float32 rows; everything
// computed is float64.
//
// Signs: an axis and its negation are equally valid, so each component is
// oriented so that its entry of largest magnitude is positive (the first
// such entry on ties), the convention of scikit-learn >= 1.5; scikit-learn
// 1.2 oriented by the scores instead, so comparisons with it must allow a
// sign per component.
package pca
