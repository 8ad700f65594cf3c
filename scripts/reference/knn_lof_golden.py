"""Writes the small golden files the knn and lof packages' tests compare
against: scikit-learn's neighbour distances (PyOD's KNN scores are read off
them) and LocalOutlierFactor(novelty=True) scores on a fixed data set.

    /usr/bin/python3 scripts/reference/knn_lof_golden.py

The data are float32 values (written as exact decimal strings), so the Go
side sees the same numbers. Duplicated rows are included on purpose.
"""
import json

import numpy as np
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

rng = np.random.default_rng(7)
train = rng.normal(size=(120, 3)).astype(np.float32)
train[10:14] = train[3]  # four copies of row 3: exact ties at distance 0
train[50:, 0] += 3  # a second, shifted cluster
test = np.concatenate([rng.normal(scale=1.5, size=(30, 3)).astype(np.float32), train[:5]])

X, Q = train.astype(np.float64), test.astype(np.float64)
out = {"train": train.tolist(), "test": test.tolist()}
for k in (1, 5, 6):
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
    d_test, _ = nn.kneighbors(Q)
    d_train, _ = nn.kneighbors()  # leave-one-out
    out["knn_k%d" % k] = {
        "largest": d_test[:, -1].tolist(),
        "mean": d_test.mean(axis=1).tolist(),
        "median": np.median(d_test, axis=1).tolist(),
        "train_largest": d_train[:, -1].tolist(),
    }
for k in (1, 5, 20):
    lof = LocalOutlierFactor(n_neighbors=k, novelty=True, algorithm="brute").fit(X)
    out["lof_k%d" % k] = {
        "test": (-lof.score_samples(Q)).tolist(),
        "train": (-lof.negative_outlier_factor_).tolist(),
    }
s = json.dumps(out)
for path in ("knn/testdata/sklearn.json", "lof/testdata/sklearn.json"):
    with open(path, "w") as f:
        f.write(s)
