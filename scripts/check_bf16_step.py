#!/usr/bin/env python3
"""One `simsiamc step --precision bf16` against PyTorch's own bf16 mixed precision.

    python3 scripts/check_bf16_step.py --simsiamc PATH [--workload W1] [--batch N]
        [--precision bf16|bf16-emulated] [--plan FILE] [--seed S] [--factor F] [--threads T]

For the two cases of scripts/check_step.py, (a) PyTorch-initialised parameters and
(b) the same with randomize_bn applied, it runs one training step four ways:

    ours      PATH step --precision bf16 (convolution and linear operands in
              bfloat16, float32 sums; everything else float32)
    autocast  PyTorch float32 model under torch.autocast("cpu", dtype=torch.bfloat16)
              for the forward (the loss in float32), backward and SGD as usual
    float32   PyTorch float32
    float64   PyTorch float64: the truth

and measures, for the loss, every gradient, every updated parameter and BN buffer
and every update w' - w, the distance to float64 as check_step.py does:
max|a - b| / max|b| (running means against max(max|b|, 0.1 sqrt(max running_var)),
the loss against the mean |cos_i|).

Verdict, per tensor: ours64 <= max(floor, F x autocast64), F = --factor (default 2,
as check_step.py's as-accurate-as-pytorch verdict), floor = 1e-3 (a float32-level
difference never fails). bf16 carries ~3 significant digits, and the backward sums of
a SimSiam step cancel heavily, so both are far from float64 on some gradients; the
question is only whether ours is no worse than PyTorch's mixed precision. The table
also shows our distance to PyTorch float32 and PyTorch float32's own error.
Exits 1 on any failure (missing tensor, wrong shape, NaN, a tensor past its bound,
simsiamc's exit status).
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_step as cs  # noqa: E402
import simsiam_reference as ref  # noqa: E402

FLOOR = 1e-3


def autocast_step(cfg, params, views, lr):
    """PyTorch bf16 mixed precision: the forward under autocast, the loss in float32."""
    model = ref.SimSiam(cfg)
    ref.load_numpy_state(model, params)
    model.train()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.SGD([p for _, p in named], lr=lr, momentum=cs.MOMENTUM, dampening=0.0,
                          weight_decay=cs.WEIGHT_DECAY, nesterov=False)
    x1, x2 = torch.from_numpy(views["x1"]), torch.from_numpy(views["x2"])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        p1, p2, z1, z2 = model(x1, x2)
    loss = ref.simsiam_loss(p1.float(), p2.float(), z1.float(), z2.float())
    loss.backward()
    grads = {n: p.grad.detach().numpy().copy() for n, p in named}
    opt.step()
    after = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return float(loss.detach()), grads, after


def distance(a, b, scale):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return math.inf
    diff = float(np.abs(a - b).max(initial=0.0))
    return diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)


def run_case(args, cfg, case, randomize, workdir, rows, problems):
    params, views = cs.make_case(cfg, args.batch, args.seed, randomize)
    lr = cfg.lr(args.batch)
    paths = {k: os.path.join(workdir, f"{k}.safetensors") for k in ("params", "views", "out")}
    ref.save_safetensors(paths["params"], params)
    ref.save_safetensors(paths["views"], views)
    cmd = [args.simsiamc, "step", "--workload", cfg.name, "--batch", str(args.batch),
           "--precision", args.precision, "--params", paths["params"], "--views", paths["views"],
           "--out", paths["out"], "--lr", repr(lr), "--weight-decay", repr(cs.WEIGHT_DECAY)]
    if args.plan:
        cmd += ["--plan", args.plan]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(paths["out"]):
        problems.append(f"[{case}] simsiamc exited with {proc.returncode}")
        for line in (proc.stdout + proc.stderr).strip().splitlines()[-15:]:
            print(f"  [{case}] simsiamc: {line}")
        return
    ours, _ = ref.load_safetensors(paths["out"])

    loss32, grads32, after32, trainable, frozen = cs.reference_step(cfg, params, views, lr)
    loss64, grads64, after64, loss_scale, _, _ = cs.analyse(cfg, params, views, lr, 0, 0, cs._FlipState())
    loss_ac, grads_ac, after_ac = autocast_step(cfg, params, views, lr)

    def expected(loss, grads, after):
        e = {"loss": np.asarray(loss)}
        e.update({f"grad.{n}": grads[n] for n in trainable})
        e.update({n: v for n, v in after.items() if n not in frozen and not n.endswith("num_batches_tracked")})
        e.update({f"update.{n}": after[n].astype(np.float64) - params[n] for n in trainable})
        return e

    e64, e32, eac = expected(loss64, grads64, after64), expected(loss32, grads32, after32), expected(loss_ac, grads_ac, after_ac)
    for n, b in e64.items():
        source = n[len("update."):] if n.startswith("update.") else n
        a = ours.get(source)
        if a is None:
            problems.append(f"[{case}] missing from simsiamc's output: {source}")
            continue
        a = np.asarray(a, dtype=np.float64)
        if n.startswith("update."):
            a = a - params[source]
        if a.shape != np.shape(b):
            problems.append(f"[{case}] {n}: shape {list(a.shape)}, expected {list(np.shape(b))}")
            continue
        scale = loss_scale if n == "loss" else max(float(np.abs(b).max(initial=0.0)), cs.running_mean_floor(n, e64))
        ours64, ac64 = distance(a, b, scale), distance(eac[n], b, scale)
        ours32, torch32 = distance(a, e32[n], scale), distance(e32[n], b, scale)
        bound = max(FLOOR, args.factor * ac64)
        ok = ours64 <= bound
        rows.append((case, n, scale, ours64, ac64, ours32, torch32, bound, ok))
        if not ok:
            problems.append(f"[{case}] {n}: {ours64:.3e} from float64, past {bound:.3e} "
                            f"(autocast's own {ac64:.3e})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--simsiamc", required=True, help="path of the simsiamc executable")
    ap.add_argument("--workload", default="fmnist-resnet-mini", choices=list(ref.CONFIGS))
    ap.add_argument("--batch", type=int, help="batch per view (default: the workload's)")
    ap.add_argument("--precision", default="bf16", choices=("bf16", "bf16-emulated"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--factor", type=float, default=2.0, help="bound = max(1e-3, factor x autocast's distance)")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (default 1)")
    ap.add_argument("--plan", metavar="FILE", help="a kernel plan for simsiamc (e.g. more passes in bf16)")
    ap.add_argument("--keep", metavar="DIR", help="keep the files in DIR/case-a, DIR/case-b")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = ref.get_config(args.workload)
    args.batch = args.batch or cfg.batch
    print(f"check_bf16_step: {cfg.name}, batch {args.batch}, simsiamc --precision {args.precision}, "
          f"PyTorch {torch.__version__} autocast bf16, seed {args.seed}, factor {args.factor:g}")
    rows, problems = [], []
    base = args.keep or tempfile.mkdtemp(prefix="check_bf16_step.")
    try:
        for case, randomize in (("a", False), ("b", True)):
            workdir = os.path.join(base, f"case-{case}")
            os.makedirs(workdir, exist_ok=True)
            run_case(args, cfg, case, randomize, workdir, rows, problems)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    print("\nours64 / autocast64: distance to PyTorch float64 of ours and of PyTorch autocast bf16;"
          "\nours32: ours to PyTorch float32; torch32: PyTorch float32 to float64 (relative to max|float64|)")
    print(f"{'case':4} {'tensor':48} {'ours64':>9} {'autocast64':>10} {'ours32':>9} {'torch32':>9} {'bound':>9}")
    worst = sorted(rows, key=lambda r: r[3] / r[7], reverse=True)
    for case, n, _, o64, a64, o32, t32, bound, ok in worst[:15]:
        print(f"{case:4} {n[:48]:48} {o64:9.2e} {a64:10.2e} {o32:9.2e} {t32:9.2e} {bound:9.2e} {'ok' if ok else 'FAIL'}")
    for case in ("a", "b"):
        own = [r for r in rows if r[0] == case]
        if own:
            ratios = [r[3] / max(r[4], 1e-12) for r in own if r[4] > FLOOR]
            loss = next((r for r in own if r[1] == "loss"), None)
            print(f"case {case}: {len(own)} tensors; median ours64/autocast64 over tensors where autocast is off by "
                  f"more than {FLOOR:g}: {np.median(ratios) if ratios else float('nan'):.2f} ({len(ratios)} tensors); "
                  + (f"loss ours {loss[3]:.2e}, autocast {loss[4]:.2e}" if loss else ""))
    if problems:
        print(f"\nproblems ({len(problems)}):")
        for p in problems[:40]:
            print("  " + p)
        print("\nFAILED")
        sys.exit(1)
    print("\nOK: every tensor of our bf16 step is as close to float64 as PyTorch autocast bf16's "
          f"(within {args.factor:g}x, or {FLOOR:g})")


if __name__ == "__main__":
    main()
