// Package explain says why a detector finds a sample anomalous: per-feature
// attributions for tables, anomaly maps for images, the drivers that
// compute them for detectors that do not do it natively, and the planted
// ground truth that measures them (docs/methods.md §7).
//
// Detectors that can explain themselves implement detector.Explainer
// (tables) or detector.Localizer (images). This package holds what they
// share and what stands in for them:
//
//   - Attribute, the one entry point for tables: a detector's own Explain
//     when it has one, the Shapley estimate otherwise (explain.go, with
//     TopK, the features that matter most, and BySource, the attributions
//     of encoded features summed back to their source column);
//   - IntegratedGradients, the path integral that differentiable detectors
//     (DevNet, Deep SAD, DPLAN) feed with their own input gradients
//     (ig.go);
//   - Shapley, a model-agnostic sampling estimate of Shapley values for any
//     detector, with a background of normal rows and a stated budget
//     (shapley.go);
//   - the reference explainers a measurement compares against: Random
//     order and the robust z-score ZScore (reference.go);
//   - planted causes for tables, Plant (an extreme value or a broken
//     dependency in r chosen features of normal rows) and PrecisionAtR,
//     the share of the planted features among the top r attributions
//     (plant.go); planted defects and pixel AUROC for images (maps.go).
//
// Package explain/explaintest is the shared test of a tabular explainer: a
// table on which only features 2 and 5 carry the anomaly, and the check
// that an explainer ranks them first (and that a random order fails it).
//
// What the attributions mean depends on the technique
// (detector.Attributions.Technique): "shapley" and "integrated-gradients"
// decompose score − Offset, "reconstruction" (PCA, the autoencoder)
// decomposes the score itself, "path" (Isolation Forest) and "zscore"
// only rank. In all of them a larger value means the feature makes the
// sample more anomalous.
//
// Written here rather than taken from a library: no Go library computes
// attributions, and the detectors' gradients come from oddity's own engine.
package explain
