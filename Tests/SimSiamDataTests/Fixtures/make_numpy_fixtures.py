"""Writes the NumPy fixtures of NumPyImagesTests with numpy itself (run from this folder).

The values are formulas the tests recompute, so a reader that swaps axes,
byte orders or entries fails them.
"""

import numpy as np

grey = (np.arange(2 * 3 * 4) * 7 % 256).astype(np.uint8).reshape(2, 3, 4)  # N H W
np.save("grey-nhw-u1.npy", grey)

nchw = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2) / 23.0  # N C H W in [0, 1]
np.save("rgb-nchw-f4.npy", nchw)

nhwc = (np.arange(2 * 2 * 2 * 3) * 5).astype(np.uint8).reshape(2, 2, 2, 3)  # N H W C
np.save("rgb-nhwc-u1.npy", nhwc)

np.save("grey-f8.npy", grey.astype(np.float64) / 255.0)
np.save("labels-i8.npy", np.array([1, 0], dtype=np.int64))
np.save("fortran.npy", np.asfortranarray(grey.astype(np.float32)[:, :, :2] / 255.0))

with open("grey-v2.npy", "wb") as f:
    np.lib.format.write_array(f, grey, version=(2, 0))

np.savez("labelled.npz", images=grey, labels=np.array([3, 1], dtype=np.int64))
np.savez_compressed(
    "keras-style-deflated.npz",
    x_train=nhwc,
    y_train=np.array([0, 2], dtype=np.uint8),
    x_test=nhwc[::-1].copy(),
    y_test=np.array([2, 1], dtype=np.int32),
)
