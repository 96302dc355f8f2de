#!/usr/bin/env python3
"""Write Tests/SimSiamCTests/Fixtures/tiny-step.safetensors: one SimSiam
training step of the `tiny` configuration, computed by the PyTorch reference.

Contents (all float32 except num_batches_tracked, int64):
  <name>                 every state_dict entry after PyTorch init + randomize_bn
  x1, x2                 the two views, [4, 1, 8, 8] ~ N(0, 1)
  expected.loss          the loss, shape []
  expected.grad.<name>   gradient of every trainable parameter (before the update)
  expected.<name>        every updated parameter and BN buffer after the step
                         (num_batches_tracked grows by 2; the frozen
                         projector bias is not updated and not listed)
  __metadata__           lr, weight_decay, momentum (strings), workload, seed

The expected values are computed in float64 from the (float32) stored inputs
and rounded to float32. Usage:

    python3 scripts/make_step_fixture.py [--out PATH] [--seed S]
"""

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simsiam_reference as ref  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "Tests", "SimSiamCTests", "Fixtures", "tiny-step.safetensors")

LR = 0.05
WEIGHT_DECAY = 5e-4
MOMENTUM = 0.9


def run_step(cfg, state, x1, x2, dtype):
    model = ref.SimSiam(cfg)
    ref.load_numpy_state(model, state)
    model = model.to(dtype)
    loss, grads = ref.train_step(model, torch.from_numpy(x1).to(dtype),
                                 torch.from_numpy(x2).to(dtype),
                                 lr=LR, weight_decay=WEIGHT_DECAY, momentum=MOMENTUM)
    after = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return loss, grads, after, set(ref.frozen_names(model))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=20240531)
    args = ap.parse_args()
    torch.set_num_threads(1)

    cfg = ref.get_config("tiny")
    model = ref.build_model(cfg, seed=args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    ref.randomize_bn(model, gen)
    state = ref.state_to_numpy(model)                    # float32 / int64
    shape = (cfg.batch,) + cfg.input_shape
    x1 = torch.randn(shape, generator=gen).numpy().astype(np.float32)
    x2 = torch.randn(shape, generator=gen).numpy().astype(np.float32)

    loss64, grads64, after64, frozen = run_step(cfg, state, x1, x2, torch.float64)
    loss32, grads32, after32, _ = run_step(cfg, state, x1, x2, torch.float32)

    tensors = dict(state)
    tensors["x1"] = x1
    tensors["x2"] = x2
    tensors["expected.loss"] = np.asarray(loss64.item(), dtype=np.float32)
    for n, g in grads64.items():
        tensors[f"expected.grad.{n}"] = g.numpy().astype(np.float32)
    for n, v in after64.items():
        if n in frozen:
            continue
        a = v.numpy()
        tensors[f"expected.{n}"] = a.astype(np.float32) if a.dtype.kind == "f" else a.astype(np.int64)
    meta = {"lr": repr(LR), "weight_decay": repr(WEIGHT_DECAY), "momentum": repr(MOMENTUM),
            "workload": cfg.name, "seed": str(args.seed)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    ref.save_safetensors(args.out, tensors, meta)

    # Round trip and information.
    back, meta_back = ref.load_safetensors(args.out)
    assert meta_back == meta and back.keys() == tensors.keys()
    assert all(np.array_equal(back[k], tensors[k]) and back[k].dtype == tensors[k].dtype
               for k in tensors)
    for n, v in after64.items():
        if n.endswith("num_batches_tracked"):
            assert int(v) == int(state[n]) + 2, n

    def rel(a, b):
        d = (a.double() - b.double()).abs().max().item()
        s = b.double().abs().max().item()
        return d / s if s > 0 else d

    gmax = max(rel(grads32[n], grads64[n]) for n in grads64)
    pmax = max(rel(after32[n], after64[n]) for n in after64 if after64[n].is_floating_point())
    # Conditioning: an implementation's ReLU masks could differ from these only
    # for inputs within its rounding noise (~1e-6 of max|x| in float32).
    margins = []
    m64 = ref.SimSiam(cfg)
    ref.load_numpy_state(m64, state)
    m64 = m64.double()
    for mod in m64.modules():
        if isinstance(mod, torch.nn.ReLU):
            mod.register_forward_hook(lambda _m, i, _o: margins.append(
                float(i[0].abs()[i[0] != 0].min() / i[0].abs().max())))
    with torch.no_grad():
        m64(torch.from_numpy(x1).double(), torch.from_numpy(x2).double())

    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, {len(tensors)} tensors "
          f"({len(grads64)} gradients)")
    print(f"loss (float64) = {loss64.item():.9f}")
    print(f"float32 vs float64 PyTorch: |loss diff| = {abs(loss32.item() - loss64.item()):.3e}, "
          f"max abs diff grads = {max((grads32[n].double() - grads64[n]).abs().max().item() for n in grads64):.3e} "
          f"(max rel {gmax:.3e}), "
          f"max abs diff params/buffers = "
          f"{max((after32[n].double() - after64[n]).abs().max().item() for n in after64 if after64[n].is_floating_point()):.3e} "
          f"(max rel {pmax:.3e})")
    print(f"smallest non-zero |ReLU input| / max|ReLU input| over all calls: {min(margins):.2e}")


if __name__ == "__main__":
    main()
