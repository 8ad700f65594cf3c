"""Reference for TestDSCAffinityReference: DSC-Net's post-processing of a
coefficient matrix (column thresholding, symmetrisation, optional identity,
leading singular vectors scaled by the square roots of the singular values,
row normalisation, positive part of U U^T raised to a power, divided by the
maximum), written from the paper's description with NumPy's dense solvers.

Run: /usr/bin/python3 dsc_affinity.py > dsc_affinity.json
"""
import json
import numpy as np

rng = np.random.default_rng(20)
n, k, dim, keep, power = 40, 2, 4, 0.3, 4.0
groups = np.arange(n) % k
C = rng.normal(scale=0.01, size=(n, n))
same = groups[:, None] == groups[None, :]
C[same] += np.abs(rng.normal(scale=0.05, size=(n, n)))[same]
np.fill_diagonal(C, 0)
C = C.astype(np.float32).astype(np.float64)


def threshold(C, keep):
    out = np.zeros_like(C)
    for j in range(C.shape[1]):
        mag = np.abs(C[:, j])
        order = np.argsort(-mag, kind="stable")
        total, s = mag.sum(), 0.0
        for i in order:
            out[i, j] = C[i, j]
            s += mag[i]
            if s > keep * total:
                break
    return out


def affinity(C, identity):
    S = threshold(C, keep)
    S = 0.5 * (S + S.T)
    if identity:
        S = S + np.eye(n)
    r = dim * k + 1
    U, sv, _ = np.linalg.svd(S)
    U = U[:, :r] * np.sqrt(sv[:r])
    U = U / np.linalg.norm(U, axis=1, keepdims=True)
    Z = U @ U.T
    Z = np.where(Z > 0, Z, 0) ** power
    return Z / Z.max()


print(json.dumps({
    "n": n, "k": k, "dim": dim, "keep": keep, "power": power,
    "c": C.ravel().tolist(),
    "with_identity": affinity(C, True).ravel().tolist(),
    "without_identity": affinity(C, False).ravel().tolist(),
}))
