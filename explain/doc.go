// Package explain says why a detector finds a sample anomalous: per-feature
// attributions for tables and the drivers that compute them for detectors
// that do not do it natively (docs/methods.md §7).
//
// Detectors that can explain themselves implement detector.Explainer
// (tables) or detector.Localizer (images). This package holds what they
// share and what stands in for them:
//
//   - IntegratedGradients, the path integral that differentiable detectors
//     (DevNet, Deep SAD, DPLAN) feed with their own input gradients;
//   - Shapley, a model-agnostic sampling estimate of Shapley values for any
//     detector, with a background of normal rows and a stated budget;
//   - the reference explainers a measurement compares against (random
//     order, robust z-score).
//
// Written here rather than taken from a library: no Go library computes
// attributions, and the detectors' gradients come from oddity's own engine.
package explain
