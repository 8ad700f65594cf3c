// Package neighbors finds exact k nearest neighbours in Euclidean distance,
// for the kNN and LOF detectors (docs/methods.md §6.1, §6.2): for new rows
// (Search, Distances) and for the training rows themselves, each left out
// of its own neighbours (SearchTraining, DistancesTraining).
//
// # Exact, whatever the algorithm
//
// Every distance reported is sqDist: the float32 values widened to
// float64 and Σ (q_l − x_l)² summed in a fixed order. Neighbours are
// ordered by that distance and then by row, so ties go to the lower row.
// Both algorithms return the same neighbours and the same distances, bit
// for bit (the tests check it, and against a plain sort):
//
//   - Brute (brute.go) for many features: queries in blocks of 256 rows
//     against training rows in blocks of 1,024, the block of
//     ‖q‖² + ‖x‖² − 2q·x computed by the engine's SGEMM (kernels.Sgemm) in
//     float32 on rows centred on the training mean, so memory is bounded by
//     the blocks (1 MiB for the product), never n·m. Float32 cancellation
//     could reorder near neighbours, so the float32 values only select
//     candidates: with B a proven bound on the error of one estimate
//     (margin), every row within 2B of the k-th smallest estimate is kept,
//     which provably includes the true k nearest, and those few are
//     re-checked with sqDist. A query too large for float32 products is
//     searched exactly in float64 (exactScan).
//   - KDTree (kdtree.go) for few features: scikit-learn's k-d tree layout
//     (median split on the widest feature, tight bounding boxes, leaves of
//     32 to 64 rows), distances in float64 throughout. Box distances are
//     summed like sqDist, so a box is pruned only when every row in it is
//     farther, as computed. Identical rows are stored once with their list
//     of rows, so a row repeated many times costs one distance. A leaf's
//     rows are stored feature by feature in blocks of 8, so that SIMD
//     kernels (leaf.go, leaf_amd64.s: AVX2 or AVX-512, plain Go elsewhere)
//     compute 8 distances at a time and the two children's box distances
//     at once, with sqDist's and boxDist's exact sums.
//
// Auto picks the tree up to TreeMaxDim features, where it measured faster
// on every ADBench file, and the SGEMM beyond.
//
// # Files
//
// index.go holds Index, its constructor and the searches; brute.go the
// blocked SGEMM search and its error bound; kdtree.go the tree; leaf.go
// and leaf_amd64.s the tree's distance kernels; dist.go the exact distance
// and the top-k selection.
package neighbors
