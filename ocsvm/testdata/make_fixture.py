#!/usr/bin/env python3
"""Writes sklearn_small.json: scikit-learn's OneClassSVM on small fixed tables.

Each case: float32 training and test rows (drawn from numpy's PCG64 with a
fixed seed, so the values are exact in JSON), the settings, and what
scikit-learn finds: the resolved gamma (_gamma), offset_ (= rho),
support_ (indices of the support vectors in the training rows), dual_coef_
(their alphas), decision_function on the training and test rows, and the
number of iterations (n_iter_). Regenerate with

    /usr/bin/python3 ocsvm/testdata/make_fixture.py ocsvm/testdata/sklearn_small.json

(figures committed were made with scikit-learn 1.2.1, numpy 1.24.2).
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.svm import OneClassSVM


def table(rng, n, d, const_col=None):
    x = np.concatenate([rng.normal(0.5, 0.15, size=(n - 3, d)), rng.uniform(0, 1, size=(3, d))])
    x = np.clip(x, 0, 1).astype(np.float32)
    if const_col is not None:
        x[:, const_col] = np.float32(0.25)
    return x


def main():
    rng = np.random.Generator(np.random.PCG64(20240519))
    cases = [
        dict(name="default-even", n=60, d=3, nu=0.5, gamma="scale", tol=1e-3, shrinking=True),
        dict(name="default-odd", n=61, d=4, nu=0.5, gamma="scale", tol=1e-3, shrinking=True),
        dict(name="nu0.1-auto", n=80, d=5, nu=0.1, gamma="auto", tol=1e-3, shrinking=True),
        dict(name="nu0.9-fixed-noshrink", n=50, d=2, nu=0.9, gamma=0.7, tol=1e-3, shrinking=False),
        dict(name="const-column-tight", n=70, d=4, nu=0.3, gamma="scale", tol=1e-6, shrinking=True, const_col=2),
        dict(name="n1", n=1, d=3, nu=0.5, gamma="scale", tol=1e-3, shrinking=True),
        # Long enough (more steps than rows) for shrinking to act.
        dict(name="shrinking-long", n=150, d=3, nu=0.5, gamma=10.0, tol=1e-6, shrinking=True, uniform=True),
        dict(name="shrinking-long-nu0.2", n=200, d=2, nu=0.2, gamma=30.0, tol=1e-5, shrinking=True, uniform=True),
    ]
    out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": []}
    for c in cases:
        if c["n"] <= 3 or c.get("uniform"):
            xtr = rng.uniform(0, 1, size=(c["n"], c["d"])).astype(np.float32)
        else:
            xtr = table(rng, c["n"], c["d"], c.get("const_col"))
        xte = np.clip(rng.normal(0.5, 0.3, size=(25, c["d"])), -0.5, 1.5).astype(np.float32)
        m = OneClassSVM(kernel="rbf", nu=c["nu"], gamma=c["gamma"], tol=c["tol"], shrinking=c["shrinking"])
        m.fit(xtr.astype(np.float64))
        rec = {k: v for k, v in c.items() if k not in ("n", "d", "const_col", "uniform")}
        rec["gamma"] = str(c["gamma"])
        rec.update(
            d=c["d"],
            train=[float(v) for v in xtr.ravel()],
            test=[float(v) for v in xte.ravel()],
            gamma_used=float(m._gamma),
            offset=float(m.offset_[0]),
            support=[int(i) for i in m.support_],
            dual_coef=[float(v) for v in m.dual_coef_.ravel()],
            decision_train=[float(v) for v in m.decision_function(xtr.astype(np.float64))],
            decision_test=[float(v) for v in m.decision_function(xte.astype(np.float64))],
            score_samples_test=[float(v) for v in m.score_samples(xte.astype(np.float64))],
            n_iter=int(np.asarray(m.n_iter_).ravel()[0]),
        )
        out["cases"].append(rec)
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, indent=0)


if __name__ == "__main__":
    main()
