#!/usr/bin/env python3
"""Reference side of the Isolation Forest comparison with scikit-learn.

For every ADBench .npz file in DIR (members X: n x d, y: n) and each seed:
stratified 70/30 train/test split (train_test_split, random_state=seed),
min-max scaling fitted on the training part, IsolationForest with default
settings (100 trees, max_samples="auto" = min(256, n), random_state=seed)
fitted on the training part without labels, and AUC-ROC of the test scores
(-score_samples, so higher = more anomalous). The time measured is fit on
train plus score_samples on test, single-threaded (n_jobs=None), both as
wall-clock seconds and as process CPU seconds (the fairer figure on a
shared machine).

    /usr/bin/python3 sklearn_compare.py DIR OUT [--seeds 0 1 2] [--forests K]

writes OUT/sklearn.json with per-file, per-seed AUC and seconds, and exports
the scaled splits as raw little-endian arrays so the Go side scores exactly
the same rows: OUT/<name>/seed<s>/{train,test}.f32 (float32, row-major),
{train,test}.y (int32) and shape.json. With --forests K > 1 each split is
also scored by K forests (random_state = seed + 1000 k) and their mean AUC is
recorded as "auc_forests": the forest's own randomness moves the AUC of one
forest by a few hundredths on the small sets, so comparing two
implementations within 0.01 needs this average. Figures in the project were made with
scikit-learn 1.2.1, numpy 1.24.2.
"""
import argparse
import glob
import json
import os
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--forests", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    results = {"sklearn": sklearn.__version__, "numpy": np.__version__, "files": {}}
    for path in sorted(glob.glob(os.path.join(a.dir, "*.npz"))):
        name = os.path.splitext(os.path.basename(path))[0]
        z = np.load(path, allow_pickle=False)
        X = np.asarray(z["X"], dtype=np.float64)
        y = np.asarray(z["y"]).astype(np.int64).ravel()
        per = []
        for seed in a.seeds:
            Xtr, Xte, ytr, yte = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=seed
            )
            sc = MinMaxScaler().fit(Xtr)
            Xtr = sc.transform(Xtr).astype(np.float32)
            Xte = sc.transform(Xte).astype(np.float32)
            d = os.path.join(a.out, name, f"seed{seed}")
            os.makedirs(d, exist_ok=True)
            Xtr.astype("<f4").tofile(os.path.join(d, "train.f32"))
            Xte.astype("<f4").tofile(os.path.join(d, "test.f32"))
            ytr.astype("<i4").tofile(os.path.join(d, "train.y"))
            yte.astype("<i4").tofile(os.path.join(d, "test.y"))
            with open(os.path.join(d, "shape.json"), "w") as f:
                json.dump({"n_train": len(ytr), "n_test": len(yte), "d": X.shape[1]}, f)
            t0, c0 = time.perf_counter(), time.process_time()
            clf = IsolationForest(random_state=seed).fit(Xtr)
            s = -clf.score_samples(Xte)
            sec, cpu = time.perf_counter() - t0, time.process_time() - c0
            auc = roc_auc_score(yte, s)
            run = {"seed": seed, "auc": float(auc), "seconds": sec, "cpu_seconds": cpu}
            if a.forests > 1:
                aucs = [auc]
                for k in range(1, a.forests):
                    clf = IsolationForest(random_state=seed + 1000 * k).fit(Xtr)
                    aucs.append(roc_auc_score(yte, -clf.score_samples(Xte)))
                run["auc_forests"] = float(np.mean(aucs))
            per.append(run)
            print(f"{name} seed {seed}: auc {auc:.4f} in {sec:.3f}s {run.get('auc_forests', '')}", flush=True)
        results["files"][name] = {"n": int(X.shape[0]), "d": int(X.shape[1]), "runs": per}
    with open(os.path.join(a.out, "sklearn.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
