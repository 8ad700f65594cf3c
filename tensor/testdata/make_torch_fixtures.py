#!/usr/bin/env python3
"""Generates torch_fixtures.json: forward values and gradients from PyTorch
for the tensor engine's convolutions, batch norm, activations and losses.

Run once, from the repository root, with the system interpreter:

    /usr/bin/python3 tensor/testdata/make_torch_fixtures.py

Inputs are drawn with numpy (fixed seed) as float32, so the Go engine sees
exactly the same values; PyTorch then computes in float64 from them, so the
expected values carry no float32 rounding of their own. For every case the
loss is L = sum(u * out) with u a fixed random "upstream" tensor of the
output's shape (a random scalar for the losses), and the file holds out and
dL/d(input) for each input the engine differentiates.

Each case: {"name", "op", "attrs", "inputs": {name: tensor}, "upstream":
tensor, "expect": {"out": tensor, "grad_<input>": tensor, ...}} where a
tensor is {"shape": [...], "data": [...]} (row-major).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

SEED = 1234
rng = np.random.default_rng(SEED)


def f32(shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def away(a, m=0.05):
    """Push values out of (-m, m) so no kink is sampled at its corner."""
    a = a.copy()
    small = np.abs(a) < m
    a[small] = np.where(a[small] >= 0, a[small] + m, a[small] - m)
    return a


def enc_in(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "data": [float(v) for v in a.ravel()]}


def enc_out(t):
    a = t.detach().cpu().numpy().astype(np.float64)
    return {"shape": list(a.shape), "data": [float("%.10g" % v) for v in a.ravel()]}


cases = []


def add_case(name, op, attrs, inputs, fn, grads):
    """inputs: name -> float32 array; fn(tensors) -> output; grads: the
    inputs whose gradient is recorded."""
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in grads) for k, v in inputs.items()}
    out = fn(ts)
    u = rng.uniform(-1, 1, tuple(out.shape)).astype(np.float32)
    loss = (out * torch.tensor(u, dtype=torch.float64)).sum()
    loss.backward()
    expect = {"out": enc_out(out)}
    for k in grads:
        expect["grad_" + k] = enc_out(ts[k].grad)
    extra = getattr(fn, "extra", None)
    if extra:
        for k, v in extra().items():
            expect[k] = enc_out(v)
    cases.append({"name": name, "op": op, "attrs": attrs,
                  "inputs": {k: enc_in(v) for k, v in inputs.items()},
                  "upstream": enc_in(u), "expect": expect})


def conv_cases():
    specs = [  # name, N, C, H, W, Cout, (kh, kw), stride, padding, bias
        ("k5s2p2_bias", 2, 3, 7, 7, 4, (5, 5), 2, 2, True),
        ("k3s2p0_bias", 2, 2, 7, 7, 3, (3, 3), 2, 0, True),
        ("k4s2p1_nobias", 2, 3, 8, 8, 4, (4, 4), 2, 1, False),
        ("k3s1p1_rect_input", 2, 2, 5, 6, 3, (3, 3), 1, 1, True),
        ("k4s1p0_nobias", 1, 4, 4, 4, 2, (4, 4), 1, 0, False),
        ("k1s1p0_bias", 2, 3, 5, 5, 2, (1, 1), 1, 0, True),
        ("k3x2s1p0_rect_kernel", 1, 2, 5, 4, 3, (3, 2), 1, 0, True),
        ("k3s3p1_bias", 2, 2, 8, 8, 2, (3, 3), 3, 1, True),
    ]
    for name, n, c, h, w, co, (kh, kw), s, p, bias in specs:
        inputs = {"x": f32((n, c, h, w)), "w": f32((co, c, kh, kw), -0.5, 0.5)}
        if bias:
            inputs["b"] = f32((co,))
        fn = lambda t, s=s, p=p: F.conv2d(t["x"], t["w"], t.get("b"), stride=s, padding=p)
        add_case("conv2d_" + name, "conv2d", {"stride": s, "padding": p}, inputs, fn, list(inputs))


def convt_cases():
    specs = [  # name, N, Cin, H, W, Cout, k, stride, padding, output_padding
        ("k3s2p0", 2, 3, 3, 3, 2, 3, 2, 0, 0),
        ("k5s2p2op1", 2, 3, 4, 4, 2, 5, 2, 2, 1),
        ("k4s2p1", 2, 3, 4, 4, 2, 4, 2, 1, 0),
        ("k4s1p0_1x1", 2, 4, 1, 1, 3, 4, 1, 0, 0),
        ("k4s1p0_2x2", 1, 2, 2, 2, 3, 4, 1, 0, 0),
        ("k3s2p1op1_rect_input", 2, 2, 3, 4, 2, 3, 2, 1, 1),
    ]
    for name, n, ci, h, w, co, k, s, p, op in specs:
        for bias in (True, False):
            inputs = {"x": f32((n, ci, h, w)), "w": f32((ci, co, k, k), -0.5, 0.5)}
            if bias:
                inputs["b"] = f32((co,))
            fn = lambda t, s=s, p=p, op=op: F.conv_transpose2d(t["x"], t["w"], t.get("b"), stride=s, padding=p, output_padding=op)
            add_case("convtranspose2d_%s_%s" % (name, "bias" if bias else "nobias"), "conv_transpose2d",
                     {"stride": s, "padding": p, "output_padding": op}, inputs, fn, list(inputs))


def batchnorm_cases():
    specs = [  # name, shape
        ("bn2d", (3, 4, 3, 3)),
        ("bn2d_batch1", (1, 2, 3, 3)),
        ("bn1d", (6, 5)),
    ]
    for name, shape in specs:
        c = shape[1]
        for training in (True, False):
            x = f32(shape, -2, 3)
            inputs = {"x": x, "gamma": f32((c,), 0.5, 1.5), "beta": f32((c,), -0.5, 0.5),
                      "running_mean": f32((c,), -0.5, 0.5), "running_var": f32((c,), 0.5, 2.0)}
            state = {}

            def fn(t, training=training, state=state):
                rm = t["running_mean"].detach().clone()
                rv = t["running_var"].detach().clone()
                state["rm"], state["rv"] = rm, rv
                return F.batch_norm(t["x"], rm, rv, t["gamma"], t["beta"], training=training, momentum=0.1, eps=1e-5)

            fn.extra = lambda state=state: {"running_mean": state["rm"], "running_var": state["rv"]}
            add_case("%s_%s" % (name, "train" if training else "eval"), "batch_norm",
                     {"training": training, "momentum": 0.1, "eps": 1e-5}, inputs, fn, ["x", "gamma", "beta"])


def activation_cases():
    x = away(f32((2, 3, 4), -3, 3))
    add_case("leaky_relu_0.2", "leaky_relu", {"slope": 0.2}, {"x": x}, lambda t: F.leaky_relu(t["x"], 0.2), ["x"])
    add_case("relu", "relu", {}, {"x": away(f32((17,), -2, 2))}, lambda t: F.relu(t["x"]), ["x"])
    add_case("tanh", "tanh", {}, {"x": f32((3, 5), -4, 4)}, lambda t: torch.tanh(t["x"]), ["x"])
    xs = np.concatenate([f32((12,), -6, 6), np.array([-30, -15, 15, 30], dtype=np.float32)])
    add_case("sigmoid", "sigmoid", {}, {"x": xs}, lambda t: torch.sigmoid(t["x"]), ["x"])


def loss_cases():
    x = np.concatenate([f32((10,), -4, 4), np.array([-40, -20, 20, 40], dtype=np.float32)])
    y = np.concatenate([(rng.uniform(0, 1, 7) > 0.5).astype(np.float32), f32((7,), 0, 1)])
    add_case("bce_with_logits", "bce_with_logits", {}, {"x": x, "y": y},
             lambda t: F.binary_cross_entropy_with_logits(t["x"], t["y"]), ["x"])
    for beta in (1.0, 0.5, 2.0):
        a, b = f32((4, 5), -3, 3), f32((4, 5), -3, 3)
        d = a - b  # keep |a - b| away from beta, where the loss switches branch
        near = np.abs(np.abs(d) - beta) < 0.05
        a[near] += np.float32(0.2)
        add_case("smooth_l1_beta%g" % beta, "smooth_l1", {"beta": beta}, {"a": a, "b": b},
                 lambda t, beta=beta: F.smooth_l1_loss(t["a"], t["b"], beta=beta), ["a", "b"])
    a, b = f32((3, 7), -2, 2), f32((3, 7), -2, 2)
    add_case("mse", "mse", {}, {"a": a, "b": b}, lambda t: F.mse_loss(t["a"], t["b"]), ["a", "b"])
    a, b = f32((3, 7), -2, 2), f32((3, 7), -2, 2)
    add_case("l1", "l1", {}, {"a": a, "b": b}, lambda t: F.l1_loss(t["a"], t["b"]), ["a", "b"])
    # KL(P||Q) with rows of P and Q summing to one; P has zero entries.
    q = rng.uniform(0.05, 1, (5, 4))
    q = (q / q.sum(1, keepdims=True)).astype(np.float32)
    p = rng.uniform(0, 1, (5, 4))
    p[rng.uniform(0, 1, (5, 4)) < 0.25] = 0
    p[:, 0] += 0.1
    p = (p / p.sum(1, keepdims=True)).astype(np.float32)
    add_case("kl_div_batchmean", "kl_div", {}, {"p": p, "q": q},
             lambda t: F.kl_div(t["q"].log(), t["p"], reduction="batchmean"), ["q"])


def main():
    torch.set_num_threads(1)
    conv_cases()
    convt_cases()
    batchnorm_cases()
    activation_cases()
    loss_cases()
    out = {"generator": "tensor/testdata/make_torch_fixtures.py", "torch": torch.__version__,
           "numpy_seed": SEED, "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_fixtures.json")
    with open(path, "w") as f:
        # one case per line, so a regenerated file diffs case by case
        head = json.dumps({k: v for k, v in out.items() if k != "cases"})
        f.write(head[:-1] + ', "cases": [\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print("wrote %s: %d cases, %d bytes" % (path, len(cases), os.path.getsize(path)))


if __name__ == "__main__":
    main()
