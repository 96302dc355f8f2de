#!/usr/bin/env python3
"""Interop check of `simsiamc step` against the PyTorch reference.

    python3 scripts/check_step.py --workload NAME --batch N --simsiamc PATH
        [--seed S] [--keep DIR] [--reference-dtype float32|float64]
        [--verdict strict|as-accurate-as-pytorch] [--flip-samples K] [--threads T]

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
with the same step run by PyTorch, always in both float32 and float64 (the
float64 run is also the one the ReLU analysis below uses).

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

Two verdicts are printed; --verdict (default strict) picks the one that sets
the exit status:
* strict: the criteria above against the --reference-dtype run (default
  float32), i.e. "agrees with PyTorch float32 to 1e-3 (+ ReLU allowance)".
* as-accurate-as-pytorch: against the float64 run, with tolerance
  max(tol, 2 x e32) + the same ReLU allowance, where e32 is PyTorch float32's
  own error (its distance to float64, same measure and scale). PyTorch float32
  itself misses float64 by up to 1e-1 on some W2 gradients (sums with heavy
  cancellation accumulated in float); this verdict asks simsiamc to be no
  worse than that. Rows show rel (vs the reference), rel64 (vs float64) and
  torch32 (e32); tensors failing only the strict verdict are listed.
Exits 1 on any failure of the chosen verdict (missing tensor, wrong shape or
dtype, NaN, tolerance, simsiamc's exit status fail both verdicts).
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


def reference_step(cfg, params, views, lr, state=None):
    """The float32 PyTorch step. With `state`, its ReLUs record the inputs near 0
    for the flip analysis (same values and masks as nn.ReLU)."""
    model = ref.SimSiam(cfg)
    ref.load_numpy_state(model, params)
    if state is not None:
        _install_flip_relu(model, state)
    loss, grads = ref.train_step(model, torch.from_numpy(views["x1"]), torch.from_numpy(views["x2"]),
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


def analyse(cfg, params, views, lr, samples, seed, state):
    """The float64 PyTorch step, and from its forward/backward the loss scale and
    the per-gradient ReLU-flip allowance (absolute). `state` holds the float32
    ReLU inputs recorded by reference_step (used if samples > 0)."""
    state.mode, state.calls, state.flip = "analyse", 0, None
    x = {k: torch.from_numpy(v).double() for k, v in views.items()}
    m64 = ref.SimSiam(cfg)
    ref.load_numpy_state(m64, params)
    m64 = m64.double()
    m64.train()
    if samples > 0:
        _install_flip_relu(m64, state)
    p1, p2, z1, z2 = m64(x["x1"], x["x2"])
    with torch.no_grad():
        c = torch.cat([F.cosine_similarity(p1, z2, dim=1, eps=1e-8),
                       F.cosine_similarity(p2, z1, dim=1, eps=1e-8)])
        loss_scale = float(c.abs().mean())
    loss = ref.simsiam_loss(p1, p2, z1, z2)
    named = [(n, p) for n, p in m64.named_parameters() if p.requires_grad]
    names = [n for n, _ in named]
    ps = [p for _, p in named]
    n_near = sum(int(t.numel()) for t in state.near) if samples > 0 else 0
    flips = samples if n_near else 0
    base = torch.autograd.grad(loss, ps, retain_graph=flips > 0)
    allowance = {n: 0.0 for n in names}
    rng = torch.Generator().manual_seed(seed)
    for k in range(flips):
        state.flip = [t[torch.rand(t.numel(), generator=rng) < 0.5] for t in state.near]
        g = torch.autograd.grad(loss, ps, retain_graph=k < flips - 1)
        for n, gk, gb in zip(names, g, base):
            allowance[n] = max(allowance[n],
                               ALLOWANCE_FACTOR * float((gk - gb).abs().max()))
    state.flip = None
    # The update, as ref.train_step (fresh SGD, unflipped gradients); the BN
    # buffers were updated by the forward above.
    opt = torch.optim.SGD(ps, lr=lr, momentum=MOMENTUM, dampening=0.0,
                          weight_decay=WEIGHT_DECAY, nesterov=False)
    with torch.no_grad():
        for p, g in zip(ps, base):
            p.grad = g.detach().clone()
    opt.step()
    after = {k: v.detach().numpy().copy() for k, v in m64.state_dict().items()}
    grads = {n: g.detach().numpy() for n, g in zip(names, base)}
    return float(loss.detach()), grads, after, loss_scale, allowance, n_near


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------

def running_mean_floor(name, expected):
    if not name.endswith(".running_mean"):
        return 0.0
    rv = expected.get(name[:-len("running_mean")] + "running_var")
    return 0.0 if rv is None else 0.1 * float(np.sqrt(np.max(rv)))


BOTH = ("strict", "acc")


def _rel(a64, b64, scale):
    """max|a - b| / scale (inf for non-finite a; a zero scale needs a == b)."""
    if not np.all(np.isfinite(a64)):
        return math.inf, math.inf
    diff = float(np.abs(a64 - b64).max(initial=0.0))
    return diff, (diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf))


class Row:
    __slots__ = ("case", "name", "shape", "scale", "rel", "allow", "tol", "ok",
                 "rel64", "torch32", "allow64", "tol_acc", "ok_acc")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    def badness(self):
        lim = self.tol + self.allow
        return self.rel / lim if lim > 0 else (0.0 if self.rel == 0 else math.inf)


class Report:
    """Every comparison is judged twice: "strict" (selected reference, tol +
    allowance) and "acc" (as-accurate-as-pytorch: float64 reference,
    max(tol, 2 x torch float32 error) + allowance)."""

    def __init__(self, reference_dtype):
        self.use64 = reference_dtype == "float64"
        self.rows = []
        self.problems = []   # (case, message, verdicts it fails)

    def fail(self, case, msg, verdicts=BOTH):
        self.problems.append((case, msg, verdicts))

    def compare(self, case, name, a, b32, b64, tol, floor32=0.0, floor64=0.0, allowance=0.0):
        """a = simsiamc, b32 / b64 = PyTorch float32 / float64 (floors: scale
        floors for each); the selected reference is the --reference-dtype one."""
        b32, b64 = np.asarray(b32), np.asarray(b64)
        b, floor = (b64, floor64) if self.use64 else (b32, floor32)
        if a is None:
            self.fail(case, f"missing from simsiamc's output: {name}")
            return
        a = np.asarray(a)
        if tuple(a.shape) != tuple(b.shape):
            self.fail(case, f"{name}: shape {list(a.shape)}, expected {list(b.shape)}")
            return
        if name.endswith("num_batches_tracked"):
            ok = a.dtype == np.int64 and np.array_equal(a, b) and np.array_equal(a, b64)
            if a.dtype != np.int64:
                self.fail(case, f"{name}: dtype {a.dtype}, expected int64")
            elif not ok:
                self.fail(case, f"{name}: {a.tolist()} != expected {b.tolist()}")
            r = 0.0 if ok else math.inf
            self.rows.append(Row(case=case, name=name, shape=b.shape, scale=float(np.abs(b).max()),
                                 rel=r, allow=0.0, tol=0.0, ok=ok, rel64=r, torch32=0.0,
                                 allow64=0.0, tol_acc=0.0, ok_acc=ok))
            return
        if a.dtype.kind != "f":
            self.fail(case, f"{name}: dtype {a.dtype}, expected a float type")
            return
        a64 = a.astype(np.float64)
        b32_64, b64_64 = b32.astype(np.float64), b64.astype(np.float64)
        bsel = b64_64 if self.use64 else b32_64
        scale = max(float(np.abs(bsel).max(initial=0.0)), floor)
        scale64 = max(float(np.abs(b64_64).max(initial=0.0)), floor64)
        diff, rel = _rel(a64, bsel, scale)
        diff64, rel64 = _rel(a64, b64_64, scale64)
        _, torch32 = _rel(b32_64, b64_64, scale64)
        allow = allowance / scale if scale > 0 else 0.0
        allow64 = allowance / scale64 if scale64 > 0 else 0.0
        ok = rel <= tol + allow
        # A non-finite torch32 (float32 NaN, or non-zero where float64 is exactly 0)
        # relaxes nothing.
        tol_acc = max(tol, 2.0 * torch32) if math.isfinite(torch32) else tol
        ok_acc = rel64 <= tol_acc + allow64
        self.rows.append(Row(case=case, name=name, shape=b.shape, scale=scale, rel=rel,
                             allow=allow, tol=tol, ok=ok, rel64=rel64, torch32=torch32,
                             allow64=allow64, tol_acc=tol_acc, ok_acc=ok_acc))
        if not math.isfinite(diff):
            self.fail(case, f"{name}: non-finite values")
            return
        for verdict, passed, d, sc, r, t, al in (("strict", ok, diff, scale, rel, tol, allow),
                                                  ("acc", ok_acc, diff64, scale64, rel64, tol_acc,
                                                   allow64)):
            if passed:
                continue
            what = "" if verdict == "strict" else "vs float64 "
            if sc == 0:
                msg = f"{name}: {what}reference is exactly 0, max|a| = {d:.3e}"
            else:
                msg = (f"{name}: {what}relative error {r:.3e} > {t:.3g}"
                       + (f" + allowance {al:.2e}" if al else "")
                       + (f" (torch float32's own error {torch32:.2e})" if verdict == "acc" else ""))
            self.fail(case, msg, (verdict,))


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

    # Both references, once each: float32 (recording the ReLU inputs near 0) and
    # float64 (which also gives the loss scale and the ReLU-flip allowance).
    state = _FlipState()
    loss32, grads32, after32, trainable, frozen = reference_step(
        cfg, params, views, lr, state if args.flip_samples > 0 else None)
    loss64, grads64, after64, loss_scale, allowance, n_near = analyse(
        cfg, params, views, lr, args.flip_samples, args.seed * 31 + ord(case), state)
    info[case]["near"] = n_near

    def expected_of(loss, grads, after):
        e = {"loss": np.asarray(loss)}
        for n in trainable:
            e[f"grad.{n}"] = grads[n]
        for n, v in after.items():
            if n not in frozen:
                e[n] = v
        return e

    e32 = expected_of(loss32, grads32, after32)
    e64 = expected_of(loss64, grads64, after64)
    esel = e64 if report.use64 else e32
    allow = {}
    for n in trainable:
        allow[f"grad.{n}"] = allowance.get(n, 0.0)
        allow[n] = lr * allowance.get(n, 0.0)   # w' = w - lr (g + wd w) on the first step
    for n in e32:
        if n == "loss":
            report.compare(case, n, out.get(n), e32[n], e64[n], LOSS_TOL,
                           floor32=loss_scale, floor64=loss_scale)
        else:
            report.compare(case, n, out.get(n), e32[n], e64[n], TENSOR_TOL,
                           floor32=running_mean_floor(n, e32), floor64=running_mean_floor(n, e64),
                           allowance=allow.get(n, 0.0))
    # The update itself, w' - w = -lr (g + wd w): compared on w' alone, an error of
    # order lr * wd * |w| (a missing weight decay) would be far below 1e-3.
    eps32 = float(np.finfo(np.float32).eps)
    for n in trainable:
        a = out.get(n)
        if a is None or np.shape(a) != params[n].shape or np.asarray(a).dtype.kind != "f":
            continue   # already reported
        w0 = params[n].astype(np.float64)
        report.compare(case, f"update.{n}", a.astype(np.float64) - w0,
                       after32[n].astype(np.float64) - w0, after64[n].astype(np.float64) - w0,
                       TENSOR_TOL, allowance=allow[n] + eps32 * float(np.abs(esel[n]).max()))
    for n in frozen:   # optional in the output, but must not change
        if n in out:
            report.compare(case, n, out[n], params[n], params[n], 0.0)
    extra = sorted(set(out) - set(e32) - frozen)
    if extra:
        print(f"  [{case}] note: {len(extra)} unexpected tensor(s) in output: "
              + ", ".join(extra[:8]) + (" ..." if len(extra) > 8 else ""))


VERDICTS = {"strict": "strict", "as-accurate-as-pytorch": "acc"}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", required=True, choices=list(ref.CONFIGS))
    ap.add_argument("--batch", type=int, help="batch per view (default: the workload's)")
    ap.add_argument("--simsiamc", required=True, help="path of the simsiamc executable")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", metavar="DIR", help="keep the files in DIR/case-a, DIR/case-b")
    ap.add_argument("--reference-dtype", choices=("float32", "float64"), default="float32",
                    help="reference of the strict verdict (default float32)")
    ap.add_argument("--verdict", choices=tuple(VERDICTS), default="strict",
                    help="verdict that sets the exit status (default strict)")
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
          f"seed {args.seed}, flip samples {args.flip_samples}, verdict {args.verdict}")
    report = Report(args.reference_dtype)
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

    def yn(ok):
        return "ok" if ok else "FAIL"

    rows = sorted(report.rows, key=Row.badness, reverse=True)
    print(f"\nrel: vs PyTorch {args.reference_dtype}; rel64: vs PyTorch float64; torch32: PyTorch "
          f"float32 vs float64; allow: ReLU allowance; acc: as-accurate-as-pytorch")
    print(f"{'case':4} {'tensor':46} {'shape':14} {'scale':>8} {'rel':>8} {'allow':>8} "
          f"{'rel64':>8} {'torch32':>8} strict acc")
    for r in rows[:10]:
        print(f"{r.case:4} {r.name[:46]:46} {str(list(r.shape))[:14]:14} {r.scale:8.2e} "
              f"{r.rel:8.2e} {r.allow:8.2e} {r.rel64:8.2e} {r.torch32:8.2e} "
              f"{yn(r.ok):6} {yn(r.ok_acc)}")
    only = [r for r in report.rows if not r.ok and r.ok_acc]
    print(f"strict FAIL but as-accurate ok: {len(only)} tensor(s)"
          + (" [rel / rel64 / torch32]" if only else ""))
    for r in only:
        print(f"  {r.case} {r.name}  {r.rel:.2e} / {r.rel64:.2e} / {r.torch32:.2e}")

    def failed(case, verdict):
        return sum(1 for c, _, v in report.problems if c == case and verdict in v)

    for case, _ in cases:
        crow = [r for r in report.rows if r.case == case]
        nallow = sum(1 for r in crow if r.ok and r.rel > r.tol)
        loss = [r for r in crow if r.name == "loss"]
        i = info.get(case, {})
        t = f"{i['time']:.3f} s" if "time" in i else "n/a"
        print(f"case {case}: {len(crow)} compared; strict {failed(case, 'strict')} failed "
              f"({nallow} passed only with an allowance); as-accurate-as-pytorch "
              f"{failed(case, 'acc')} failed; {i.get('near', 0)} ReLU inputs near 0"
              + (f"; loss rel {loss[0].rel:.2e}, rel64 {loss[0].rel64:.2e}" if loss else "")
              + f"; simsiamc step wall time {t}")
    for name, v in VERDICTS.items():
        n = sum(1 for _, _, vs in report.problems if v in vs)
        print(f"verdict {name}: {'PASS' if n == 0 else f'FAIL ({n} problem(s))'}"
              + ("  <- exit status" if name == args.verdict else ""))
    chosen = VERDICTS[args.verdict]
    if report.problems:
        print(f"\nproblems ({len(report.problems)}):")
        for case, msg, vs in report.problems[:40]:
            tag = "both" if len(vs) == 2 else ("strict" if vs == ("strict",) else "as-accurate")
            print(f"  [{case}] [{tag}] {msg}")
        if len(report.problems) > 40:
            print(f"  ... and {len(report.problems) - 40} more")
    if any(chosen in vs for _, _, vs in report.problems):
        print(f"\nFAILED (verdict {args.verdict})")
        sys.exit(1)
    print(f"\nOK (verdict {args.verdict})")


if __name__ == "__main__":
    main()
