#!/usr/bin/env python3
"""Generate the scikit-learn reference fixtures for package metrics.

Run once from this folder (needs numpy, scipy, scikit-learn):

    /usr/bin/python3 sklearn_fixtures.py

It writes ranking.json and clustering.json beside itself. The committed
files were made with scikit-learn 1.2.1, numpy 1.24.2; the Go tests compare
against them to 1e-12. Floats are written with repr, so they round-trip
exactly.
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    average_precision_score,
    f1_score,
    normalized_mutual_info_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.metrics.cluster import contingency_matrix

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240611)


def fl(a):
    return [float(x) for x in a]


def ranking_case(name, scores, labels):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    c = {"name": name, "scores": fl(scores), "labels": [int(x) for x in labels]}
    c["roc_auc"] = float(roc_auc_score(labels, scores))
    c["average_precision"] = float(average_precision_score(labels, scores))
    for drop in (True, False):
        fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=drop)
        key = "roc_drop" if drop else "roc_full"
        # thresholds[0] is max+1 in scikit-learn 1.2 and +inf from 1.3 on;
        # only the finite thresholds are compared.
        c[key] = {"fpr": fl(fpr), "tpr": fl(tpr), "thresholds_after_first": fl(thr[1:])}
    p, r, t = precision_recall_curve(labels, scores)
    c["pr"] = {"precision": fl(p), "recall": fl(r), "thresholds": fl(t)}
    # F1 at a few thresholds, and the best F1 by brute force over every
    # distinct score (predict 1 when score >= t).
    uniq = np.unique(scores)
    probe = [float(uniq[0]), float(np.median(scores)), float(uniq[-1]), float(uniq[-1]) + 1.0]
    c["f1_at"] = [
        {"threshold": t_, "f1": float(f1_score(labels, (scores >= t_).astype(int), zero_division=0))}
        for t_ in probe
    ]
    best, best_t = -1.0, None
    for t_ in uniq[::-1]:  # highest threshold first, keep the first maximum
        f = f1_score(labels, (scores >= t_).astype(int), zero_division=0)
        if f > best:
            best, best_t = f, float(t_)
    c["best_f1"] = {"f1": float(best), "threshold": best_t}
    return c


def ranking_cases():
    cases = []
    n = 10
    cases.append(ranking_case("small_ties", np.round(rng.random(n), 1), (rng.random(n) < 0.4).astype(int)))
    n = 50
    cases.append(ranking_case("integer_scores", rng.integers(0, 6, n).astype(float), (rng.random(n) < 0.3).astype(int)))
    n = 200
    y = (rng.random(n) < 0.1).astype(int)
    y[0] = 1
    cases.append(ranking_case("continuous", rng.normal(size=n) + 1.5 * y, y))
    n = 1000
    y = (rng.random(n) < 0.05).astype(int)
    cases.append(ranking_case("rounded_imbalanced", np.round(rng.random(n) + 0.3 * y, 2), y))
    n = 600
    y = (rng.random(n) < 0.5).astype(int)
    cases.append(ranking_case("coarse_ties", np.round(rng.normal(size=n) + 0.5 * y), y))
    y = np.array([0, 1] * 10)
    cases.append(ranking_case("constant_scores", np.full(20, 0.7), y))
    y = np.array([0] * 7 + [1] * 3)
    cases.append(ranking_case("perfect", np.arange(10, dtype=float), y))
    cases.append(ranking_case("reversed", -np.arange(10, dtype=float), y))
    cases.append(ranking_case("one_positive", np.round(rng.random(30), 1), np.eye(30, dtype=int)[7]))
    return cases


def acc(t, p):
    cm = contingency_matrix(t, p)
    r, c = linear_sum_assignment(cm, maximize=True)
    return float(cm[r, c].sum()) / len(t)


def cluster_case(name, t, p):
    t = [int(x) for x in t]
    p = [int(x) for x in p]
    c = {"name": name, "truth": t, "pred": p}
    for m in ("arithmetic", "geometric", "min", "max"):
        c["nmi_" + m] = float(normalized_mutual_info_score(t, p, average_method=m))
    c["ari"] = float(adjusted_rand_score(t, p))
    c["acc"] = acc(t, p)
    return c


def clustering_cases():
    cases = []
    for k, (n, kt, kp) in enumerate([(50, 3, 3), (300, 5, 8), (300, 8, 4), (1000, 10, 10), (2000, 10, 12), (100, 2, 2)]):
        t = rng.integers(0, kt, n)
        # a noisy copy of t so the measures are away from 0
        p = np.where(rng.random(n) < 0.6, (t * 7 + 3) % kp, rng.integers(0, kp, n))
        cases.append(cluster_case(f"noisy_{n}_{kt}x{kp}", t, p))
    t = rng.integers(0, 6, 200)
    perm = np.array([4, 0, 5, 2, 1, 3])
    cases.append(cluster_case("permuted", t, perm[t]))
    cases.append(cluster_case("arbitrary_values", [-5, -5, 17, 17, 17, 1000, 1000, -5], [3, 3, 3, 9, 9, 2, 2, 3]))
    cases.append(cluster_case("all_one_cluster", t, np.zeros_like(t)))
    cases.append(cluster_case("all_one_class", np.zeros_like(t), t))
    cases.append(cluster_case("both_single", [1] * 9, [4] * 9))
    cases.append(cluster_case("each_own_cluster", t[:40], np.arange(40)))
    cases.append(cluster_case("independent", [0, 0, 1, 1], [0, 1, 0, 1]))
    cases.append(cluster_case("random", rng.integers(0, 4, 500), rng.integers(0, 4, 500)))
    return cases


def main():
    meta = {"sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__}
    with open(os.path.join(HERE, "ranking.json"), "w") as f:
        json.dump({"meta": meta, "cases": ranking_cases()}, f, separators=(",", ":"))
    with open(os.path.join(HERE, "clustering.json"), "w") as f:
        json.dump({"meta": meta, "cases": clustering_cases()}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
