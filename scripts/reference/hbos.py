"""HBOS, a NumPy reference implementation written from the paper:

    M. Goldstein and A. Dengel, "Histogram-based Outlier Score (HBOS): A
    fast Unsupervised Anomaly Detection Algorithm", KI-2012: Poster and
    Demo Track, 2012.

It follows the paper's static-bin-width histograms (Section 3): for each
feature, k bins of equal width over the feature's range, each bin's height
the density of the training values in it; and the paper's score,

    HBOS(p) = sum_i log(1 / hist_i(p)),

the sum over features of the negated log of the height of the bin the
sample's value falls in (the product of the features' densities, taken as
independent, on a log scale).

Where the paper leaves details open, it makes PyOD's choices (PyOD's HBOS
defaults: 10 bins, alpha 0.1, tol 0.5), as oddity does:

  * heights are densities, count / (width * n), as numpy.histogram with
    density=True computes them (the paper instead scales each histogram
    to a maximum height of 1);
  * logarithms are base 2, and alpha is added to every density before the
    logarithm, so that an empty bin scores a finite -log2(alpha);
  * a constant feature's range is widened to +-0.5 around its value (what
    numpy.histogram does);
  * a value on an inner edge counts in the bin above it, the training
    maximum in the last bin;
  * a value outside the training range by at most tol bin widths counts
    in the edge bin; one further out scores as the feature's least dense
    bin.

Usage: hbos.py TRAIN.npy TEST.npy OUT.npy [--bins K] [--alpha A] [--tol T] [--repeat R]
Writes the test scores (float64) to OUT.npy and prints the best
fit-plus-score time over the repeats, wall clock and CPU, as JSON:
{"seconds": ..., "cpu_seconds": ...}.
"""
import argparse
import json
import time

import numpy as np


def fit(X, bins=10, alpha=0.1):
    """Each feature's bin edges and per-bin term log2(density + alpha)."""
    X = np.asarray(X, dtype=np.float64)
    model = []
    for j in range(X.shape[1]):
        density, edges = np.histogram(X[:, j], bins=bins, density=True)
        model.append((edges, np.log2(density + alpha)))
    return model


def score(model, Z, tol=0.5):
    Z = np.asarray(Z, dtype=np.float64)
    s = np.zeros(Z.shape[0])
    for j, (e, logd) in enumerate(model):
        z = Z[:, j]
        k = len(logd)
        inside = logd[np.clip(np.searchsorted(e, z, side="right") - 1, 0, k - 1)]
        near_low = e[0] - z <= tol * (e[1] - e[0])
        near_high = z - e[-1] <= tol * (e[-1] - e[-2])
        term = np.where(z < e[0], np.where(near_low, logd[0], logd.min()),
                        np.where(z >= e[-1], np.where(near_high, logd[-1], logd.min()), inside))
        s -= term
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("out")
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--tol", type=float, default=0.5)
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()
    Xtr, Xte = np.load(a.train), np.load(a.test)
    wall = cpu = float("inf")
    for _ in range(max(1, a.repeat)):
        t, c = time.perf_counter(), time.process_time()
        s = score(fit(Xtr, a.bins, a.alpha), Xte, a.tol)
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    np.save(a.out, s.astype(np.float64))
    print(json.dumps({"seconds": wall, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
