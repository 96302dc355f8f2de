#!/usr/bin/env python3
"""Writes scikit-learn's bundled handwritten digits as .npz files that `simsiamc --data` reads.

The transfer study (docs/transfer.md) needs a labelled dataset other than Fashion-MNIST that is
available offline. scikit-learn ships one inside its wheel: 1,797 8x8 digit images with 17 grey
levels (0-16), 10 classes. This fixture script, not simsiamc, depends on it (`pip install
scikit-learn numpy pillow`); nothing here runs at simsiamc's run time.

What it writes, into OUT (default runs/digits):

- digits.npz: x_train, y_train, x_test, y_test. Images uint8 N x 28 x 28, labels uint8.
  Each 8x8 image is scaled from 0-16 to 0-255 (v * 255 / 16, rounded) and enlarged to 28x28
  by PIL's bilinear resize (Image.BILINEAR), so the digit fills the frame as it does in the
  8x8 original. Split: scikit-learn's train_test_split, stratified by class, test_size 0.3,
  random_state 0: 1,257 training and 540 test images, every class in both at its share.
- digits-10pc.npz: the same test split, and 10 training images of every class (100 in all),
  chosen per class by numpy's default_rng(0): that class's training images, in split order,
  permuted, first 10 kept. The same images for every measure of the small label budget.
- normalization.txt: "MEAN STD" of the full training split's pixels on the [0, 1] scale,
  for `--mean` and `--std`, so that both budgets are normalised alike.

Usage: python3 scripts/export_digits.py [OUT]
"""

import pathlib
import sys

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SIDE = 28
LABELS_PER_CLASS_SMALL = 10


def upsample(images_8x8: np.ndarray) -> np.ndarray:
    """0-16 grey 8x8 images -> uint8 0-255 28x28, bilinear."""
    scaled = np.rint(images_8x8.astype(np.float64) * 255.0 / 16.0).astype(np.uint8)
    return np.stack([np.asarray(Image.fromarray(image, mode="L").resize((SIDE, SIDE), Image.BILINEAR))
                     for image in scaled])


def per_class_subset(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of `per_class` images of every class, chosen per class by a seeded permutation."""
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        chosen.extend(rng.permutation(members)[:per_class])
    return np.sort(np.array(chosen))


def main() -> None:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/digits")
    out.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    images = upsample(digits.images)
    labels = digits.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=0.3, stratify=labels, random_state=0)
    np.savez(out / "digits.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    small = per_class_subset(y_train, LABELS_PER_CLASS_SMALL, seed=0)
    np.savez(out / "digits-10pc.npz", x_train=x_train[small], y_train=y_train[small], x_test=x_test, y_test=y_test)
    pixels = x_train.astype(np.float64) / 255.0
    (out / "normalization.txt").write_text(f"{pixels.mean():.6f} {pixels.std():.6f}\n")
    counts = np.bincount(y_train, minlength=10)
    print(f"{out}/digits.npz: {len(x_train)} train (per class {counts.min()}-{counts.max()}), {len(x_test)} test, "
          f"{SIDE}x{SIDE} uint8; digits-10pc.npz: {len(small)} train; mean {pixels.mean():.4f}, std {pixels.std():.4f}")


if __name__ == "__main__":
    main()
