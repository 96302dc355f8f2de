#!/usr/bin/env python3
"""Write Tests/SimSiamCTests/Fixtures/tiny-step-autocast-bf16.safetensors: the step of
tiny-step.safetensors (scripts/make_step_fixture.py) run by PyTorch bf16 mixed precision,
torch.autocast("cpu", dtype=torch.bfloat16) around the forward, the loss in float32.

Contents (float32): autocast.loss, autocast.grad.<name> for every trainable parameter,
autocast.<name> for every updated parameter and BN buffer (as the fixture's expected.*).
BF16StepTests measures how far these are from the fixture's float64 expected values and
requires our bf16 step to be no farther than twice that (or 1e-3). The tiny model's
backward sums cancel heavily, so bf16 lands 5-10% off float64 on some gradients, for
PyTorch and for us alike; a fixed tolerance would say nothing. Usage:
    python3 scripts/make_bf16_step_fixture.py [--fixture PATH] [--out PATH]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simsiam_reference as ref  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "SimSiamCTests", "Fixtures")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture", default=os.path.join(FIXTURES, "tiny-step.safetensors"))
    ap.add_argument("--out", default=os.path.join(FIXTURES, "tiny-step-autocast-bf16.safetensors"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    tensors, meta = ref.load_safetensors(args.fixture)
    cfg = ref.get_config(meta["workload"])
    model = ref.SimSiam(cfg)
    state = {k: v for k, v in tensors.items() if k not in ("x1", "x2") and not k.startswith("expected.")}
    ref.load_numpy_state(model, state)
    model.train()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.SGD([p for _, p in named], lr=float(meta["lr"]), momentum=float(meta["momentum"]),
                          dampening=0.0, weight_decay=float(meta["weight_decay"]), nesterov=False)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        p1, p2, z1, z2 = model(torch.from_numpy(tensors["x1"]), torch.from_numpy(tensors["x2"]))
    loss = ref.simsiam_loss(p1.float(), p2.float(), z1.float(), z2.float())
    loss.backward()
    out = {"autocast.loss": np.asarray(loss.item(), dtype=np.float32)}
    for n, p in named:
        out[f"autocast.grad.{n}"] = p.grad.detach().numpy().astype(np.float32)
    opt.step()
    frozen = set(ref.frozen_names(model))
    for n, v in model.state_dict().items():
        if n not in frozen and v.is_floating_point():
            out[f"autocast.{n}"] = v.detach().numpy().astype(np.float32)
    ref.save_safetensors(args.out, out, {"torch": torch.__version__, "source": os.path.basename(args.fixture)})

    def rel(a, b):
        d, s = float(np.abs(a.astype(np.float64) - b).max()), float(np.abs(b).max())
        return d / s if s > 0 else d
    worst = max((rel(out[k], tensors["expected." + k[len("autocast."):]]), k) for k in out if k != "autocast.loss")
    print(f"wrote {args.out}: {len(out)} tensors; loss {loss.item():.6f} (float64 {float(tensors['expected.loss']):.6f}); "
          f"farthest from float64: {worst[1]} at {worst[0]:.3e} of its scale")


if __name__ == "__main__":
    main()
