#!/usr/bin/env python3
"""Generates optim_fixtures.json: optimiser trajectories computed by PyTorch.

Run once, from the repository root, with the system interpreter:

    /usr/bin/python3 optim/testdata/make_fixtures.py

Every case updates three float32 parameters (shapes [2,3], [3], [2]) for six
steps from a fixed sequence of gradients drawn with numpy (seed 20240607).
The third parameter has no gradient (grad None) for the first two steps, so
per-parameter step counts matter. The learning rate is halved before step 4,
to exercise a learning-rate change. One case clips the gradients with
torch.nn.utils.clip_grad_norm_ before every step and records the norms it
returned. The file holds the initial values, the gradients, the parameters
after every step and the optimiser state after the last one; every float32 is
written exactly (as the double it converts to).
"""
import json
import os

import numpy as np
import torch

SEED = 20240607
STEPS = 6
SHAPES = [(2, 3), (3,), (2,)]
FIRST_GRAD_STEP = [0, 0, 2]  # parameter 2 gets a gradient from step index 2 on
LR_HALVED_AT = 3             # lr is halved before step index 3

CASES = [
    ("sgd_plain", "sgd", dict(lr=0.1)),
    ("sgd_momentum", "sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd_nesterov", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("adam_default", "adam", dict(lr=1e-3)),
    ("adam_ganomaly", "adam", dict(lr=2e-4, betas=(0.5, 0.999))),
    ("adam_l2", "adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", "adamw", dict(lr=1e-2, weight_decay=0.1)),
    ("rmsprop_default", "rmsprop", dict(lr=1e-2)),
    ("rmsprop_dplan", "rmsprop", dict(lr=2.5e-4, alpha=0.99, momentum=0.95, eps=0.01)),
    ("rmsprop_centered", "rmsprop", dict(lr=1e-2, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
    ("rmsprop_clipped", "rmsprop", dict(lr=1e-3, alpha=0.9, eps=1e-7)),
]
CLIP = {"rmsprop_clipped": 0.001}


def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    init = [rng.normal(0, 1, s).astype(np.float32) for s in SHAPES]
    # gradients of varied magnitude so that clipping and eps both matter
    scales = [1.0, 0.3, 3.0, 0.01, 1.0, 10.0]
    grads = [[(rng.normal(0, 1, s) * scales[t]).astype(np.float32) for s in SHAPES] for t in range(STEPS)]

    out = {
        "generator": "optim/testdata/make_fixtures.py",
        "torch": torch.__version__,
        "seed": SEED,
        "shapes": [list(s) for s in SHAPES],
        "first_grad_step": FIRST_GRAD_STEP,
        "lr_halved_at": LR_HALVED_AT,
        "init": [f32list(a) for a in init],
        "grads": [[f32list(g) for g in gs] for gs in grads],
        "cases": [],
    }
    for name, kind, kw in CASES:
        params = [torch.nn.Parameter(torch.tensor(a)) for a in init]
        opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
               "rmsprop": torch.optim.RMSprop}[kind](params, foreach=False, **kw)
        traj, norms = [], []
        for t in range(STEPS):
            if t == LR_HALVED_AT:
                for g in opt.param_groups:
                    g["lr"] = g["lr"] / 2
            for i, p in enumerate(params):
                p.grad = torch.tensor(grads[t][i]) if t >= FIRST_GRAD_STEP[i] else None
            if name in CLIP:
                norms.append(float(torch.nn.utils.clip_grad_norm_(params, CLIP[name])))
            opt.step()
            traj.append([f32list(p.detach().numpy()) for p in params])
        state = {}
        for i, p in enumerate(params):
            for k, v in opt.state[p].items():
                if v is None:
                    continue
                if k == "step":
                    state[f"step/{i}"] = int(float(v))
                else:
                    state[f"{k}/{i}"] = f32list(v.numpy())
        case = {"name": name, "kind": kind, "config": kw, "trajectory": traj, "state": state}
        if name in CLIP:
            case["clip_max_norm"] = CLIP[name]
            case["clip_norms"] = norms
        out["cases"].append(case)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_fixtures.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
