"""ECOD, a NumPy reference implementation written from the paper:

    Z. Li, Y. Zhao, X. Hu, N. Botta, C. Ionescu and G. H. Chen, "ECOD:
    Unsupervised Outlier Detection Using Empirical Cumulative Distribution
    Functions", IEEE TKDE 2022.

It follows the paper's Algorithm 1, step by step:

  step 2  the left- and right-tail empirical CDFs of each feature j,
          F_left(z) = (1/n) #{i : X_ij <= z},  F_right(z) = (1/n) #{i : X_ij >= z}
          (the ECDF definitions of Section 3 the algorithm refers to);
  step 3  the sample skewness gamma_j; only its sign is used, so only the
          numerator sum_i (X_ij - mean_j)^3 is computed (the denominator
          is positive, or the feature is constant and gamma_j = 0);
  step 6  the three aggregated tail scores,
          O_left  = -sum_j log F_left(x_j),
          O_right = -sum_j log F_right(x_j),
          O_auto  = -sum_j [gamma_j < 0] log F_left(x_j) + [gamma_j >= 0] log F_right(x_j);
  step 7  O = max(O_left, O_right, O_auto).

Two choices the paper leaves open, made as oddity makes them:

  * New samples (novelty scoring) are scored with the ECDFs of the
    training data, the new value counted among them:
    F_left(z) = (#{train <= z} + 1) / (n + 1), and likewise on the right.
    The tail probability is then never 0 (no infinite score), and a
    sample's score does not depend on which other samples are scored with
    it. (PyOD's decision_function instead refits the ECDFs on the training
    and test rows together; for a single test row the two agree.)
  * A third central moment within 1e-10 of sum_i |X_ij - mean_j|^3 of zero
    counts as zero (right tail), so that rounding cannot decide the side
    of a symmetric feature.

--aggregate pyod computes PyOD's variant instead of step 7: the sum over
features of max(-log F_left, -log F_right).

Usage: ecod.py TRAIN.npy TEST.npy OUT.npy [--aggregate paper|pyod] [--repeat R]
Writes the test scores (float64) to OUT.npy and prints the best
fit-plus-score time over the repeats, wall clock and CPU, as JSON:
{"seconds": ..., "cpu_seconds": ...}.
"""
import argparse
import json
import time

import numpy as np

SKEW_TOL = 1e-10


def fit(X):
    """Each feature's training values, sorted (d x n), and whether the
    feature is skewed to the left."""
    X = np.asarray(X, dtype=np.float64)
    S = np.sort(X.T, axis=1)
    dev = S - S.mean(axis=1, keepdims=True)
    cube = dev * dev * dev
    left = cube.sum(axis=1) < -SKEW_TOL * np.abs(cube).sum(axis=1)
    return S, left


def tail_terms(S, Z):
    """-log F_left and -log F_right of every value of Z (m x d)."""
    n = S.shape[1]
    Z = np.asarray(Z, dtype=np.float64)
    L = np.empty(Z.shape)
    R = np.empty(Z.shape)
    for j in range(S.shape[0]):
        le = np.searchsorted(S[j], Z[:, j], side="right")  # #{train <= z}
        ge = n - np.searchsorted(S[j], Z[:, j], side="left")  # #{train >= z}
        L[:, j] = -np.log((le + 1) / (n + 1))
        R[:, j] = -np.log((ge + 1) / (n + 1))
    return L, R


def score(model, Z, aggregate="paper"):
    S, left = model
    L, R = tail_terms(S, Z)
    if aggregate == "pyod":
        return np.maximum(L, R).sum(axis=1)
    auto = np.where(left, L, R)
    return np.maximum(np.maximum(L.sum(axis=1), R.sum(axis=1)), auto.sum(axis=1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("out")
    p.add_argument("--aggregate", default="paper", choices=["paper", "pyod"])
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()
    Xtr, Xte = np.load(a.train), np.load(a.test)
    wall = cpu = float("inf")
    for _ in range(max(1, a.repeat)):
        t, c = time.perf_counter(), time.process_time()
        s = score(fit(Xtr), Xte, a.aggregate)
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    np.save(a.out, s.astype(np.float64))
    print(json.dumps({"seconds": wall, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
