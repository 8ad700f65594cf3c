// Package ocsvm is the one-class support vector machine (Schölkopf, Platt,
// Shawe-Taylor, Smola and Williamson, "Estimating the support of a
// high-dimensional distribution", Neural Computation 13(7), 2001;
// docs/methods.md §6.6) with an RBF kernel, as scikit-learn's OneClassSVM
// fits it, solved by a Go implementation of libsvm's SMO (Chang and Lin,
// "LIBSVM: a library for support vector machines", ACM TIST 2011; Fan,
// Chen and Lin, "Working set selection using second order information
// for training support vector machines", JMLR 6, 2005).
//
// # The paper in the code
//
// The primal separates the mapped training rows from the origin with
// maximum margin, allowing a fraction ν of them on the wrong side. Its
// dual (the paper's eq. 7), with the α scaled by νl as libsvm scales them:
//
//	min_α ½ αᵀQα   subject to 0 ≤ α_i ≤ 1,  Σ α_i = νl,   Q_ij = K(x_i, x_j),
//
// K(x, y) = exp(−γ‖x − y‖²), is solveOneClass (solver.go). The decision
// function (the argument of the paper's eq. 8) is
//
//	f(x) = Σ_i α_i K(x_i, x) − ρ,
//
// model.go: positive inside the estimated support, negative outside. The
// Detector scores −f(x) = ρ − Σ_i α_i K(x_i, x), so that higher is more
// anomalous.
//
// Relation to scikit-learn (checked against its output in sklearn_test.go):
// Score(x) = −decision_function(x) = offset_ − score_samples(x), with
// offset_ = ρ (Info().Rho), dual_coef_ = the α of the support vectors and
// support_ = the rows with α > 0 (Marshal's "dual_coef" and
// "support_vectors"). Scores are in the units of νl (they grow with the
// number of training rows), as scikit-learn's are.
//
// γ = "scale" is scikit-learn's: 1/(d·Var(X)), the variance of all n·d
// values of the training matrix together (resolveGamma); 1 when that
// variance is 0 (every value equal), as scikit-learn sets it. "auto" is
// 1/d.
//
// # The solver
//
// libsvm's Solver::Solve specialised to one class (every label +1, every
// upper bound 1, no linear term):
//
//   - Start (startAlpha): the first ⌊νl⌋ α at 1, the next at νl − ⌊νl⌋,
//     the rest at 0, as libsvm's solve_one_class; the gradient ∇ = Qα and
//     ∇̄ = Σ_{α_i=1} Q_i from the columns of the non-zero α.
//     scikit-learn's copy fills the same α greedily from a running sum of ν
//     that can round differently from νl (see startAlpha); for ν = 0.5,
//     the default, the starts are identical, and so then are the working
//     sets, the number of steps, the support vectors and, to the last
//     digits, the coefficients and ρ (TestSolverFollowsSklearnPath runs
//     the solver from scikit-learn's start on every fixture and finds its
//     path exactly).
//   - Working set (selectWorkingSet): WSS 3 of Fan, Chen and Lin: i
//     maximises −∇_i among the α that can grow, j maximises the
//     second-order gain (∇_j − ∇_i)²/(Q_ii + Q_jj − 2Q_ij) among those that
//     can shrink; a non-positive curvature is replaced by τ = 10⁻¹².
//   - Step (update): the two-variable subproblem solved in closed form and
//     clipped to the box, then ∇ and ∇̄ updated.
//   - Stopping: max_{α_j>0} ∇_j − min_{α_i<1} ∇_i < ε = Options.Tol (10⁻³,
//     libsvm's and scikit-learn's default), or libsvm's limit of
//     max(10⁷, 100·l) steps (Info().Converged is then false and
//     Info().Note says so).
//   - Shrinking (optional, on by default as in both): every min(l, 1000)
//     steps the bounded α whose gradient says they will stay at their
//     bound leave the active set (shrink); the gradient of the shrunk ones
//     is rebuilt from ∇̄ when the active set looks optimal, and once when
//     the gap first falls below 10ε (reconstructGradient).
//   - ρ (solver.rho): the mean gradient over the free α, or, with none
//     free, the middle of the interval the bounded ones allow. Where libsvm
//     would return an infinite ρ (every α at one bound, as ν = 1 forces),
//     the finite end of that interval is used instead.
//
// Kernel columns are cached (cache.go) in float32, as libsvm's Qfloat,
// least recently used first out, within Options.CacheMB (scikit-learn's
// cache_size, 200 MB by default); at least two columns are kept.
//
// # Faster than libsvm, same arithmetic
//
// The solver does libsvm's floating-point operations in libsvm's order
// wherever that decides the path; it differs where only speed is at
// stake:
//
//   - The starting gradient needs the columns of the ⌊νl⌋ + 1 non-zero α,
//     about half the kernel matrix for ν = 0.5. The kernel is symmetric
//     bit for bit here, so the entries a column shares with earlier
//     columns still in the cache are copied instead of computed again
//     (solver.qInit): a quarter of that work saved.
//   - Dot products of training rows use AVX2 on amd64 (dot_amd64.s; a pure
//     Go version with the same order of summation elsewhere, dot.go), four
//     rows at a time, and the exponential is a table-driven one accurate
//     to two units in the last place (exp.go); the values are rounded to
//     float32 for the cache, which hides both differences.
//   - Shrinking reorders the cached columns once per shrinking pass, for
//     all its exchanges at once, column by column (colCache.swapAll),
//     instead of walking every column for each exchange.
//   - Long kernel columns are split among Options.Workers goroutines
//     (default all processors); libsvm uses one thread. This pays only
//     where processors are idle: on the busy two-core machine of the
//     measurements below it did not shorten the fit.
//   - Scores use the same dot products and exponential, with the squared
//     distance from norms (libsvm's prediction sums squared differences;
//     the two differ by about 10⁻¹⁵ of a score).
//
// On the 21 ADBench files of the suite, on oddity's splits (3 seeds), the
// fitted model gives the same AUC-ROC as scikit-learn 1.2.1 to four
// decimals and takes the same number of steps to the same support
// vectors; one thread fits in 0.25 to 0.9 of scikit-learn's CPU time
// (13.1 s against 26.0 s over the 63 fits) and scores in about a fifth
// (parity_test.go, docs/methods.md §6.6).
//
// # Size
//
// Fit time grows about as the square of the training rows: on 10 features
// (10_cover) one thread takes 0.01 s for 1,000 rows, 0.25 s for 5,000, 1 s
// for 10,000, 4.5 s for 20,000 and 18 s for 40,000 (scikit-learn: 0.02,
// 0.5, 2, 8 and 30 s); beyond, where the cache no longer holds the νl
// starting columns, columns are computed again and it grows faster. So
// Fit trains on at most Options.MaxSamples rows (10,000 by default): on
// more it draws that many at random with Options.Seed, keeping their
// order, and reports it (the progress phase "subsample" and Info().Note).
// Scoring costs one kernel value per support vector (at least ν times the
// training rows) per sample.
//
// # Bad input
//
// A constant column adds nothing to any distance; with γ = "scale" it
// still counts in d and in the variance of all values, as in scikit-learn.
// All rows identical: every gradient is νl, no step is taken, ρ = νl and
// the training row scores 0. One row: α = ν, ρ = ν, and a sample x scores
// ν·(1 − K(x₀, x)). Non-finite values are refused (detector.CheckInput).
//
// # Files
//
// options.go holds Options and DefaultOptions; detector.go the Detector
// registered as "ocsvm" (Fit, Score, Marshal, Unmarshal, Info); solver.go
// the SMO solver; cache.go the kernel column cache; kernel.go the RBF
// kernel and γ; dot.go, dot_amd64.go, dot_amd64.s and dot_other.go the
// dot products; exp.go the exponential; model.go the decision function.
// scripts/reference/ocsvm.py is the scikit-learn side of the parity check.
package ocsvm
