#!/usr/bin/env python3
"""Independent PyTorch reference of the SimSiam workloads in
../shared/reference-workloads.md, outside this repository (the contract).

This file is a *reference*: it is used by the scripts in `scripts/` to produce
fixtures and to check `simsiamc` against PyTorch. simsiamc never imports it.

Contents
  - Config and the three configurations (`fmnist-resnet-mini`, `cifar-resnet18`,
    `tiny`).
  - The model (`SimSiam` with `backbone`, `projector`, `predictor`), whose
    `state_dict` names are exactly the contract's.
  - `simsiam_loss`, `train_step` (one SGD step), `lr_at_epoch`.
  - `randomize_bn` (makes residual-branch gradients non-zero for tests).
  - A dependency-free safetensors reader/writer (numpy + json):
    `save_safetensors`, `load_safetensors`.

Run `python3 scripts/simsiam_reference.py --summary [--config NAME]` to print
parameter counts and forward multiply-adds per image and view.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------
# Configurations
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    name: str
    in_channels: int
    image_size: int
    stem: int                                   # channels of the stem conv3x3
    stages: Tuple[Tuple[int, int, int], ...]    # (channels, blocks, stride) per layerK
    projector: Tuple[int, ...]                  # (in, hidden..., out): len-1 Linear layers
    predictor_hidden: int                       # bottleneck width of the predictor
    batch: int                                  # per view
    base_lr: float
    weight_decay: float = 5e-4
    momentum: float = 0.9

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        return (self.in_channels, self.image_size, self.image_size)

    @property
    def feature_dim(self) -> int:
        return self.stages[-1][0]

    @property
    def embed_dim(self) -> int:
        return self.projector[-1]

    def lr(self, batch: Optional[int] = None) -> float:
        """Initial learning rate: base_lr * batch / 256."""
        return self.base_lr * (self.batch if batch is None else batch) / 256.0


CONFIGS: Dict[str, Config] = {
    # W1, the embedded default.
    "fmnist-resnet-mini": Config(
        name="fmnist-resnet-mini", in_channels=1, image_size=28, stem=32,
        stages=((32, 1, 1), (64, 1, 2), (128, 1, 2)),
        projector=(128, 512, 512, 512), predictor_hidden=128,
        batch=256, base_lr=0.06),
    # W2, the paper's CIFAR-10 setting (ResNet-18, CIFAR variant).
    "cifar-resnet18": Config(
        name="cifar-resnet18", in_channels=3, image_size=32, stem=64,
        stages=((64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)),
        projector=(512, 2048, 2048), predictor_hidden=512,
        batch=512, base_lr=0.03),
    # Small configuration for CI fixtures; same structure as W1 (layer2.0 has
    # a downsample, 3-layer projector).
    "tiny": Config(
        name="tiny", in_channels=1, image_size=8, stem=4,
        stages=((4, 1, 1), (8, 1, 2)),
        projector=(8, 16, 16, 16), predictor_hidden=4,
        batch=4, base_lr=0.06),
}


def get_config(name: str) -> Config:
    try:
        return CONFIGS[name]
    except KeyError:
        raise SystemExit(f"unknown workload {name!r}; known: {', '.join(CONFIGS)}")


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """conv3x3 - BN - ReLU - conv3x3 - BN, plus shortcut, then ReLU.
    Names as torchvision: conv1, bn1, conv2, bn2, downsample.{0,1}."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(cout, cout, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(conv1x1(cin, cout, stride), nn.BatchNorm2d(cout))
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Stem conv3x3 (no max-pool), stages `layer1..K`, global average pool, no fc."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.conv1 = conv3x3(cfg.in_channels, cfg.stem, 1)
        self.bn1 = nn.BatchNorm2d(cfg.stem)
        self.relu = nn.ReLU()
        cin = cfg.stem
        for k, (cout, blocks, stride) in enumerate(cfg.stages, start=1):
            layer = []
            for i in range(blocks):
                layer.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
            setattr(self, f"layer{k}", nn.Sequential(*layer))
        self.num_stages = len(cfg.stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

        # Initialisation as torchvision's ResNet(zero_init_residual=True).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for k in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{k}")(x)
        return torch.flatten(self.avgpool(x), 1)


def make_projector(dims: Tuple[int, ...]) -> nn.Sequential:
    """(Linear(no bias) - BN - ReLU) for every hidden layer, then
    Linear(with bias, bias frozen) - BN(no affine)."""
    layers = []
    for din, dout in zip(dims[:-2], dims[1:-1]):
        layers += [nn.Linear(din, dout, bias=False), nn.BatchNorm1d(dout), nn.ReLU()]
    last = nn.Linear(dims[-2], dims[-1], bias=True)
    last.bias.requires_grad_(False)      # followed by BN: frozen, never changes
    layers += [last, nn.BatchNorm1d(dims[-1], affine=False)]
    return nn.Sequential(*layers)


def make_predictor(dim: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, dim))


class SimSiam(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        assert cfg.projector[0] == cfg.feature_dim, "projector input != backbone features"
        self.cfg = cfg
        self.backbone = ResNet(cfg)
        self.projector = make_projector(cfg.projector)
        self.predictor = make_predictor(cfg.embed_dim, cfg.predictor_hidden)

    def encoder(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.backbone(x))

    def forward(self, x1: torch.Tensor, x2: torch.Tensor):
        # Order matters for BN running statistics (view 1 first).
        z1 = self.encoder(x1)
        z2 = self.encoder(x2)
        p1 = self.predictor(z1)
        p2 = self.predictor(z2)
        return p1, p2, z1, z2


def build_model(cfg: Config, seed: int = 0) -> SimSiam:
    """PyTorch initialisation with a fixed seed (float32)."""
    torch.manual_seed(seed)
    return SimSiam(cfg)


def simsiam_loss(p1, p2, z1, z2) -> torch.Tensor:
    c1 = F.cosine_similarity(p1, z2.detach(), dim=1, eps=1e-8).mean()
    c2 = F.cosine_similarity(p2, z1.detach(), dim=1, eps=1e-8).mean()
    return -(c1 + c2) / 2


def lr_at_epoch(lr0: float, epoch: int, epochs: int) -> float:
    """Cosine schedule of the contract (epoch 0-based)."""
    return lr0 * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def trainable_names(model: nn.Module) -> list:
    return [n for n, p in model.named_parameters() if p.requires_grad]


def frozen_names(model: nn.Module) -> list:
    return [n for n, p in model.named_parameters() if not p.requires_grad]


def train_step(model: SimSiam, x1: torch.Tensor, x2: torch.Tensor, lr: float,
               weight_decay: float, momentum: float = 0.9):
    """One SimSiam training step with a fresh SGD optimiser (momentum buffers 0).

    Returns (loss, grads) where grads maps every trainable parameter name to
    its gradient *before* the update. The model is updated in place
    (parameters and BN running statistics)."""
    model.train()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.SGD([p for _, p in named], lr=lr, momentum=momentum,
                          dampening=0.0, weight_decay=weight_decay, nesterov=False)
    opt.zero_grad(set_to_none=True)
    p1, p2, z1, z2 = model(x1, x2)
    loss = simsiam_loss(p1, p2, z1, z2)
    loss.backward()
    grads = {n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
             for n, p in named}
    opt.step()
    return loss.detach(), grads


def randomize_bn(model: nn.Module, generator: torch.Generator) -> None:
    """Random BN state so that residual-branch gradients are non-zero:
    gamma ~ U(0.5, 1.5) (also the zero-init ones), beta ~ N(0, 0.2),
    running_mean ~ N(0, 0.5), running_var ~ U(0.5, 2),
    num_batches_tracked ~ randint[0, 1000)."""
    g = generator
    with torch.no_grad():
        for m in model.modules():
            if not isinstance(m, nn.modules.batchnorm._BatchNorm):
                continue
            c = m.num_features
            if m.affine:
                m.weight.copy_(torch.rand(c, generator=g, dtype=torch.float64) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g, dtype=torch.float64) * 0.2)
            if m.track_running_stats:
                m.running_mean.copy_(torch.randn(c, generator=g, dtype=torch.float64) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=g, dtype=torch.float64) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(0, 1000, (1,), generator=g)))


def state_to_numpy(model: nn.Module, float_dtype=np.float32) -> Dict[str, np.ndarray]:
    """state_dict as numpy: floats as `float_dtype`, integers (num_batches_tracked) int64."""
    out = {}
    for k, v in model.state_dict().items():
        a = v.detach().cpu().numpy()
        out[k] = a.astype(float_dtype) if a.dtype.kind == "f" else a.astype(np.int64)
    return out


def load_numpy_state(model: nn.Module, state: Dict[str, np.ndarray]) -> None:
    """load_state_dict(strict) from numpy arrays (dtype converted to the model's)."""
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()},
                          strict=True)


# --------------------------------------------------------------------------
# safetensors (numpy + json, no dependency on the `safetensors` package)
# --------------------------------------------------------------------------

_ST_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}
_NP_TO_ST = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64"}


def save_safetensors(path: str, tensors: Dict[str, np.ndarray],
                     metadata: Optional[Dict[str, str]] = None) -> None:
    """Write `tensors` (F32, F64 or I64 numpy arrays, any rank including 0)
    in insertion order. Header = u64 LE length + JSON padded with spaces to a
    multiple of 8; data_offsets are relative to the data section."""
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        if name == "__metadata__":
            raise ValueError("reserved tensor name")
        arr = np.asarray(arr)
        st = _NP_TO_ST.get(arr.dtype)
        if st is None:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
        data = np.ascontiguousarray(arr, dtype=_ST_DTYPES[st]).tobytes()
        header[name] = {"dtype": st, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Read a safetensors file: returns (tensors, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: truncated")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} beyond end of file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, info in header.items():
        dt = _ST_DTYPES.get(info["dtype"])
        if dt is None:
            raise TypeError(f"{path}: {name}: unsupported dtype {info['dtype']}")
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if e - b != count * dt.itemsize or e > len(data):
            raise ValueError(f"{path}: {name}: bad data_offsets {b},{e} for shape {shape}")
        tensors[name] = np.frombuffer(data[b:e], dtype=dt).reshape(shape).copy()
    return tensors, metadata


# --------------------------------------------------------------------------
# Summary: parameter counts and forward multiply-adds
# --------------------------------------------------------------------------

def count_macs_per_image(model: SimSiam) -> Dict[str, int]:
    """Multiply-adds of convolutions and Linear layers for one image through
    f and h (one view), split by part, measured with forward hooks."""
    cfg = model.cfg
    parts = {"backbone": 0, "projector": 0, "predictor": 0}
    hooks = []

    def hook_for(part):
        def hook(m, inp, out):
            if isinstance(m, nn.Conv2d):
                kh, kw = m.kernel_size
                parts[part] += out[0].numel() * (m.in_channels // m.groups) * kh * kw
            elif isinstance(m, nn.Linear):
                parts[part] += m.in_features * m.out_features
        return hook

    for part in parts:
        for m in getattr(model, part).modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                hooks.append(m.register_forward_hook(hook_for(part)))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        x = torch.zeros((1,) + cfg.input_shape)
        model.predictor(model.encoder(x))
    model.train(was_training)
    for h in hooks:
        h.remove()
    parts["total"] = sum(parts.values())
    return parts


def summary(cfg: Config) -> None:
    model = build_model(cfg)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    per_part = {k: sum(p.numel() for p in getattr(model, k).parameters())
                for k in ("backbone", "projector", "predictor")}
    macs = count_macs_per_image(model)
    print(f"{cfg.name}: input {cfg.input_shape}, batch {cfg.batch}, lr {cfg.lr():g}")
    print(f"  parameters: {trainable + frozen:,} ({trainable:,} trainable, {frozen:,} frozen); "
          + ", ".join(f"{k} {v:,}" for k, v in per_part.items()))
    print(f"  state_dict entries: {len(model.state_dict())}, trainable tensors: "
          f"{len(trainable_names(model))}")
    print(f"  forward multiply-adds per image and view: {macs['total'] / 1e6:.2f} M "
          f"(backbone {macs['backbone'] / 1e6:.2f} M, projector {macs['projector'] / 1e6:.3f} M, "
          f"predictor {macs['predictor'] / 1e6:.3f} M)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=list(CONFIGS), action="append",
                    help="configuration(s) to summarise (default: all)")
    ap.add_argument("--summary", action="store_true", help="print parameter counts and MACs")
    ap.add_argument("--names", action="store_true", help="print the state_dict names and shapes")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for name in args.config or list(CONFIGS):
        cfg = CONFIGS[name]
        if args.summary or not args.names:
            summary(cfg)
        if args.names:
            model = build_model(cfg)
            tr = set(trainable_names(model))
            for k, v in model.state_dict().items():
                tag = "trainable" if k in tr else ("buffer" if k not in dict(model.named_parameters()) else "frozen")
                print(f"  {k:50s} {str(list(v.shape)):20s} {str(v.dtype):14s} {tag}")


if __name__ == "__main__":
    main()
