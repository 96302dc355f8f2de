#!/usr/bin/env python3
"""Interop check of `simsiamc step` against the PyTorch reference.

    python3 scripts/check_step.py --workload NAME --batch N --simsiamc PATH
        [--seed S] [--keep DIR] [--reference-dtype float32|float64]
        [--flip-samples K] [--threads T]

For each of two cases, (a) PyTorch-initialised parameters and (b) the same
with randomize_bn applied (so residual-branch gradients are non-zero), it
writes into a temporary directory (or DIR/case-a, DIR/case-b with --keep)

    params.safetensors   the state_dict (float32; num_batches_tracked int64)
    views.safetensors    x1, x2: [N, C, H, W] float32 ~ N(0, 1)

runs

    PATH step --workload NAME --batch N --params params.safetensors
         --views views.safetensors --out out.safetensors --lr LR --weight-decay WD

with LR = base_lr * N / 256 and WD = 5e-4 (momentum 0.9 is simsiamc's
default), and compares out.safetensors (`loss`, `grad.<name>` for every
trainable parameter, the updated parameters and BN buffers under their names)
with the same step run by PyTorch (float32 by default).

Criteria, a = simsiamc, b = reference:

    loss                 |a - b| / max(|b|, mean |cos_i|)        <= 1e-5
    other tensors        (max|a - b| - allowance) / max|b|        <= 1e-3
    num_batches_tracked  equal (int64)

* Loss scale. L is the mean of 2N cosines of either sign and is close to 0 at
  initialisation, so |b| alone is no scale (PyTorch float32 vs float64 differ
  by 4e-5 relative on W1, batch 256). The scale is the condition of that mean:
  the mean of the |cos_i| (computed in float64).
* ReLU-mask allowance (gradients and updated parameters). Two correct float32
  implementations disagree on the sign of ReLU inputs whose exact value is
  within their rounding noise; every such flip moves a gradient by one whole
  summand of a sum with heavy cancellation. Measured on W1: PyTorch float32
  with and without oneDNN differ by up to 2.7e-2 = max|a-b|/max|b| on
  grad.projector.1.bias, so 1e-3 alone is not attainable. The allowance is
  estimated in float64: for every ReLU call, sigma = RMS of (float32 - float64)
  PyTorch input near zero; the non-zero elements with |x| < 3 sigma get their backward
  mask flipped at random (p = 1/2), K times (--flip-samples, default 4); the
  allowance of a gradient is twice the largest change seen, and lr times that for
  the updated parameter. BN buffers and the loss get none. The table shows it
  relative to max|b| ("allow"). --flip-samples 0: no allowance for ReLU flips.
* The update w' - w of every trainable parameter is compared too (rows
  `update.<name>`, allowance + float32 eps * max|w'| for the rounding of the
  stored parameters): on w' alone a missing weight decay (lr * wd * |w|) would
  be invisible. Momentum cannot be checked by one step from zero buffers.
* A BN running_mean is measured against max(max|b|, 0.1 sqrt(max running_var))
  (a batch mean can be mathematically 0, e.g. predictor.1, fed by a Linear of
  the affine-free projector.7 output). A tensor whose scale is 0 must be 0.
* The frozen projector bias is optional in the output; if present it must be
  unchanged. Unexpected extra tensors are listed, not failed.

Exits 1 on any failure (missing tensor, wrong shape or dtype, NaN, tolerance,
simsiamc's exit status).
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simsiam_reference as ref  # noqa: E402

LOSS_TOL = 1e-5
TENSOR_TOL = 1e-3
WEIGHT_DECAY = 5e-4
MOMENTUM = 0.9        # simsiamc's default; not passed on the command line
FLIP_SIGMAS = 3.0     # ReLU inputs within this many float32 noise sigmas may flip
ALLOWANCE_FACTOR = 2.0  # safety factor on the largest sampled flip effect
NEAR_SAMPLE = 1e-4    # float32 inputs below this fraction of max|x| sample the noise


def make_case(cfg, batch, seed, randomize):
    model = ref.build_model(cfg, seed=seed)
    gen = torch.Generator().manual_seed(seed * 7919 + (2 if randomize else 1))
    if randomize:
        ref.randomize_bn(model, gen)
    shape = (batch,) + cfg.input_shape
    views = {"x1": torch.randn(shape, generator=gen).numpy().astype(np.float32),
             "x2": torch.randn(shape, generator=gen).numpy().astype(np.float32)}
    return ref.state_to_numpy(model), views


def reference_step(cfg, params, views, lr, dtype):
    model = ref.SimSiam(cfg)
    ref.load_numpy_state(model, params)
    model = model.to(dtype)
    loss, grads = ref.train_step(model, torch.from_numpy(views["x1"]).to(dtype),
                                 torch.from_numpy(views["x2"]).to(dtype),
                                 lr=lr, weight_decay=WEIGHT_DECAY, momentum=MOMENTUM)
    after = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return (float(loss), {k: v.numpy() for k, v in grads.items()}, after,
            ref.trainable_names(model), set(ref.frozen_names(model)))


# --------------------------------------------------------------------------
# ReLU-mask flip analysis
# --------------------------------------------------------------------------

class _FlipState:
    def __init__(self):
        self.mode = "record"   # "record" (float32 pass) or "analyse" (float64 pass)
        self.samples = []      # record: per call (flat indices, float32 values)
        self.near = []         # analyse: per call, flat indices that may flip
        self.flip = None       # analyse: per call, flat indices flipped in this backward
        self.calls = 0


class _FlipReLUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, state):
        i = state.calls
        state.calls += 1
        flat = x.detach().reshape(-1)
        scale = flat.abs().max()
        if state.mode == "record":
            idx = torch.nonzero(flat.abs() < NEAR_SAMPLE * scale).reshape(-1)
            state.samples.append((idx, flat[idx].double()))
        else:
            idx, x32 = state.samples[i]
            x64 = flat[idx]
            nz = x64 != 0   # exact zeros (e.g. 0 * xhat + 0 behind a zero gamma) are exact
            sigma = float(torch.sqrt(torch.mean((x32[nz] - x64[nz]) ** 2))) if nz.any() else 0.0
            near = (flat.abs() < FLIP_SIGMAS * sigma) & (flat != 0)
            state.near.append(torch.nonzero(near).reshape(-1))
        ctx.call = i
        ctx.state = state
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        mask = (x > 0).to(gy.dtype)
        flip = ctx.state.flip[ctx.call] if ctx.state.flip is not None else None
        if flip is not None and flip.numel():
            m = mask.reshape(-1)
            m[flip] = 1 - m[flip]
        return gy * mask, None


class _FlipReLU(nn.Module):
    def __init__(self, state):
        super().__init__()
        self.state = state

    def forward(self, x):
        return _FlipReLUFn.apply(x, self.state)


def _install_flip_relu(model, state):
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(parent, name, _FlipReLU(state))


def analyse(cfg, params, views, samples, seed):
    """float64 loss scale and per-gradient ReLU-flip allowance (absolute)."""
    state = _FlipState()
    x = {k: torch.from_numpy(v) for k, v in views.items()}
    names = None
    if samples > 0:
        m32 = ref.SimSiam(cfg)
        ref.load_numpy_state(m32, params)
        _install_flip_relu(m32, state)
        m32.train()
        with torch.no_grad():
            m32(x["x1"], x["x2"])
        del m32
    state.mode, state.calls = "analyse", 0
    m64 = ref.SimSiam(cfg)
    ref.load_numpy_state(m64, params)
    m64 = m64.double()
    m64.train()
    if samples > 0:
        _install_flip_relu(m64, state)
    p1, p2, z1, z2 = m64(x["x1"].double(), x["x2"].double())
    with torch.no_grad():
        c = torch.cat([F.cosine_similarity(p1, z2, dim=1, eps=1e-8),
                       F.cosine_similarity(p2, z1, dim=1, eps=1e-8)])
        loss_scale = float(c.abs().mean())
    allowance, n_near = {}, 0
    if samples > 0:
        loss = ref.simsiam_loss(p1, p2, z1, z2)
        named = [(n, p) for n, p in m64.named_parameters() if p.requires_grad]
        names = [n for n, _ in named]
        ps = [p for _, p in named]
        base = torch.autograd.grad(loss, ps, retain_graph=True)
        allowance = {n: 0.0 for n in names}
        n_near = sum(int(t.numel()) for t in state.near)
        rng = torch.Generator().manual_seed(seed)
        for k in range(samples if n_near else 0):
            state.flip = [t[torch.rand(t.numel(), generator=rng) < 0.5] for t in state.near]
            g = torch.autograd.grad(loss, ps, retain_graph=k < samples - 1)
            for n, gk, gb in zip(names, g, base):
                allowance[n] = max(allowance[n],
                                   ALLOWANCE_FACTOR * float((gk - gb).abs().max()))
    return loss_scale, allowance, n_near


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------

def running_mean_floor(name, expected):
    if not name.endswith(".running_mean"):
        return 0.0
    rv = expected.get(name[:-len("running_mean")] + "running_var")
    return 0.0 if rv is None else 0.1 * float(np.sqrt(np.max(rv)))


class Report:
    def __init__(self):
        # (case, name, shape, max|a-b|, scale, rel, allow_rel, tol, ok)
        self.rows = []
        self.problems = []   # (case, message)

    def fail(self, case, msg):
        self.problems.append((case, msg))

    def compare(self, case, name, a, b, tol, floor=0.0, allowance=0.0):
        b = np.asarray(b)
        if a is None:
            self.fail(case, f"missing from simsiamc's output: {name}")
            return
        a = np.asarray(a)
        if tuple(a.shape) != tuple(b.shape):
            self.fail(case, f"{name}: shape {list(a.shape)}, expected {list(b.shape)}")
            return
        if name.endswith("num_batches_tracked"):
            ok = a.dtype == np.int64 and np.array_equal(a, b)
            if a.dtype != np.int64:
                self.fail(case, f"{name}: dtype {a.dtype}, expected int64")
            elif not ok:
                self.fail(case, f"{name}: {a.tolist()} != expected {b.tolist()}")
            self.rows.append((case, name, b.shape, float(np.abs(a.astype(np.float64) - b).max()),
                              float(np.abs(b).max()), 0.0 if ok else math.inf, 0.0, 0.0, ok))
            return
        if a.dtype.kind != "f":
            self.fail(case, f"{name}: dtype {a.dtype}, expected a float type")
            return
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        scale = max(float(np.abs(b64).max(initial=0.0)), floor)
        if not np.all(np.isfinite(a64)):
            diff = rel = math.inf
        else:
            diff = float(np.abs(a64 - b64).max(initial=0.0))
            rel = diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)
        allow_rel = allowance / scale if scale > 0 else 0.0
        ok = rel <= tol + allow_rel
        self.rows.append((case, name, b.shape, diff, scale, rel, allow_rel, tol, ok))
        if not ok:
            if not math.isfinite(diff):
                self.fail(case, f"{name}: non-finite values")
            elif scale == 0:
                self.fail(case, f"{name}: reference is exactly 0, max|a| = {diff:.3e}")
            else:
                self.fail(case, f"{name}: relative error {rel:.3e} > {tol:g}"
                          + (f" + allowance {allow_rel:.2e}" if allow_rel else ""))


def run_case(args, cfg, case, randomize, workdir, report, info):
    params, views = make_case(cfg, args.batch, args.seed, randomize)
    lr = cfg.lr(args.batch)
    p_params = os.path.join(workdir, "params.safetensors")
    p_views = os.path.join(workdir, "views.safetensors")
    p_out = os.path.join(workdir, "out.safetensors")
    ref.save_safetensors(p_params, params)
    ref.save_safetensors(p_views, views)
    if os.path.exists(p_out):
        os.remove(p_out)
    cmd = [args.simsiamc, "step", "--workload", cfg.name, "--batch", str(args.batch),
           "--params", p_params, "--views", p_views, "--out", p_out,
           "--lr", repr(lr), "--weight-decay", repr(WEIGHT_DECAY)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        report.fail(case, f"could not run simsiamc: {e}")
        return
    info[case] = {"time": time.perf_counter() - t0}
    if proc.returncode != 0 or not os.path.exists(p_out):
        report.fail(case, f"simsiamc exited with {proc.returncode}"
                    + ("" if os.path.exists(p_out) else ", no output file"))
        for line in (proc.stdout + proc.stderr).strip().splitlines()[-15:]:
            print(f"  [{case}] simsiamc: {line}")
        return
    try:
        out, _ = ref.load_safetensors(p_out)
    except Exception as e:  # noqa: BLE001 - any malformed file is a failure
        report.fail(case, f"cannot read {p_out}: {e}")
        return

    dtype = torch.float64 if args.reference_dtype == "float64" else torch.float32
    loss, grads, after, trainable, frozen = reference_step(cfg, params, views, lr, dtype)
    loss_scale, allowance, n_near = analyse(cfg, params, views, args.flip_samples,
                                            args.seed * 31 + ord(case))
    info[case]["near"] = n_near

    expected = {"loss": np.asarray(loss)}
    allow = {}
    for n in trainable:
        expected[f"grad.{n}"] = grads[n]
        allow[f"grad.{n}"] = allowance.get(n, 0.0)
        allow[n] = lr * allowance.get(n, 0.0)   # w' = w - lr (g + wd w) on the first step
    for n, v in after.items():
        if n not in frozen:
            expected[n] = v
    for n, b in expected.items():
        if n == "loss":
            report.compare(case, n, out.get(n), b, LOSS_TOL, floor=loss_scale)
        else:
            report.compare(case, n, out.get(n), b, TENSOR_TOL,
                           floor=running_mean_floor(n, expected), allowance=allow.get(n, 0.0))
    # The update itself, w' - w = -lr (g + wd w): compared on w' alone, an error of
    # order lr * wd * |w| (a missing weight decay) would be far below 1e-3.
    eps32 = float(np.finfo(np.float32).eps)
    for n in trainable:
        a = out.get(n)
        if a is None or np.shape(a) != params[n].shape or np.asarray(a).dtype.kind != "f":
            continue   # already reported
        w0 = params[n].astype(np.float64)
        report.compare(case, f"update.{n}", a.astype(np.float64) - w0, after[n].astype(np.float64) - w0,
                       TENSOR_TOL, allowance=allow[n] + eps32 * float(np.abs(after[n]).max()))
    for n in frozen:   # optional in the output, but must not change
        if n in out:
            report.compare(case, n, out[n], params[n], 0.0)
    extra = sorted(set(out) - set(expected) - frozen)
    if extra:
        print(f"  [{case}] note: {len(extra)} unexpected tensor(s) in output: "
              + ", ".join(extra[:8]) + (" ..." if len(extra) > 8 else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", required=True, choices=list(ref.CONFIGS))
    ap.add_argument("--batch", type=int, help="batch per view (default: the workload's)")
    ap.add_argument("--simsiamc", required=True, help="path of the simsiamc executable")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", metavar="DIR", help="keep the files in DIR/case-a, DIR/case-b")
    ap.add_argument("--reference-dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--flip-samples", type=int, default=4,
                    help="random ReLU-mask flips for the gradient allowance (0: none)")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (default 1)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per simsiamc run")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = ref.get_config(args.workload)
    if args.batch is None:
        args.batch = cfg.batch
    if args.batch < 2:
        ap.error("--batch must be at least 2 (BatchNorm in training mode)")

    print(f"check_step: {cfg.name}, batch {args.batch}, lr {cfg.lr(args.batch):g}, "
          f"wd {WEIGHT_DECAY:g}, momentum {MOMENTUM:g}, reference {args.reference_dtype}, "
          f"seed {args.seed}, flip samples {args.flip_samples}")
    report = Report()
    info = {}
    cases = [("a", False), ("b", True)]
    tmp = None
    if args.keep:
        base = args.keep
    else:
        tmp = base = tempfile.mkdtemp(prefix="check_step.")
    try:
        for case, randomize in cases:
            workdir = os.path.join(base, f"case-{case}")
            os.makedirs(workdir, exist_ok=True)
            run_case(args, cfg, case, randomize, workdir, report, info)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    def badness(r):
        return r[5] / (r[7] + r[6]) if r[7] + r[6] > 0 else (0.0 if r[5] == 0 else math.inf)

    rows = sorted(report.rows, key=badness, reverse=True)
    print(f"\n{'case':4} {'tensor':48} {'shape':15} {'max|a-b|':>9} {'scale':>9} "
          f"{'rel':>9} {'allow':>9}  ok")
    for c, n, shape, d, s, rel, al, tol, ok in rows[:10]:
        print(f"{c:4} {n[:48]:48} {str(list(shape))[:15]:15} {d:9.2e} {s:9.2e} {rel:9.2e} "
              f"{al:9.2e}  {'ok' if ok else 'FAIL'}")
    for case, _ in cases:
        crow = [r for r in report.rows if r[0] == case]
        nfail = sum(1 for r in crow if not r[8])
        nallow = sum(1 for r in crow if r[8] and r[5] > r[7])
        loss = [r for r in crow if r[1] == "loss"]
        i = info.get(case, {})
        t = f"{i['time']:.3f} s" if "time" in i else "n/a"
        print(f"case {case}: {len(crow)} compared, {nfail} failed, {nallow} passed only with "
              f"an allowance ({i.get('near', 0)} ReLU inputs near 0)"
              + (f", loss rel {loss[0][5]:.2e}" if loss else "")
              + f"; simsiamc step wall time {t}")
    if report.problems:
        print(f"\nFAILED ({len(report.problems)} problem(s)):")
        for case, msg in report.problems[:40]:
            print(f"  [{case}] {msg}")
        if len(report.problems) > 40:
            print(f"  ... and {len(report.problems) - 40} more")
        sys.exit(1)
    print("\nOK")


if __name__ == "__main__":
    main()
