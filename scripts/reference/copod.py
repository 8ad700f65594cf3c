"""COPOD, a NumPy reference implementation written from the paper:

    Z. Li, Y. Zhao, N. Botta, C. Ionescu and X. Hu, "COPOD: Copula-Based
    Outlier Detection", IEEE ICDM 2020.

It follows the paper's Algorithm 1 (COPOD), step by step:

  step 2  the left-tail empirical CDF of each dimension d,
          F_d(x) = (1/n) #{i : X_id <= x};
  step 3  the right-tail empirical CDF, fitted on -X:
          Fbar_d(x) = (1/n) #{i : -X_id <= x}, read at -x;
  step 4  the skewness coefficient b_d of each dimension; only its sign is
          used, so only the numerator sum_i (X_id - mean_d)^3 is computed;
  step 7  the empirical copula observations U_d = F_d(x_d),
          V_d = Fbar_d(-x_d), and W_d = U_d if b_d < 0 else V_d;
  step 8  the tail probabilities p_l = -sum_d log U_d, p_r = -sum_d log V_d,
          p_s = -sum_d log W_d;
  step 9  O(x) = max(p_l, p_r, p_s).

As published, this is the same score as ECOD's Algorithm 1 (scripts/
reference/ecod.py): the two papers differ in their motivation (an
empirical copula, here), not in the computation.

The two choices the paper leaves open are made as in ecod.py: a new value
is counted among the training values, U_d = (#{train <= x}+1)/(n+1) (never
0; a sample's score does not depend on the other samples scored with it),
and a third moment within 1e-10 of sum |X_id - mean_d|^3 counts as zero.

--aggregate pyod computes PyOD's COPOD instead of step 9: the sum over
dimensions of max(-log W_d, (-log U_d - log V_d)/2).

Usage: copod.py TRAIN.npy TEST.npy OUT.npy [--aggregate paper|pyod] [--repeat R]
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
    """Each dimension's training values, sorted (d x n), and whether its
    skewness b_d is negative."""
    X = np.asarray(X, dtype=np.float64)
    S = np.sort(X.T, axis=1)
    dev = S - S.mean(axis=1, keepdims=True)
    cube = dev * dev * dev
    negative = cube.sum(axis=1) < -SKEW_TOL * np.abs(cube).sum(axis=1)
    return S, negative


def copula(S, Z):
    """The empirical copula observations U and V of every value of Z."""
    n = S.shape[1]
    Z = np.asarray(Z, dtype=np.float64)
    U = np.empty(Z.shape)
    V = np.empty(Z.shape)
    for d in range(S.shape[0]):
        U[:, d] = (np.searchsorted(S[d], Z[:, d], side="right") + 1) / (n + 1)
        # F-bar fitted on -X and read at -x counts #{-X <= -x} = #{X >= x}.
        V[:, d] = (n - np.searchsorted(S[d], Z[:, d], side="left") + 1) / (n + 1)
    return U, V


def score(model, Z, aggregate="paper"):
    S, negative = model
    U, V = copula(S, Z)
    W = np.where(negative, U, V)
    if aggregate == "pyod":
        return np.maximum(-np.log(W), (-np.log(U) - np.log(V)) / 2).sum(axis=1)
    p_l = -np.log(U).sum(axis=1)
    p_r = -np.log(V).sum(axis=1)
    p_s = -np.log(W).sum(axis=1)
    return np.maximum(np.maximum(p_l, p_r), p_s)


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
