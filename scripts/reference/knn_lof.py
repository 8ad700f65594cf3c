"""Parity and speed of oddity's knn and lof against scikit-learn, on the same
splits (docs/methods.md sections 6.1 and 6.2).

    /usr/bin/python3 scripts/reference/knn_lof.py            # parity, 21 files x 3 seeds
    /usr/bin/python3 scripts/reference/knn_lof.py --timing   # speed, files over 10,000 rows and MNIST

It builds scripts/knnlof (oddity's side), runs it on one file at a time,
which writes the file's ADBench splits (protocol.ADBench: stratified 70/30,
min-max scaling fitted on the training part) as .npy with oddity's scores,
and then runs scikit-learn on the same float32 values:

- kNN, as PyOD's KNN (method "largest", n_neighbors 5): the distance to the
  5th nearest training row, from NearestNeighbors.kneighbors. PyOD's
  decision_function on new data is exactly this.
- LOF: LocalOutlierFactor(n_neighbors=20, novelty=True), scores
  -score_samples(X) (Breunig et al. 2000, Definitions 3 to 7; novelty
  scoring as scikit-learn defines it).

Parity prints, per file, the AUC-ROC of both sides (mean over the seeds), the
largest difference over the seeds, and the largest relative difference of the
scores themselves.

Timing runs, for every file over 10,000 rows and MNIST pixels (12,000
training images, 10,000 scored), oddity's fit+score (best of two runs) and
scikit-learn's with each algorithm (brute, ball_tree, kd_tree; n_jobs=2),
each in its own process with a time limit, the best algorithm re-run once and
the fastest time kept. Both sides do the same work: kNN fit+score is
fitting, the leave-one-out neighbours of every training row (PyOD's
decision_scores_, which oddity's Fit computes) and the test rows'
neighbours; LOF fit+score is fit and score_samples. The 'score' columns
are the test rows alone.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

ADBENCH = [
    "2_annthyroid", "4_breastw", "6_cardio", "10_cover", "12_fault", "14_glass", "19_landsat",
    "20_letter", "23_mammography", "26_optdigits", "27_PageBlocks", "28_pendigits", "29_Pima",
    "30_satellite", "32_shuttle", "35_SpamBase", "38_thyroid", "40_vowels", "41_Waveform",
    "42_WBC", "44_Wilt",
]
LARGE = ["10_cover", "23_mammography", "32_shuttle"]  # the files over 10,000 rows


def build(out):
    binary = os.path.join(out, "knnlof")
    subprocess.run(["go", "build", "-o", binary, "./scripts/knnlof"], cwd=ROOT, check=True)
    return binary


def oddity(binary, out, files, seeds, mnist=False, repeat=1):
    cmd = [binary, "--out", out, "--files", ",".join(files), "--seeds", str(seeds), "--repeat", str(repeat)]
    if mnist:
        cmd.append("--mnist")
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def load(d):
    return (np.load(os.path.join(d, "train.npy")), np.load(os.path.join(d, "test.npy")),
            np.load(os.path.join(d, "ytest.npy")).astype(int))


def sk_knn(train, test, algorithm="auto"):
    from sklearn.neighbors import NearestNeighbors
    X, Q = train.astype(np.float64), test.astype(np.float64)
    dist, _ = NearestNeighbors(n_neighbors=5, algorithm=algorithm).fit(X).kneighbors(Q)
    return dist[:, -1]


def sk_lof(train, test, algorithm="auto"):
    from sklearn.neighbors import LocalOutlierFactor
    X, Q = train.astype(np.float64), test.astype(np.float64)
    lof = LocalOutlierFactor(n_neighbors=20, novelty=True, algorithm=algorithm).fit(X)
    return -lof.score_samples(Q)


def reldiff(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-300, np.maximum(np.abs(a), np.abs(b)))))


def parity(binary, out, files, seeds):
    """scikit-learn runs with its default algorithm ("auto"). Where oddity's
    LOF AUC differs from it by more than 0.005 on a seed, LOF is run with
    every algorithm (brute only below 50,000 rows) to show how far
    scikit-learn's own choices spread: exactly k neighbours are kept, and
    which of several rows tied at the k-th distance they are depends on the
    search algorithm (and on float64 round-off in brute's distances), which
    changes the densities."""
    from sklearn.metrics import roc_auc_score
    print("%-16s %6s %3s | %-15s | %-15s | %-17s | %-17s | %s" % (
        "file", "n", "d", "kNN AUC odd/skl", "LOF AUC odd/skl", "max |dAUC| kNN LOF", "max rel dscore", "LOF: skl's own spread"))
    worst = {"knn": 0.0, "lof": 0.0}
    for f in files:
        oddity(binary, out, [f], seeds)
        rows, spread = [], []
        for s in range(seeds):
            d = os.path.join(out, f, "seed%d" % s)
            train, test, y = load(d)
            r = json.load(open(os.path.join(d, "result.json")))
            ok, ol = np.load(os.path.join(d, "knn.npy")), np.load(os.path.join(d, "lof.npy"))
            sk, sl = sk_knn(train, test), sk_lof(train, test)
            rows.append((r["knn_auc"], roc_auc_score(y, sk), r["lof_auc"], roc_auc_score(y, sl),
                         reldiff(ok, sk), reldiff(ol, sl)))
            if abs(rows[-1][2] - rows[-1][3]) > 0.005:
                algs = ["kd_tree", "ball_tree"] + (["brute"] if len(train) < 50000 else [])
                aucs = {a: roc_auc_score(y, sk_lof(train, test, a)) for a in algs}
                spread.append("seed %d: oddity %.4f, %s" % (s, r["lof_auc"], ", ".join(
                    "%s %.4f" % kv for kv in aucs.items())))
        a = np.array(rows)
        dk, dl = np.max(np.abs(a[:, 0] - a[:, 1])), np.max(np.abs(a[:, 2] - a[:, 3]))
        worst["knn"], worst["lof"] = max(worst["knn"], dk), max(worst["lof"], dl)
        print("%-16s %6d %3d | %.4f / %.4f | %.4f / %.4f | %.1e  %.1e | %.1e  %.1e | %s" % (
            f, len(train) + len(test), train.shape[1], a[:, 0].mean(), a[:, 1].mean(), a[:, 2].mean(), a[:, 3].mean(),
            dk, dl, a[:, 4].max(), a[:, 5].max(), "; ".join(spread)), flush=True)
    print("largest AUC-ROC difference over %d files x %d seeds: kNN %.2e, LOF %.2e (target 0.005)" % (
        len(files), seeds, worst["knn"], worst["lof"]))


def sk_time(d, algorithm, method):
    """One scikit-learn fit+score, in this process: prints JSON."""
    from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
    train, test, _ = load(d)
    c0 = time.process_time()  # every thread of the process
    t0 = time.perf_counter()
    if method == "knn":
        nn = NearestNeighbors(n_neighbors=5, algorithm=algorithm, n_jobs=2).fit(train)
        nn.kneighbors()  # leave-one-out: PyOD's decision_scores_
        t1 = time.perf_counter()
        nn.kneighbors(test)
    else:
        lof = LocalOutlierFactor(n_neighbors=20, novelty=True, algorithm=algorithm, n_jobs=2).fit(train)
        t1 = time.perf_counter()
        lof.score_samples(test)
    t2 = time.perf_counter()
    print(json.dumps({"fit": t1 - t0, "score": t2 - t1, "cpu": time.process_time() - c0}))


def wall(t):
    return t["fit"] + t["score"]


def sk_timed(d, algorithm, method, limit):
    try:
        p = subprocess.run([sys.executable, __file__, "--sk-time", d, algorithm, method],
                           capture_output=True, text=True, timeout=limit, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(p.stdout)


def timing(binary, out, limit, which):
    """Wall time is what a user waits; on a machine shared with other work
    it depends on what else runs, so the CPU time of the same runs (every
    thread, user and system) is printed beside it: on an otherwise idle
    machine the two ratios agree."""
    print("%-14s %-4s %6s %3s %-6s | %-19s | %-28s | %-13s | %s" % (
        "data", "", "train", "d", "oddity", "oddity wall (cpu)", "scikit-learn best wall (cpu)",
        "speed-up wall (cpu)", "score only oddity/sklearn; scikit-learn's algorithms"))
    for f in which:
        if f == "mnist":
            oddity(binary, out, [], 1, mnist=True, repeat=2)
        else:
            oddity(binary, out, [f], 1, repeat=2)
        d = os.path.join(out, f, "seed0")
        r = json.load(open(os.path.join(d, "result.json")))
        for method in ("knn", "lof"):
            go_fit, go_score = r[method + "_fit_s"], r[method + "_score_s"]
            best, notes = None, []
            # Cheapest first, so that the others' time limit is tight.
            for alg in ("kd_tree", "ball_tree", "brute") if r["d"] <= 16 else ("brute", "ball_tree", "kd_tree"):
                cap = limit if best is None else min(limit, max(30.0, 5 * wall(best[1])))
                t = sk_timed(d, alg, method, cap)
                if t is None:
                    notes.append("%s >%.0fs" % (alg, cap))
                    continue
                notes.append("%s %.2fs" % (alg, wall(t)))
                if best is None or wall(t) < wall(best[1]):
                    best = (alg, t)
            again = sk_timed(d, best[0], method, limit)
            if again is not None and wall(again) < wall(best[1]):
                best = (best[0], again)
            sk, go = wall(best[1]), go_fit + go_score
            skc, goc = best[1]["cpu"], r[method + "_cpu_s"]
            print("%-14s %-4s %6d %3d %-6s | %7.3fs (%7.3fs) | %7.3fs (%7.3fs) %-9s | %4.1fx (%4.1fx) | %.3fs / %.3fs; %s" % (
                f, method, r["n_train"], r["d"], r["algorithm"], go, goc, sk, skc, best[0],
                sk / go, skc / goc, go_score, best[1]["score"], ", ".join(notes)), flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--sk-time":
        sk_time(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/knn_lof", help="working folder for the splits and scores")
    ap.add_argument("--files", default="", help="comma-separated files (default: all 21 for parity; "
                    "the files over 10,000 rows and mnist for timing)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--timing", action="store_true", help="the speed comparison instead of parity")
    ap.add_argument("--limit", type=float, default=600, help="seconds allowed to one scikit-learn run")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    binary = build(a.out)
    if a.timing:
        timing(binary, a.out, a.limit, a.files.split(",") if a.files else LARGE + ["mnist"])
    else:
        parity(binary, a.out, a.files.split(",") if a.files else ADBENCH, a.seeds)


if __name__ == "__main__":
    main()
