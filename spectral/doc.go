// Package spectral is spectral clustering of a precomputed affinity matrix,
// and the symmetric eigen-solver it rests on. Deep subspace clustering
// (package deepcluster, self-expressive mode) builds its affinity from the
// learned coefficients and clusters it here; nothing in the package knows
// about images or networks.
//
// # The method
//
// Cluster follows Ng, Jordan and Weiss (NIPS 2001): for a symmetric
// nonnegative n×n affinity A with degrees d_i = Σ_j A_ij,
//
//	M = D^(-1/2) A D^(-1/2)          (I − M is the normalised Laplacian)
//	U = the K eigenvectors of M with the largest eigenvalues (n×K)
//	rows of U scaled to unit length
//	labels = k-means on the rows of U (k-means++, best of NInit runs)
//
// A point of zero degree has no edge to anything; its row of M is zero and
// its row of U stays zero (no NaN), so k-means puts it with whichever
// centre lies nearest the origin. scikit-learn's SpectralClustering has the
// same embedding (spectral_embedding with norm_laplacian and drop_first =
// False) and offers this k-means step as assign_labels="kmeans"; its
// default "discretize" (Yu and Shi 2003) is not implemented.
//
// # The eigen-solver
//
// TopEigen returns the r eigenpairs of a symmetric matrix of largest
// magnitude, or with EigenOptions.Algebraic of largest value, by block
// subspace iteration with Rayleigh–Ritz (Saad, "Numerical Methods for
// Large Eigenvalue Problems", 2nd ed., ch. 5): a block of b = r +
// oversampling orthonormal vectors Q is multiplied by A (the project's
// float32 SGEMM), the small b×b problem QᵀAQ is solved exactly (gonum's
// mat.EigenSym), and the iteration stops when every wanted Ritz pair has a
// residual ‖Av − θv‖ at most Tol·max|θ|. By magnitude each iteration is one
// power step. For the largest values each iteration applies a degree-8
// Chebyshev polynomial of A that stays within ±1 on [−g, θ_b] (g the
// Gershgorin bound, θ_b the block's smallest Ritz value) and grows fast
// above it (Chebyshev-filtered subspace iteration, Zhou and Saad, 2007), so
// eigenvalues bunched together still separate in a few iterations. The
// multiply costs n²b per step against the n³ of a full decomposition,
// which at n = 1,440 already takes gonum's dense solver 12 seconds on this
// project's machine. Small problems (n ≤ DenseBelow, or a block of more
// than a quarter of n) go straight to mat.EigenSym. Cluster asks for the
// largest values of D^(-1/2) A D^(-1/2).
//
// Every random choice (the starting block, k-means) takes Options.Seed.
package spectral
