#!/usr/bin/env python3
"""Reference side of the one-class SVM parity check: scikit-learn's OneClassSVM.

Follows Schölkopf et al., "Estimating the support of a high-dimensional
distribution" (Neural Computation 13(7), 2001): the ν-formulation's dual
(their eq. 7, α scaled by νl as libsvm scales it) solved by libsvm's SMO,
and the decision function f(x) = Σ_i α_i k(x_i, x) − ρ (their eq. 8's
argument). scikit-learn's defaults: RBF kernel, ν = 0.5, γ = "scale"
(1 / (d · X.var())), tol = 1e-3, cache_size = 200 MB, shrinking on.

The splits come from the Go side (ocsvm/parity_test.go, which builds
oddity's ADBench splits and subsamples the training rows as the detector
does), so both sides fit exactly the same float32 rows in the same order:

    DIR/<file>/seed<s>/train.npy   float32, n × d (the rows the SVM is fitted on)
    DIR/<file>/seed<s>/test.npy    float32, m × d

For each split (all under DIR, or the ones named) this script fits
OneClassSVM on train.npy (as float64, as scikit-learn converts it), writes
sklearn_scores.npy beside it (float64, −decision_function(test): higher =
more anomalous, the Go detector's score) and sklearn.json: the fit time
(wall-clock and process CPU seconds, single thread: libsvm does not use
threads), the iterations (n_iter_), the support vectors, offset_ and γ.

    /usr/bin/python3 scripts/reference/ocsvm.py DIR [SPLIT ...] [--tol 1e-3] [--nu 0.5]

SPLIT is a path relative to DIR, such as 6_cardio/seed0.
"""
import argparse
import glob
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.svm import OneClassSVM  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("splits", nargs="*")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--nu", type=float, default=0.5)
    a = ap.parse_args()
    splits = [os.path.join(a.dir, s) for s in a.splits] or sorted(glob.glob(os.path.join(a.dir, "*", "seed*")))
    for split in splits:
        key = os.path.relpath(split, a.dir)
        xtr = np.load(os.path.join(split, "train.npy")).astype(np.float64)
        xte = np.load(os.path.join(split, "test.npy")).astype(np.float64)
        m = OneClassSVM(kernel="rbf", nu=a.nu, gamma="scale", tol=a.tol)
        w0, c0 = time.perf_counter(), time.process_time()
        m.fit(xtr)
        w1, c1 = time.perf_counter(), time.process_time()
        s = -m.decision_function(xte)
        w2, c2 = time.perf_counter(), time.process_time()
        np.save(os.path.join(split, "sklearn_scores.npy"), s.astype(np.float64))
        rec = {
            "sklearn": sklearn.__version__,
            "tol": a.tol,
            "nu": a.nu,
            "rows": int(xtr.shape[0]),
            "fit_wall": w1 - w0,
            "fit_cpu": c1 - c0,
            "score_wall": w2 - w1,
            "score_cpu": c2 - c1,
            "n_iter": int(np.asarray(m.n_iter_).ravel()[0]),
            "n_sv": int(m.support_.shape[0]),
            "offset": float(m.offset_[0]),
            "gamma": float(m._gamma),
        }
        with open(os.path.join(split, "sklearn.json"), "w") as f:
            json.dump(rec, f, indent=1)
        print(f"{key}: {xtr.shape[0]} rows, fit {c1 - c0:.3f} s CPU, {rec['n_sv']} SV", flush=True)


if __name__ == "__main__":
    main()
