#!/usr/bin/env python3
"""One float64 step of examples/resnet50.swift against torchvision's ResNet-50.

    python3 scripts/check_resnet50_step.py --simsiamc .build/release/simsiamc
        [--model examples/resnet50.swift] [--batch 4] [--size 64] [--seed 0] [--tolerance 1e-9]

The reference is written independently of simsiamc: torchvision's
`resnet50(zero_init_residual=True)` with `fc` replaced by the identity as the
backbone, and the SimSiam heads of scripts/simsiam_reference.py (3-layer 2048
projector, 2048-512-2048 predictor). It initialises the model with PyTorch
(BN state randomised so that every residual branch has a gradient), writes the
state_dict and two random views as float32 safetensors, runs

    simsiamc step --model MODEL --precision float64 --batch N --params ... --views ... --out ...

and the same SGD step (momentum 0.9, weight decay 1e-4) in PyTorch float64
from the same float32 values. Every tensor of the output (loss, each
gradient, the updated parameters and BN buffers) is compared as
max|a - b| / max|b|; the worst must be within the tolerance.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

# This machine's torchvision wheel carries CUDA-only compiled ops that do not load
# against the CPU torch; the models are pure Python and need none of them.
torch.library.register_fake = lambda *args, **kwargs: (lambda function: function)
import torchvision  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simsiam_reference as ref  # noqa: E402

WEIGHT_DECAY = 1e-4
MOMENTUM = 0.9


class SimSiamResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet50(zero_init_residual=True)
        self.backbone.fc = nn.Identity()
        self.projector = ref.make_projector((2048, 2048, 2048, 2048))
        self.predictor = ref.make_predictor(2048, 512)

    def forward(self, x1, x2):
        z1 = self.projector(self.backbone(x1))
        z2 = self.projector(self.backbone(x2))
        return self.predictor(z1), self.predictor(z2), z1, z2


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--simsiamc", required=True)
    ap.add_argument("--model", default=os.path.join(root, "examples", "resnet50.swift"))
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=64, help="image side (the description's input size)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0.05 * 4 / 256)
    ap.add_argument("--tolerance", type=float, default=1e-9)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    model = SimSiamResNet50()
    generator = torch.Generator().manual_seed(args.seed + 1)
    ref.randomize_bn(model, generator)
    params = ref.state_to_numpy(model)
    shape = (args.batch, 3, args.size, args.size)
    views = {"x1": torch.randn(shape, generator=generator).numpy().astype(np.float32),
             "x2": torch.randn(shape, generator=generator).numpy().astype(np.float32)}

    with tempfile.TemporaryDirectory() as work:
        paths = {name: os.path.join(work, name + ".safetensors") for name in ("params", "views", "out")}
        ref.save_safetensors(paths["params"], params)
        ref.save_safetensors(paths["views"], views)
        command = [args.simsiamc, "step", "--model", args.model, "--precision", "float64", "--batch", str(args.batch),
                   "--params", paths["params"], "--views", paths["views"], "--out", paths["out"],
                   "--lr", repr(args.lr), "--weight-decay", repr(WEIGHT_DECAY)]
        print("$ " + " ".join(command), flush=True)
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"simsiamc failed ({run.returncode}):\n{run.stdout}{run.stderr}")
        print(run.stdout.strip().splitlines()[-1])
        out, _ = ref.load_safetensors(paths["out"])

    model = model.double()
    ref.load_numpy_state(model, {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in params.items()})
    loss, grads = ref.train_step(model, torch.from_numpy(views["x1"]).double(), torch.from_numpy(views["x2"]).double(),
                                 lr=args.lr, weight_decay=WEIGHT_DECAY, momentum=MOMENTUM)
    frozen = set(ref.frozen_names(model))
    expected = {"loss": np.asarray(float(loss))}
    expected.update({f"grad.{name}": g.numpy() for name, g in grads.items()})
    expected.update({name: v.detach().numpy() for name, v in model.state_dict().items() if name not in frozen})

    missing = sorted(set(expected) - set(out))
    if missing:
        sys.exit(f"simsiamc's output lacks {len(missing)} tensors: {', '.join(missing[:8])}")
    worst, worst_name, counted = 0.0, None, 0
    for name, b in expected.items():
        a = np.asarray(out[name])
        if a.shape != b.shape:
            sys.exit(f"{name}: shape {a.shape} from simsiamc, {b.shape} from PyTorch")
        if b.dtype.kind != "f":
            if not np.array_equal(a, b):
                sys.exit(f"{name}: {a} from simsiamc, {b} from PyTorch")
            continue
        scale = float(np.abs(b).max())
        error = float(np.abs(a.astype(np.float64) - b).max()) / (scale if scale > 0 else 1.0)
        counted += 1
        if error > worst:
            worst, worst_name = error, name
    print(f"{counted} float tensors (loss, {len(grads)} gradients, updated parameters and BN buffers) "
          f"and {len(expected) - counted} counters compared")
    print(f"worst relative difference: {worst:.3e} ({worst_name}); tolerance {args.tolerance:g}")
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()
