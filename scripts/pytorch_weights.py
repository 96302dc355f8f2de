#!/usr/bin/env python3
"""PyTorch weights both ways: simsiamc checkpoints into the reference's
modules, and the reference's state_dicts into `simsiamc train/eval --init`.

    python3 scripts/pytorch_weights.py names --config NAME [--out FILE]
        The reference backbone's state_dict keys, shapes and safetensors
        dtypes, one per line ("conv1.weight 32,1,3,3 F32"). The Swift suite
        compares a checkpoint's backbone with the list written for W1 to
        Tests/SimSiamCTests/Fixtures/fmnist-resnet-mini-backbone.txt.

    python3 scripts/pytorch_weights.py check CHECKPOINT --config NAME
            [--simsiamc PATH] [--images N] [--keep DIR]
        Loads the checkpoint's `backbone.*` tensors into the reference's
        backbone module (`ResNet`) with load_state_dict(strict=True), and its
        parameters and buffers (not the SGD momentum) into the whole `SimSiam`,
        strict too. With --simsiamc, writes N random labelled images as an .npz,
        has `simsiamc eval --checkpoint CHECKPOINT --features-out` compute the
        eval-mode backbone features of the held-out half, and compares them
        with the reference backbone's on the same normalised images.

    python3 scripts/pytorch_weights.py export --config NAME --out FILE
            [--seed S] [--backbone-only] [--randomize-bn]
        Writes the reference model's state_dict (float32, num_batches_tracked
        int64) with safetensors.torch.save_file; --backbone-only writes the
        backbone module's own state_dict (keys without `backbone.`).

    python3 scripts/pytorch_weights.py reverse --config NAME --simsiamc PATH
            [--images N] [--keep DIR]
        The other way: for a backbone-only and a whole-model state_dict of the
        reference (BN statistics randomised, so that eval mode is not trivial),
        runs `simsiamc eval --init FILE --workload NAME --features-out` and
        compares the features with the reference backbone's.

    python3 scripts/pytorch_weights.py torchvision --model FILE.swift --arch resnet50
            --image-size S --simsiamc PATH [--images N] [--keep DIR]
        A real torchvision backbone: torchvision's `resnet50` (or 18, 34) with
        random BN statistics, its state_dict saved whole (`fc.*` included),
        into `simsiamc eval --init FILE --model FILE.swift` (a description
        whose backbone is `ResNet.resnet50`, e.g. examples/resnet50.swift);
        features compared with torchvision's model with `fc` = Identity.

Feature agreement: max |a - b| / max |b| over all features, at most 1e-4
(float32 kernels summing in another order). Exits 1 on any failure.
Needs torch (CPU is enough); safetensors.torch is used when installed, the
reference's numpy writer otherwise. simsiamc never imports this file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simsiam_reference as ref  # noqa: E402

BACKBONE = "backbone."
TOLERANCE = 1e-4
# The normalisation passed to simsiamc and applied here: x = (p / 255 - MEAN) / STD.
MEAN, STD = 0.5, 0.25
_DTYPE_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def backbone_lines(cfg: ref.Config) -> List[str]:
    """`name d0,d1,... DTYPE` for every entry of the reference backbone's state_dict."""
    backbone = ref.build_model(cfg).backbone
    return [f"{k} {','.join(str(d) for d in v.shape)} {_DTYPE_NAMES[v.dtype]}"
            for k, v in backbone.state_dict().items()]


def write_state_dict(path: str, state: Dict[str, torch.Tensor]) -> str:
    """Writes a state_dict as safetensors; returns which writer did it."""
    state = {k: v.detach().contiguous() for k, v in state.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        ref.save_safetensors(path, {k: v.numpy() for k, v in state.items()})
        return "simsiam_reference.save_safetensors"
    save_file(state, path)
    return "safetensors.torch.save_file"


def read_checkpoint(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    tensors, metadata = ref.load_safetensors(path)
    return {k: torch.from_numpy(v) for k, v in tensors.items()}, metadata


def load_into_reference(checkpoint: str, cfg: ref.Config) -> ref.SimSiam:
    """strict=True loads of the checkpoint's backbone and of its whole model; returns the model."""
    tensors, metadata = read_checkpoint(checkpoint)
    if metadata.get("format", "").startswith("simsiamc-checkpoint"):
        stored = json.loads(metadata["config"])["workload"]
        if stored != cfg.name:
            raise SystemExit(f"{checkpoint} is a {stored} checkpoint, not {cfg.name}; pass --config {stored}")
    model = ref.build_model(cfg)
    backbone = {k[len(BACKBONE):]: v for k, v in tensors.items() if k.startswith(BACKBONE)}
    result = model.backbone.load_state_dict(backbone, strict=True)
    print(f"backbone: load_state_dict(strict=True) of {len(backbone)} tensors into ResNet: {result}")
    optimizer = [k for k in tensors if k.startswith(("momentum.", "grad."))]
    whole = {k: v for k, v in tensors.items() if k not in optimizer}
    fresh = ref.build_model(cfg)
    result = fresh.load_state_dict(whole, strict=True)
    print(f"whole model: load_state_dict(strict=True) of {len(whole)} tensors into SimSiam "
          f"({len(optimizer)} momentum tensors left out): {result}")
    for k, v in fresh.state_dict().items():
        if not torch.equal(v, whole[k].to(v.dtype)):
            raise SystemExit(f"{k}: loaded values differ from the file's")
    return model


def write_images(path: str, count: int, shape: Tuple[int, int, int], seed: int) -> np.ndarray:
    """An .npz of `count` random uint8 images of `shape` (C, H, W), half train, half held out, with labels;
    returns the held-out images (N x H x W grey, N x H x W x C colour)."""
    rng = np.random.default_rng(seed)
    c, h, w = shape
    shape = (count, h, w) if c == 1 else (count, h, w, c)
    images = rng.integers(0, 256, size=shape, dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.int64)
    half = count // 2
    np.savez(path, x_train=images[:half], y_train=labels[:half], x_test=images[half:], y_test=labels[half:])
    return images[half:]


def reference_features(backbone: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    """Eval-mode features of `images` (as write_images returns them), normalised as simsiamc is told to."""
    x = images.astype(np.float32) / 255
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
    x = (x - MEAN) / STD
    backbone.eval()
    with torch.no_grad():
        return backbone(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def simsiamc_features(simsiamc: str, source: List[str], data: str, out: str, channels: int) -> np.ndarray:
    def per_channel(value: float) -> str:
        return ",".join([str(value)] * channels)
    command = [simsiamc, "eval", *source, "--data", data, "--mean", per_channel(MEAN), "--std", per_channel(STD),
               "--features-out", out]
    print("$ " + " ".join(command))
    run = subprocess.run(command, capture_output=True, text=True)
    print("\n".join("  " + line for line in (run.stdout + run.stderr).strip().splitlines()))
    if run.returncode != 0:
        raise SystemExit(f"simsiamc eval failed with status {run.returncode}")
    tensors, _ = ref.load_safetensors(out)
    return tensors["features"]


def compare(name: str, ours: np.ndarray, theirs: np.ndarray) -> bool:
    if ours.shape != theirs.shape:
        print(f"FAIL {name}: simsiamc features {ours.shape}, PyTorch {theirs.shape}")
        return False
    error = float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30))
    ok = error <= TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {ours.shape[0]} x {ours.shape[1]} features, max|simsiamc - PyTorch| / max|PyTorch| "
          f"= {error:.2e} (tolerance {TOLERANCE:g}); max|PyTorch| = {np.abs(theirs).max():.4g}")
    return ok


def in_scratch(keep: str | None, body) -> int:
    """Runs body(directory) in --keep DIR, or in a temporary directory removed afterwards."""
    if keep:
        os.makedirs(keep, exist_ok=True)
        return body(keep)
    directory = tempfile.mkdtemp(prefix="pytorch-weights-")
    try:
        return body(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def command_check(args) -> int:
    cfg = ref.get_config(args.config)
    model = load_into_reference(args.checkpoint, cfg)
    if not args.simsiamc:
        return 0

    def run(directory: str) -> int:
        data = os.path.join(directory, "images.npz")
        held_out = write_images(data, args.images, cfg.input_shape, seed=1)
        ours = simsiamc_features(args.simsiamc, ["--checkpoint", args.checkpoint], data,
                                 os.path.join(directory, "features.safetensors"), cfg.in_channels)
        return 0 if compare("checkpoint -> PyTorch backbone", ours, reference_features(model.backbone, held_out)) else 1
    return in_scratch(args.keep, run)


def exported_model(cfg: ref.Config, seed: int, randomize_bn: bool) -> ref.SimSiam:
    model = ref.build_model(cfg, seed)
    if randomize_bn:
        ref.randomize_bn(model, torch.Generator().manual_seed(seed + 1))
    return model


def command_export(args) -> int:
    cfg = ref.get_config(args.config)
    model = exported_model(cfg, args.seed, args.randomize_bn)
    state = (model.backbone if args.backbone_only else model).state_dict()
    writer = write_state_dict(args.out, state)
    print(f"{args.out}: {len(state)} tensors of the reference {'backbone' if args.backbone_only else 'SimSiam'} "
          f"({cfg.name}, seed {args.seed}), written with {writer}")
    return 0


def command_reverse(args) -> int:
    cfg = ref.get_config(args.config)
    model = exported_model(cfg, seed=5, randomize_bn=True)

    def run(directory: str) -> int:
        data = os.path.join(directory, "images.npz")
        held_out = write_images(data, args.images, cfg.input_shape, seed=2)
        expected = reference_features(model.backbone, held_out)
        ok = True
        for label, module in (("backbone-only state_dict", model.backbone), ("whole SimSiam state_dict", model)):
            path = os.path.join(directory, label.split()[0] + ".safetensors")
            writer = write_state_dict(path, module.state_dict())
            print(f"{path}: {len(module.state_dict())} tensors ({writer})")
            ours = simsiamc_features(args.simsiamc, ["--init", path, "--workload", cfg.name], data,
                                     os.path.join(directory, label.split()[0] + "-features.safetensors"), cfg.in_channels)
            ok &= compare(f"{label} -> simsiamc eval --init", ours, expected)
        return 0 if ok else 1
    return in_scratch(args.keep, run)


def torchvision_resnet(arch: str) -> torch.nn.Module:
    """torchvision.models.resnet's `arch`, loaded without running torchvision's package __init__
    (which fails when the installed torch and torchvision disagree on compiled operators)."""
    import importlib.util
    import types
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        raise SystemExit("torchvision is not installed")
    directory = os.path.dirname(spec.origin)
    for name, path in [("torchvision", directory), ("torchvision.models", os.path.join(directory, "models"))]:
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [path]
            sys.modules[name] = module
    import torchvision.models.resnet as resnet
    return getattr(resnet, arch)()


def command_torchvision(args) -> int:
    torch.manual_seed(7)
    model = torchvision_resnet(args.arch)
    ref.randomize_bn(model, torch.Generator().manual_seed(8))

    def run(directory: str) -> int:
        data = os.path.join(directory, "images.npz")
        held_out = write_images(data, args.images, (3, args.image_size, args.image_size), seed=3)
        path = os.path.join(directory, f"{args.arch}.safetensors")
        writer = write_state_dict(path, model.state_dict())
        print(f"{path}: torchvision {args.arch} state_dict, {len(model.state_dict())} tensors with fc.* ({writer})")
        ours = simsiamc_features(args.simsiamc, ["--init", path, "--model", args.model], data,
                                 os.path.join(directory, "features.safetensors"), 3)
        model.fc = torch.nn.Identity()
        return 0 if compare(f"torchvision {args.arch} -> simsiamc eval --init --model", ours,
                            reference_features(model, held_out)) else 1
    return in_scratch(args.keep, run)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    names = commands.add_parser("names", help="the reference backbone's state_dict keys, shapes and dtypes")
    names.add_argument("--config", choices=list(ref.CONFIGS), required=True)
    names.add_argument("--out", help="write the list here instead of printing it")
    check = commands.add_parser("check", help="load a simsiamc checkpoint into the reference modules (strict)")
    check.add_argument("checkpoint")
    export = commands.add_parser("export", help="write the reference model's state_dict as safetensors")
    export.add_argument("--out", required=True)
    export.add_argument("--seed", type=int, default=0)
    export.add_argument("--backbone-only", action="store_true")
    export.add_argument("--randomize-bn", action="store_true")
    reverse = commands.add_parser("reverse", help="reference state_dicts into simsiamc eval --init, features compared")
    vision = commands.add_parser("torchvision", help="a torchvision ResNet's state_dict into simsiamc eval --init --model")
    vision.add_argument("--model", required=True, help="a model description whose backbone is the same ResNet")
    vision.add_argument("--arch", choices=["resnet18", "resnet34", "resnet50"], default="resnet50")
    vision.add_argument("--image-size", type=int, default=64, help="the description's input size")
    for sub in (check, export, reverse):
        sub.add_argument("--config", choices=list(ref.CONFIGS), required=True)
    for sub in (check, reverse, vision):
        sub.add_argument("--simsiamc", required=sub is not check, help="the simsiamc executable")
        sub.add_argument("--images", type=int, default=200, help="random images, half of them held out")
        sub.add_argument("--keep", help="keep the files in this directory")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.command == "names":
        text = "\n".join(backbone_lines(ref.get_config(args.config))) + "\n"
        if args.out:
            with open(args.out, "w") as f:
                f.write(text)
            print(f"{args.out}: {text.count(chr(10))} tensors")
        else:
            sys.stdout.write(text)
        return 0
    return {"check": command_check, "export": command_export, "reverse": command_reverse,
            "torchvision": command_torchvision}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
