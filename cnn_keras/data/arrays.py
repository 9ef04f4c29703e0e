"""What both input pipelines (`tf_pipeline`, `numpy_pipeline`) share, in numpy alone: the
checks of their (x, y, mean) arguments, the per-pixel mean of the training images, and the
number of full batches per epoch."""

from __future__ import annotations

import numpy as np

from cnn_keras.checks import check_int, fail

__all__ = ["per_pixel_mean", "steps_per_epoch"]


def per_pixel_mean(x_uint8) -> np.ndarray:
    """The per-pixel mean image of uint8 images, float32 (H, W, C) in [0, 1] units."""
    x = np.asarray(x_uint8)
    _check_images(x, "x_uint8")
    if len(x) == 0:
        fail("`x_uint8` must hold at least one image.", **{"x_uint8.shape": x.shape})
    return (x.mean(axis=0, dtype=np.float64) / 255.0).astype(np.float32)


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Full batches per epoch, ``num_examples // batch_size`` (the remainder is dropped).

    Raises ValueError when that is 0 or ``batch_size`` < 1.
    """
    check_int("batch_size", batch_size)
    steps = int(num_examples) // int(batch_size)
    if steps < 1:
        fail(f"`batch_size` must not exceed the number of examples ({num_examples}), or an "
             "epoch has no full batch.", batch_size=batch_size)
    return steps


def _check_batch_size(batch_size, n: int) -> int:
    """`batch_size` as an int, or a ValueError unless it is in 1 .. `n`."""
    check_int("batch_size", batch_size)
    if batch_size > n:
        fail(f"`batch_size` must be at most the number of examples ({n}).",
             batch_size=batch_size)
    return int(batch_size)


def _check_images(x: np.ndarray, arg: str) -> None:
    if x.dtype != np.uint8:
        raise ValueError(
            f"`{arg}` must be a uint8 array of images. Received: {arg}.dtype={x.dtype}")
    if x.ndim != 4:
        fail(f"`{arg}` must have rank 4, (N, height, width, channels).",
             **{f"{arg}.shape": x.shape})


def _check_xy_mean(x, y, mean):
    """(x, y, mean) as arrays, or a ValueError naming the first that is wrong: uint8 images
    (N, H, W, C), N integer labels, and a float32 mean that broadcasts to (H, W, C) (None: 0)."""
    x = np.asarray(x)
    y = np.asarray(y)
    _check_images(x, "x")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"`y` must be an integer array of labels. Received: y.dtype={y.dtype}")
    if y.ndim != 1:
        fail("`y` must have rank 1, (N,).", **{"y.shape": y.shape})
    if len(x) != len(y):
        raise ValueError(
            f"`x` and `y` must have the same length. Received: len(x)={len(x)}, len(y)={len(y)}"
        )
    if mean is None:
        mean = np.zeros((), np.float32)
    mean = np.asarray(mean, dtype=np.float32)
    try:
        ok = np.broadcast_shapes(mean.shape, x.shape[1:]) == x.shape[1:]
    except ValueError:
        ok = False
    if not ok:
        fail(f"`mean` must broadcast to the image shape {x.shape[1:]} (use per_pixel_mean).",
             **{"mean.shape": mean.shape})
    return x, y, mean
