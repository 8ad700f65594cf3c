#!/usr/bin/env python3
"""GANomaly in PyTorch, written from ../shared/docs/METHODS.md section 1, as
the side-by-side anchor for oddity's GANomaly: the same networks, losses,
schedule and leave-one-class-out protocol on the same CIFAR-10 JPEG copy, in
an independent framework.

It prints, per held-out class, the test AUC-ROC of the epoch that oddity
would keep (lowest generator loss on normal validation images) and, for
diagnosis only, the test AUC-ROC after every epoch and the best of them: the
best-epoch figure is what selecting the epoch on the test set (the
published protocol, which oddity does not do) would report.

Usage (Debian's interpreter, python3-torch, python3-sklearn, python3-pil):
    /usr/bin/python3 scripts/reference/ganomaly_torch.py --classes 2,4,9 \
        --width 16 --epochs 4 --max-images 12000 --seed 0
The defaults are oddity's CPU schedule (ganomaly.CPUOptions).
"""
import argparse
import os
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from sklearn.metrics import roc_auc_score

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def load_cifar(tgz, cache):
    """Decodes the JPEG archive once into a uint8 .npz cache."""
    if not os.path.exists(cache):
        xs = {"train": [], "test": []}
        ys = {"train": [], "test": []}
        with tarfile.open(tgz) as tf:
            for m in tf:
                if not m.isfile() or not m.name.endswith(".jpg"):
                    continue
                parts = m.name.split("/")
                split, cls = parts[-3], parts[-2]
                img = Image.open(tf.extractfile(m)).convert("RGB")
                xs[split].append(np.asarray(img, dtype=np.uint8))
                ys[split].append(CLASSES.index(cls))
        np.savez(cache, xtr=np.stack(xs["train"]), ytr=np.array(ys["train"]),
                 xte=np.stack(xs["test"]), yte=np.array(ys["test"]))
    d = np.load(cache)
    return d["xtr"], d["ytr"], d["xte"], d["yte"]


def to_tensor(x):
    """uint8 NHWC -> float NCHW in [-1, 1]."""
    return torch.from_numpy(x).permute(0, 3, 1, 2).float().div(255).mul(2).sub(1)


def encoder(c, w, nz):
    return nn.Sequential(
        nn.Conv2d(c, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2),
        nn.Conv2d(4 * w, nz, 4, 1, 0, bias=False))


class DilatedConvT(nn.ConvTranspose2d):
    """A transposed convolution evaluated as an ordinary convolution: zeros
    are inserted between the input pixels (stride - 1 of them), the result
    is padded by kernel - 1 - padding on each side, and convolved with the
    kernel flipped in space and with its channel axes swapped. Same
    parameters and result as nn.ConvTranspose2d; Debian's PyTorch 1.13 runs
    the native transposed convolution on CPU tens of times slower."""

    def forward(self, x):
        s, k, p = self.stride[0], self.kernel_size[0], self.padding[0]
        if s > 1:
            n, ch, h, w = x.shape
            z = x.new_zeros(n, ch, (h - 1) * s + 1, (w - 1) * s + 1)
            z[:, :, ::s, ::s] = x
            x = z
        q = k - 1 - p
        x = F.pad(x, (q, q, q, q))
        return F.conv2d(x, self.weight.transpose(0, 1).flip(2, 3).contiguous())


ConvT = DilatedConvT


def decoder(c, w, nz):
    return nn.Sequential(
        ConvT(nz, 4 * w, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
        ConvT(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
        ConvT(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
        ConvT(w, c, 4, 2, 1, bias=False), nn.Tanh())


class Disc(nn.Module):
    """The encoder layout with one output; features are the 4w x 4 x 4
    activations before the last convolution."""

    def __init__(self, c, w):
        super().__init__()
        e = encoder(c, w, 1)
        self.features = nn.Sequential(*list(e.children())[:-1])
        self.head = list(e.children())[-1]

    def forward(self, x):
        f = self.features(x)
        return self.head(f).view(-1), f


def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def run_class(cls, xtr, ytr, xte, yte, a):
    g = torch.Generator().manual_seed(a.seed)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    normal = np.flatnonzero(ytr != cls)
    perm = rng.permutation(normal)[: a.max_images] if a.max_images > 0 else rng.permutation(normal)
    nval = int(round(a.val_fraction * len(perm)))
    xval, xtrain = to_tensor(xtr[perm[:nval]]), to_tensor(xtr[perm[nval:]])
    xtest, ytest = to_tensor(xte), (yte == cls).astype(int)
    c, w, nz = 3, a.width, 100
    ge, gd, e2, d = encoder(c, w, nz), decoder(c, w, nz), encoder(c, w, nz), Disc(c, w)
    for m in (ge, gd, e2, d):
        m.apply(init_weights)
    gparams = list(ge.parameters()) + list(gd.parameters()) + list(e2.parameters())
    og = torch.optim.Adam(gparams, lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()

    def gen_losses(x):
        z = ge(x)
        xr = gd(z)
        zr = e2(xr)
        _, fx = d(x)
        _, fr = d(xr)
        adv = ((fx - fr) ** 2).mean()
        con = (x - xr).abs().mean()
        enc = ((z - zr) ** 2).mean()
        return xr, 1 * adv + 50 * con + 1 * enc

    def set_train(t):
        for m in (ge, gd, e2, d):
            m.train(t)

    @torch.no_grad()
    def scores(x):
        out = []
        for i in range(0, len(x), 256):
            xb = x[i:i + 256]
            z = ge(xb)
            out.append(((z - e2(gd(z))) ** 2).mean(dim=(1, 2, 3)))
        return torch.cat(out).numpy()

    @torch.no_grad()
    def val_loss(x):
        tot = 0.0
        for i in range(0, len(x), 256):
            xb = x[i:i + 256]
            tot += gen_losses(xb)[1].item() * len(xb)
        return tot / len(x)

    best_val, kept_auc, aucs = float("inf"), None, []
    steps = len(xtrain) // a.batch
    for ep in range(1, a.epochs + 1):
        t0 = time.time()
        set_train(True)
        order = torch.randperm(len(xtrain), generator=g)
        for s in range(steps):
            x = xtrain[order[s * a.batch:(s + 1) * a.batch]]
            xr, lg = gen_losses(x)
            og.zero_grad()
            lg.backward()
            og.step()
            lr_, _ = d(x)
            lf, _ = d(xr.detach())
            ld = 0.5 * (bce(lr_, torch.ones_like(lr_)) + bce(lf, torch.zeros_like(lf)))
            od.zero_grad()
            ld.backward()
            od.step()
            if ld.item() < 1e-5:
                d.apply(init_weights)
        set_train(False)
        v = val_loss(xval)
        auc = roc_auc_score(ytest, scores(xtest))
        aucs.append(auc)
        if v < best_val:
            best_val, kept_auc, kept = v, auc, ep
        print(f"  class {cls} ({CLASSES[cls]}) epoch {ep}: val G loss {v:.4f}, test AUC-ROC {auc:.4f} ({time.time() - t0:.0f} s)", flush=True)
    print(f"class {cls} ({CLASSES[cls]}) seed {a.seed}: kept epoch {kept} (lowest val loss) AUC-ROC {kept_auc:.4f}; "
          f"best epoch on the test set {int(np.argmax(aucs)) + 1}: {max(aucs):.4f}", flush=True)
    return kept_auc, max(aucs)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default=os.environ.get("ODDITY_DATASETS", "../shared/datasets"))
    p.add_argument("--cache", default="/tmp/cifar10-uint8.npz")
    p.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--max-images", type=int, default=12000)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    xtr, ytr, xte, yte = load_cifar(os.path.join(a.datasets, "cifar10", "cifar10-jpeg.tar.gz"), a.cache)
    kept, best = [], []
    for c in [int(s) for s in a.classes.split(",")]:
        k, b = run_class(c, xtr, ytr, xte, yte, a)
        kept.append(k)
        best.append(b)
    print(f"mean over classes {a.classes}: kept epoch {np.mean(kept):.4f}, best test epoch {np.mean(best):.4f}")


if __name__ == "__main__":
    main()
