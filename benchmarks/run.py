#!/usr/bin/env python3
"""Training throughput of simsiamc against PyTorch on the same machine, in one run.

Variants (each run in its own subprocess, so peak RSS and thread settings are
per variant):
  eager                  PyTorch eager, NCHW
  channels_last          PyTorch eager, model and inputs in channels_last
  compile                torch.compile of forward + loss (backward through AOTAutograd)
  compile_channels_last  the same with channels_last
  autocast_bf16          PyTorch eager, forward under torch.autocast("cpu", dtype=torch.bfloat16)
  autocast_bf16_channels_last  the same with channels_last (oneDNN's preferred bf16 layout).
                         Slow on CPUs without AMX: W1 took ~11.5 s per step on an AVX512_BF16
                         EPYC (Zen 5), so W2's measurement takes many minutes per round.
  simsiamc               `simsiamc bench --json`: the plan `simsiamc tune` stored for this CPU,
                         graph and batch if there is one (SIMSIAMC_TUNED_PLANS), else the cost models'
  simsiamc_untuned       the same with `--untuned`: the cost models' plan, whatever was tuned
  simsiamc_bf16          `simsiamc bench --precision bf16 --json` (AVX512_BF16 CPUs only; elsewhere
                         the row says why it was skipped)

One sample = both views forward, backward and the SGD update (momentum 0.9,
weight decay 5e-4, lr = base_lr * batch / 256) on random normal inputs of the
workload's shape. Rounds alternate the variants (A B C D E, A B C D E, ...) so
that drift of the shared machine's clock affects all of them alike; the table
shows the median over rounds. The FP32 FMA peak (`simsiamc peak`) is measured
at the start of every round, in the same run.

Model, configurations, loss and MAC counting come from
scripts/simsiam_reference.py (imported, not copied).

  python3 benchmarks/run.py                                   # full run (quiet machine!)
  python3 benchmarks/run.py --workloads tiny --steps 2 --warmup 1 --rounds 1   # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

TORCH_PIN = "torch==2.13.0+cpu"
ALL_VARIANTS = ["eager", "channels_last", "compile", "compile_channels_last", "autocast_bf16",
                "autocast_bf16_channels_last", "simsiamc", "simsiamc_untuned", "simsiamc_bf16"]
TORCH_VARIANTS = ["eager", "channels_last", "compile", "compile_channels_last", "autocast_bf16",
                  "autocast_bf16_channels_last"]
# variant -> (precision, extra flags of `simsiamc bench`)
SIMSIAMC_VARIANTS = {"simsiamc": ("float32", []), "simsiamc_untuned": ("float32", ["--untuned"]),
                     "simsiamc_bf16": ("bf16", [])}
ALL_WORKLOADS = ["fmnist-resnet-mini", "cifar-resnet18"]


# --------------------------------------------------------------------------
# PyTorch availability
# --------------------------------------------------------------------------

def ensure_torch() -> None:
    """Import torch, installing the CPU wheel with pip if it is missing."""
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    print(f"torch not importable: pip install {TORCH_PIN}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", TORCH_PIN], check=True)
    # Start again so that a freshly created site-packages directory is on sys.path.
    os.execv(sys.executable, [sys.executable] + sys.argv)


# --------------------------------------------------------------------------
# Worker: one PyTorch variant, one workload, in this (sub)process
# --------------------------------------------------------------------------

def make_training_step(variant: str, cfg, batch: int):
    """Returns `step()`, which runs one training step on two fixed random views.

    The optimiser persists across steps (momentum buffers in steady state), as
    in a real training loop and as in simsiamc's bench."""
    import torch
    import simsiam_reference as ref

    model = ref.build_model(cfg, seed=0)
    model.train()
    x1 = torch.randn((batch,) + cfg.input_shape, generator=torch.Generator().manual_seed(1))
    x2 = torch.randn((batch,) + cfg.input_shape, generator=torch.Generator().manual_seed(2))

    if variant in ("channels_last", "compile_channels_last", "autocast_bf16_channels_last"):
        model = model.to(memory_format=torch.channels_last)
        x1 = x1.contiguous(memory_format=torch.channels_last)
        x2 = x2.contiguous(memory_format=torch.channels_last)

    def forward_loss(a, b):
        return ref.simsiam_loss(*model(a, b))

    if variant.startswith("autocast_bf16"):
        # PyTorch's bf16 mixed precision: convolutions and linear layers in bf16 inside the
        # forward (and their backward), the loss in float32, float32 master weights and SGD.
        def forward_loss(a, b):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                outputs = model(a, b)
            return ref.simsiam_loss(*(t.float() for t in outputs))

    if variant in ("compile", "compile_channels_last"):
        forward_loss = torch.compile(forward_loss)

    params = [p for p in model.parameters() if p.requires_grad]   # the frozen bias is excluded
    optimizer = torch.optim.SGD(params, lr=cfg.lr(batch), momentum=cfg.momentum, dampening=0.0,
                                weight_decay=cfg.weight_decay, nesterov=False)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = forward_loss(x1, x2)
        loss.backward()
        optimizer.step()
        return loss

    return step


def run_worker(variant: str, workload: str, batch: int, steps: int, warmup: int, threads: int) -> dict:
    """Times one PyTorch variant; returns the measurement as a dict."""
    import torch
    import simsiam_reference as ref

    torch.set_num_threads(threads)
    cfg = ref.get_config(workload)
    step = make_training_step(variant, cfg, batch)

    compiled = variant.startswith("compile")
    if compiled:
        warmup = max(warmup, 1)        # the first call compiles: never time it
    warmup_s = []
    for _ in range(warmup):
        start = time.perf_counter()
        step()
        warmup_s.append(time.perf_counter() - start)

    step_s = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        step_s.append(time.perf_counter() - start)

    median = statistics.median(step_s)
    result = {
        "variant": variant, "workload": workload, "batch": batch, "threads": threads,
        "torch": torch.__version__, "median_step_s": median, "samples_per_s": batch / median,
        "step_s": step_s, "warmup_s": warmup_s,
        # Linux reports ru_maxrss in KiB.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if compiled:
        # The first warm-up step traces and compiles forward and backward;
        # its excess over a steady step is the compilation time.
        result["compile_s"] = max(warmup_s[0] - median, 0.0)
    return result


# --------------------------------------------------------------------------
# Driver: launching the variants
# --------------------------------------------------------------------------

def thread_env(threads: int) -> dict:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    return env


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object in the output")


def run_subprocess(cmd: list, threads: int, timeout: float) -> dict:
    """Runs a measuring command; returns its JSON, or {"error": ...} on failure."""
    try:
        proc = subprocess.run(cmd, env=thread_env(threads), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    try:
        return last_json_line(proc.stdout)
    except ValueError as error:
        return {"error": str(error)}


def run_torch_variant(variant: str, workload: str, batch: int, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", variant,
           "--workloads", workload, "--batch", str(batch), "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--threads", str(args.threads)]
    return run_subprocess(cmd, args.threads, args.timeout)


def cpu_has_flag(flag: str) -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and flag in line.split() for line in f)
    except OSError:
        return False


def run_simsiamc(workload: str, batch: int, args, precision: str = "float32", flags: list = ()) -> dict:
    if precision == "bf16" and not cpu_has_flag("avx512_bf16"):
        return {"error": "skipped: this CPU has no avx512_bf16 (simsiamc's bf16 kernels need vdpbf16ps)"}
    cmd = [str(args.simsiamc), "bench", "--workload", workload, "--batch", str(batch), "--precision", precision,
           "--steps", str(args.steps), "--warmup", str(args.warmup), "--threads", str(args.threads), "--json", *flags]
    return run_subprocess(cmd, args.threads, args.timeout)


def run_variant(variant: str, workload: str, batch: int, args) -> dict:
    if variant in SIMSIAMC_VARIANTS:
        precision, flags = SIMSIAMC_VARIANTS[variant]
        return run_simsiamc(workload, batch, args, precision, flags)
    return run_torch_variant(variant, workload, batch, args)


def measure_peak_gflops(args) -> float | None:
    """FP32 FMA peak of all threads, from `simsiamc peak`."""
    try:
        proc = subprocess.run([str(args.simsiamc), "peak", "--threads", str(args.threads)],
                              env=thread_env(args.threads), capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"([0-9.]+)\s*GFLOP/s", proc.stdout)
    return float(match.group(1)) if proc.returncode == 0 and match else None


def flops_per_sample(workload: str) -> float:
    """Conv + Linear multiply-adds of one image through encoder and predictor
    (forward hooks), x 2 FLOPs per multiply-add, x 3 for forward + backward
    (data and weight gradients), x 2 views."""
    import torch
    import simsiam_reference as ref

    torch.set_num_threads(1)
    macs = ref.count_macs_per_image(ref.build_model(ref.get_config(workload)))["total"]
    return macs * 2 * 3 * 2


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def summarise(measurements: list) -> dict | None:
    """Median over rounds of the successful measurements of one variant."""
    good = [m for m in measurements if "error" not in m]
    if not good:
        return None
    return {
        "samples_per_s": statistics.median(m["samples_per_s"] for m in good),
        "samples_per_s_min": min(m["samples_per_s"] for m in good),
        "samples_per_s_max": max(m["samples_per_s"] for m in good),
        "median_step_s": statistics.median(m["median_step_s"] for m in good),
        "peak_rss_bytes": max(m["peak_rss_bytes"] for m in good),
        "compile_s": statistics.median(m["compile_s"] for m in good) if "compile_s" in good[0] else None,
        "rounds_ok": len(good),
    }


def print_table(workload: str, batch: int, variants: list, results: dict, flops: float,
                peak: float | None, args) -> None:
    rows = {v: summarise(results[v]) for v in variants}
    print()
    print(f"== {workload}, batch {batch} per view, {args.threads} threads, "
          f"{args.steps} timed steps after {args.warmup} warm-up, median of {args.rounds} rounds ==")
    print(f"FLOPs per sample used for % of peak: {flops:,.0f} ({flops / 1e9:.3f} GFLOP = "
          f"conv+linear multiply-adds per image and view x 2 x 3 for fwd+bwd x 2 views)")
    print(f"FP32 FMA peak (simsiamc peak, this run): "
          + (f"{peak:.1f} GFLOP/s" if peak else "not measured"))
    header = (f"{'variant':<29}{'samples/s':>11}{'(min-max)':>21}{'step ms':>10}{'peak RSS':>11}"
              f"{'% peak':>8}{'compile s':>11}{'simsiamc/x':>12}")
    print(header)
    print("-" * len(header))
    ours = rows.get("simsiamc")
    for v in variants:
        row = rows[v]
        if row is None:
            errors = [m["error"] for m in results[v] if "error" in m]
            label = errors[0] if errors and errors[0].startswith("skipped") else f"FAILED: {errors[0] if errors else 'no result'}"
            print(f"{v:<29}{label}")
            continue
        spread = f"({row['samples_per_s_min']:.1f}-{row['samples_per_s_max']:.1f})"
        rss = f"{row['peak_rss_bytes'] / 2**20:.0f} MiB"
        fraction = f"{100 * flops * row['samples_per_s'] / (peak * 1e9):.1f}%" if peak else "-"
        compile_s = f"{row['compile_s']:.1f}" if row["compile_s"] is not None else "-"
        ratio = f"{ours['samples_per_s'] / row['samples_per_s']:.2f}x" if ours and v not in SIMSIAMC_VARIANTS else "-"
        print(f"{v:<29}{row['samples_per_s']:>11.1f}{spread:>21}{1000 * row['median_step_s']:>10.1f}{rss:>11}"
              f"{fraction:>8}{compile_s:>11}{ratio:>12}")
    torch_rows = {v: rows[v] for v in variants
                  if v not in SIMSIAMC_VARIANTS and not v.startswith("autocast") and rows[v] is not None}
    if ours and torch_rows:
        best = max(torch_rows, key=lambda v: torch_rows[v]["samples_per_s"])
        print(f"simsiamc / best PyTorch float32 ({best}): "
              f"{ours['samples_per_s'] / torch_rows[best]['samples_per_s']:.2f}x")
    untuned = rows.get("simsiamc_untuned")
    if untuned and ours:
        print(f"simsiamc / simsiamc_untuned (stored tuned plan against the cost models'): "
              f"{ours['samples_per_s'] / untuned['samples_per_s']:.2f}x")
    bf16 = rows.get("simsiamc_bf16")
    autocast = {v: rows[v] for v in variants if v.startswith("autocast") and rows[v] is not None}
    if bf16 and ours:
        print(f"simsiamc bf16 / simsiamc float32: {bf16['samples_per_s'] / ours['samples_per_s']:.2f}x")
    if bf16 and autocast:
        best = max(autocast, key=lambda v: autocast[v]["samples_per_s"])
        print(f"simsiamc bf16 / best PyTorch autocast bf16 ({best}): "
              f"{bf16['samples_per_s'] / autocast[best]['samples_per_s']:.2f}x")
    print("compile s: torch.compile = first warm-up step minus a steady step (inductor's on-disk cache "
          "may make it warm); simsiamc = lowering + C build (0 when cached).")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(ALL_WORKLOADS),
                    help="comma-separated: fmnist-resnet-mini, cifar-resnet18, tiny (smoke tests)")
    ap.add_argument("--batch-w1", type=int, default=256, help="batch per view for fmnist-resnet-mini")
    ap.add_argument("--batch-w2", type=int, default=128, help="batch per view for cifar-resnet18")
    ap.add_argument("--batch-tiny", type=int, default=8, help="batch per view for tiny")
    ap.add_argument("--steps", type=int, default=10, help="timed steps per measurement")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (torch.compile: at least 1)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds over all variants")
    ap.add_argument("--threads", type=int, default=2, help="threads for every variant")
    ap.add_argument("--variants", default=",".join(ALL_VARIANTS), help="comma-separated subset of: "
                    + ", ".join(ALL_VARIANTS))
    ap.add_argument("--simsiamc", default=str(REPO / ".build/release/simsiamc"), help="simsiamc executable")
    ap.add_argument("--json", metavar="OUT", help="write all measurements to this JSON file")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds allowed per measurement")
    # Internal: run one PyTorch variant in this process and print its JSON.
    ap.add_argument("--worker", choices=TORCH_VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.rounds < 1 or args.threads < 1:
        ap.error("--steps, --rounds and --threads must be >= 1, --warmup >= 0")
    return args


def batch_for(workload: str, args) -> int:
    return {"fmnist-resnet-mini": args.batch_w1, "cifar-resnet18": args.batch_w2,
            "tiny": args.batch_tiny}[workload]


def main(argv=None) -> None:
    args = parse_args(argv)
    ensure_torch()

    if args.worker:
        result = run_worker(args.worker, args.workloads, args.batch, args.steps, args.warmup, args.threads)
        print(json.dumps(result), flush=True)
        return

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for w in workloads:
        if w not in ALL_WORKLOADS + ["tiny"]:
            sys.exit(f"unknown workload {w!r}")
    for v in variants:
        if v not in ALL_VARIANTS:
            sys.exit(f"unknown variant {v!r}; known: {', '.join(ALL_VARIANTS)}")

    args.simsiamc = Path(args.simsiamc)
    have_simsiamc = args.simsiamc.is_file() and os.access(args.simsiamc, os.X_OK)
    if not have_simsiamc:
        message = f"{args.simsiamc} not found: build it with `swift build -c release` in {REPO}"
        if any(v in SIMSIAMC_VARIANTS for v in variants):
            sys.exit(message)
        print(f"note: {message}; the FMA peak will not be measured")

    import torch
    print(f"simsiamc benchmark: torch {torch.__version__}, {args.threads} threads per variant, "
          f"{os.cpu_count()} CPUs, variants {', '.join(variants)}, {args.rounds} rounds")
    print("NOTE: the machine may be shared; other load skews all numbers (rounds alternate to spread drift).")

    flops = {w: flops_per_sample(w) for w in workloads}
    results = {w: {v: [] for v in variants} for w in workloads}
    peaks = []
    for r in range(1, args.rounds + 1):
        if have_simsiamc:
            peak = measure_peak_gflops(args)
            if peak:
                peaks.append(peak)
            print(f"round {r}: FMA peak {peak:.1f} GFLOP/s" if peak else f"round {r}: FMA peak failed",
                  flush=True)
        for w in workloads:
            batch = batch_for(w, args)
            for v in variants:
                m = run_variant(v, w, batch, args)
                m["round"] = r
                results[w][v].append(m)
                status = (f"{m['samples_per_s']:.1f} samples/s, step {m['median_step_s']:.3f} s"
                          if "error" not in m else f"ERROR {m['error']}")
                print(f"round {r}: {w:<20} {v:<23} {status}", flush=True)

    peak = statistics.median(peaks) if peaks else None
    for w in workloads:
        print_table(w, batch_for(w, args), variants, results[w], flops[w], peak, args)
    print(f"\nThreads: {args.threads} per variant (torch.set_num_threads + OMP_NUM_THREADS; "
          f"simsiamc --threads). The machine is shared: rerun on a quiet machine before quoting numbers.")

    if args.json:
        out = {
            "torch": torch.__version__, "threads": args.threads, "steps": args.steps, "warmup": args.warmup,
            "rounds": args.rounds, "peak_gflops": peaks, "variants": variants,
            "workloads": {w: {"batch": batch_for(w, args), "flops_per_sample": flops[w],
                              "summary": {v: summarise(results[w][v]) for v in variants},
                              "measurements": results[w]} for w in workloads},
        }
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
