// Package umap embeds points in a few dimensions by uniform manifold
// approximation and projection (UMAP: McInnes, Healy and Melville, 2018,
// arXiv:1802.03426), the manifold step of N2D deep clustering
// (docs/methods.md §3, "Manifold mode").
//
// The paper's steps and where they are:
//
//   - Local fuzzy sets (paper §3.1, its Algorithm 2 and 3; graph.go): for every
//     point the exact k nearest other points (package neighbors), ρ the
//     distance to the nearest of them, and σ by bisection so that
//     Σ exp(-(d - ρ)/σ) over the k neighbours equals log₂(k+1). The membership
//     of neighbour j of i is exp(-(d_ij - ρ_i)/σ_i), 1 for the nearest.
//   - Fuzzy union (paper eq. for the symmetric graph; graph.go): the weight
//     of edge {i, j} is w_ij + w_ji - w_ij·w_ji.
//   - Low-dimensional similarity (paper §3.2; curve.go): 1/(1 + a·d^(2b)),
//     with a and b fitted by least squares to the curve that is 1 up to
//     MinDist and exp(-(d - MinDist)/Spread) beyond.
//   - Layout (paper Algorithm 5; optimize.go): stochastic gradient descent on
//     the fuzzy-set cross-entropy, each edge sampled in proportion to its
//     weight, NegativeRate random points pushed away per positive sample,
//     gradients clipped to ±4, learning rate decaying linearly to 0.
//
// Choices the paper leaves open follow the reference implementation
// (umap-learn): a point's neighbour count includes the point itself
// (Neighbors = 15 means 14 others); 200 epochs above 10,000 points and 500
// below; edges whose weight is under 1/Epochs of the largest are dropped;
// the minimum σ is 10⁻³ of the mean neighbour distance. The start is
// uniform in [-10, 10] in every coordinate (umap-learn's "random"
// initialisation) rather than its spectral one: clustering the result of
// either gave the same ACC on MNIST codes (docs/methods.md §3), and a
// random start needs no sparse eigen-solver.
//
// Why by hand: no Go package implements UMAP; the algorithm is a few hundred
// lines over the repository's exact neighbour search.
//
// Determinism: the layout runs on one goroutine with one seeded generator,
// so the same Options.Seed gives the same embedding bit for bit (umap-learn
// is reproducible only single-threaded as well). The neighbour search uses
// the configured workers and is exact, so it does not change the result.
package umap
