// Package tsne embeds high-dimensional points in the plane with Barnes-Hut
// t-SNE (van der Maaten, JMLR 2014), following scikit-learn's TSNE defaults:
// perplexity 30 calibrated on the int(3·perplexity+1) exact nearest
// neighbours, symmetrised sparse affinities, early exaggeration 12 for the
// first 250 iterations with momentum 0.5, then momentum 0.8, per-coordinate
// gains, learning rate "auto" (max(N/early_exaggeration/4, 50)), 1000
// iterations, a quadtree with theta 0.5 for the repulsive forces, and a PCA
// initialisation scaled so the first coordinate has standard deviation 1e-4.
//
// The package owns the whole pipeline: exact k-nearest-neighbour search (block
// distance matrices ||x||² + ||y||² - 2x·y through kernels.Sgemm, refined in
// float64), the per-point perplexity binary search, the quadtree and the
// gradient descent, plus a small randomized PCA used for the initialisation
// and, optionally, to reduce the input to a few dozen dimensions before the
// neighbour search.
//
// Why by hand: gonum has no t-SNE, and the Go t-SNE packages that exist are the
// exact O(N²) algorithm, too slow for tens of thousands of points; the
// Barnes-Hut variant is a few hundred lines and lets the neighbour search use
// the repository's own SGEMM.
//
// All work is deterministic for a given Options.Seed whatever the number of
// workers: every parallel loop writes per-point results that are reduced in a
// fixed order.
package tsne
