"""LODA, a NumPy reference implementation written from the paper:

    T. Pevny, "Loda: Lightweight on-line detector of anomalies", Machine
    Learning 102(2), 275-304, 2016.

It follows the paper's construction (Section 3, Algorithm 1 for training
and the score that Algorithm 2 evaluates):

  * k sparse random projections w_1..w_k: each has d^(1/2) non-zero
    entries (floor(sqrt(d)), at least 1) at features drawn uniformly
    without replacement, with weights drawn from N(0, 1);
  * for each projection, a one-dimensional histogram p_i of the training
    data projected on it, x^T w_i;
  * the score f(x) = -(1/k) sum_i log p_i(x^T w_i), the mean negated log
    density of the projections.

Where the paper leaves details open, it makes PyOD's choices (PyOD's LODA
defaults: n_bins=10, n_random_cuts=100), as oddity does: each histogram
has equal-width bins over the projected training range (numpy.histogram,
widened to +-0.5 around a single value); 1e-12 is added to every count
before normalising to probabilities; a projected value outside the range
takes the edge bin. Unlike PyOD, densities (probability / bin width)
rather than probabilities enter the logarithm, as the paper's f(x) says,
and a value on an inner edge is looked up in the bin numpy.histogram
counted it in.

The random draws come from numpy's default_rng(seed), so they differ from
oddity's (a PCG stream per projection): the two agree in distribution,
and parity is checked on AUC-ROC averaged over seeds. With --weights W.npy
(a k x d array, oddity's projections written out) the script uses those
projections instead, and the scores must then equal oddity's: a
projection is summed over its non-zero features in ascending order, in
float64, as oddity sums it.

Usage: loda.py TRAIN.npy TEST.npy OUT.npy [--projections K] [--bins B]
                 [--seed S | --weights W.npy] [--repeat R]
Writes the test scores (float64) to OUT.npy and prints the best
fit-plus-score time over the repeats, wall clock and CPU, as JSON:
{"seconds": ..., "cpu_seconds": ...}.
"""
import argparse
import json
import time

import numpy as np

PSEUDO_COUNT = 1e-12


def draw(d, projections, seed):
    """k sparse projections: (features ascending, weights) each."""
    m = max(1, int(np.sqrt(d)))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(projections):
        features = np.sort(rng.choice(d, size=m, replace=False))
        out.append((features, rng.standard_normal(m)))
    return out


def from_matrix(W):
    """The projections of a k x d weight matrix (its non-zero entries)."""
    W = np.asarray(W, dtype=np.float64)
    return [(np.flatnonzero(w), w[np.flatnonzero(w)]) for w in W]


def project(X, projection):
    features, weights = projection
    z = np.zeros(X.shape[0])
    for f, w in zip(features, weights):
        z = z + w * X[:, f]
    return z


def fit(X, projections, bins=10):
    """Each projection's histogram: bin edges and densities."""
    X = np.asarray(X, dtype=np.float64)
    model = []
    for pr in projections:
        count, edges = np.histogram(project(X, pr), bins=bins)
        p = (count + PSEUDO_COUNT) / (count + PSEUDO_COUNT).sum()
        model.append((pr, edges, p / np.diff(edges)))
    return model


def score(model, Z):
    Z = np.asarray(Z, dtype=np.float64)
    s = np.zeros(Z.shape[0])
    for pr, edges, density in model:
        z = project(Z, pr)
        b = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, len(density) - 1)
        s -= np.log(density[b])
    return s / len(model)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("out")
    p.add_argument("--projections", type=int, default=100)
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights")
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()
    Xtr, Xte = np.load(a.train), np.load(a.test)
    wall = cpu = float("inf")
    for _ in range(max(1, a.repeat)):
        t, c = time.perf_counter(), time.process_time()
        if a.weights:
            projections = from_matrix(np.load(a.weights))
        else:
            projections = draw(Xtr.shape[1], a.projections, a.seed)
        s = score(fit(Xtr, projections, a.bins), Xte)
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    np.save(a.out, s.astype(np.float64))
    print(json.dumps({"seconds": wall, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
