"""Time umap-learn beside oddity's umap package on the same points.

Writes DIR/points.npz (X: the first N MNIST training images, scaled to
[0, 1] and projected on their 50 leading principal axes; y: their digits),
then lays them out with umap-learn as the manifold mode does (20
neighbours, minimum distance 0, 10 dimensions), clusters the layout with
k-means (k = 10, 10 restarts) and prints the time and the ACC / NMI
against the digits. Run `go run ./scripts/umapbench DIR/points.npz` for
oddity's side. umap-learn's first call compiles its numba kernels: a small
warm-up run is made first and not timed.

    /usr/bin/python3 scripts/reference/umap_time.py --n 20000 --dir /tmp/umapbench
"""
import argparse
import gzip
import os
import time

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import normalized_mutual_info_score
import umap


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def acc(truth, pred):
    k = max(truth.max(), pred.max()) + 1
    w = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(truth, pred):
        w[p, t] += 1
    r, c = linear_sum_assignment(-w)
    return w[r, c].sum() / len(truth)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--dir", default="/tmp/umapbench")
    ap.add_argument("--mnist", default="../shared/datasets/mnist")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    x = idx(os.path.join(a.mnist, "train-images-idx3-ubyte.gz"))[: a.n].reshape(a.n, -1) / 255.0
    y = idx(os.path.join(a.mnist, "train-labels-idx1-ubyte.gz"))[: a.n].astype(np.int64)
    x = PCA(50, random_state=0).fit_transform(x).astype(np.float32)
    np.savez(os.path.join(a.dir, "points.npz"), X=x, y=y)
    umap.UMAP(n_neighbors=20, min_dist=0.0, n_components=10, random_state=0).fit_transform(x[:500])
    for name, kw in [("umap-learn, random_state=0 (one thread)", dict(random_state=0)),
                     ("umap-learn, no random_state (both cores)", dict())]:
        t0 = time.perf_counter()
        emb = umap.UMAP(n_neighbors=20, min_dist=0.0, n_components=10, **kw).fit_transform(x)
        t = time.perf_counter() - t0
        pred = KMeans(10, n_init=10, random_state=0).fit_predict(emb)
        print(f"{name}: {a.n} points, {t:.1f} s, k-means ACC {acc(y, pred):.4f} NMI {normalized_mutual_info_score(y, pred):.4f}")


if __name__ == "__main__":
    main()
