"""The CIFAR augmentation of the ResNet paper (He et al., 2016, "Deep Residual Learning for
Image Recognition", section 4.2): "4 pixels are padded on each side, and a 32x32 crop is
randomly sampled from the padded image or its horizontal flip".

It exists three ways, for three places it can run, all here:

* `pad_crop_flip`: tf.data ops (stateless Philox random numbers from a seed tensor), for
  `cnn_keras.data.train_dataset`;
* `pad_crop_flip_numpy`: numpy (PCG64, from a ``numpy.random.Generator``), for
  `cnn_keras.data.NumpyTrainBatches` on backends without TensorFlow; `_normalised_crops` is the
  same on uint8 images, fused with scaling and mean subtraction;
* `PadCropFlip`: a Keras layer (``keras.random``), which runs inside the model, on the device.

Every image of a batch gets its own window: a row and a column offset in ``[-pad, pad]`` and a
left-right flip with probability 1/2, drawn in that order (`_draw_windows`, the one definition
the three share). A window is given as the source row of every output row and the source column
of every output column; pixels whose source falls outside the image are zero (the padding,
which the pipelines apply *after* mean subtraction, so it is the mean pixel). The three differ
in their random number generators only, so the same seed gives the same numbers within each,
not across them.

This module imports Keras and numpy only; `pad_crop_flip` imports TensorFlow when called.
"""

from __future__ import annotations

import types

import keras
import numpy as np
from keras import ops

from cnn_keras.checks import check_int, fail, is_int

__all__ = ["PadCropFlip", "pad_crop_flip", "pad_crop_flip_numpy"]

_PHILOX = "philox"  # fixed algorithm: the same numbers on every device


def _draw_windows(b, h, w, pad, randint, uniform, xp):
    """The pad-crop-flip windows of `b` images of `h` x `w`: rows (b, h) and cols (b, w), the
    source row and column (in unpadded coordinates, -pad .. h-1+pad) of every output pixel.

    `randint(n)` draws n integers in [0, 2 pad]; `uniform(n)` n floats in [0, 1); they are
    called in this order: row offsets, column offsets, flips. `xp` supplies ``arange`` and
    ``where`` (numpy, keras.ops, or TensorFlow's range and where)."""
    oy = randint(b) - pad
    ox = randint(b) - pad
    flip = uniform(b) < 0.5
    rows = oy[:, None] + xp.arange(h)[None, :]
    cols = ox[:, None] + xp.where(flip[:, None], xp.arange(w - 1, -1, -1)[None, :],
                                  xp.arange(w)[None, :])
    return rows, cols


# --- tf.data -------------------------------------------------------------------------------


def pad_crop_flip(images, seed, pad: int = 4):
    """Zero-pad, randomly crop back to the input size, and randomly flip left-right.

    The ResNet paper's CIFAR augmentation, vectorised over the batch: every image gets its own
    offset in ``[0, 2 * pad]`` along each axis and a flip with probability 1/2, drawn with
    stateless random ops from ``seed`` (a shape-[2] integer tensor), so the same seed always
    gives the same output.

    Args:
        images: float tensor (B, H, W, C).
        seed: shape-[2] int32/int64 tensor (or list).
        pad: pixels of zero padding on each side.

    Returns:
        A tensor of the same shape and dtype as ``images``.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images)
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer:
        raise ValueError(f"`seed` must be a shape-[2] integer tensor. Received: seed={seed}")
    seed = tf.cast(seed, tf.int64)
    if images.shape.rank is not None and images.shape.rank != 4:
        raise ValueError(
            f"`images` must have rank 4, (B, H, W, C). Received: images.shape={images.shape}"
        )
    pad = check_int("pad", pad, minimum=0)
    shape = tf.shape(images)
    seeds = tf.random.experimental.stateless_split(seed, 3, alg=_PHILOX)
    draws = iter((seeds[0], seeds[1], seeds[2]))  # offsets y, offsets x, flips
    rows, cols = _draw_windows(
        shape[0], shape[1], shape[2], pad,
        lambda n: tf.random.stateless_uniform([n], next(draws), minval=0, maxval=2 * pad + 1,
                                              dtype=tf.int32, alg=_PHILOX),
        lambda n: tf.random.stateless_uniform([n], next(draws), alg=_PHILOX),
        types.SimpleNamespace(arange=tf.range, where=tf.where))
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    out = tf.gather(padded, rows + pad, axis=1, batch_dims=1)  # (B, H, W + 2 pad, C)
    out = tf.gather(out, cols + pad, axis=2, batch_dims=1)  # (B, H, W, C)
    return tf.ensure_shape(out, images.shape)


# --- numpy ---------------------------------------------------------------------------------


def _crop_windows(b, h, w, rng, pad):
    """`_draw_windows` with the numpy Generator `rng`."""
    return _draw_windows(b, h, w, pad, lambda n: rng.integers(0, 2 * pad + 1, n), rng.random, np)


def _clip_windows(rows, cols, h, w):
    """Windows as indices into the unpadded image: the rows (b, h, 1) and cols (b, 1, w)
    clipped to it, and the (b, h, w) mask of the output pixels whose source is inside it."""
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    return np.clip(rows, 0, h - 1)[:, :, None], np.clip(cols, 0, w - 1)[:, None, :], inside


def pad_crop_flip_numpy(images: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """`pad_crop_flip` in numpy: zero-pad by `pad`, crop back at a random offset, flip half.

    ``images`` is a float (B, H, W, C) batch (already mean-subtracted); ``rng`` a numpy Generator.
    """
    b, h, w, _ = images.shape
    r, c, inside = _clip_windows(*_crop_windows(b, h, w, rng, pad), h, w)
    return np.where(inside[..., None], images[np.arange(b)[:, None, None], r, c], 0)


def _normalised_crops(x: np.ndarray, idx: np.ndarray, mean: np.ndarray,
                      rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """``pad_crop_flip_numpy(x[idx] / 255 - mean, rng)`` without the float copy of the batch:
    one gather of the uint8 source pixels, then scale, subtract their means and zero the pixels
    that fell in the padding. The same numbers, with less copying (measured:
    docs/benchmarks.md)."""
    b, (h, w) = len(idx), x.shape[1:3]
    r, c, inside = _clip_windows(*_crop_windows(b, h, w, rng, pad), h, w)
    out = x[idx[:, None, None], r, c].astype(np.float32)
    out /= np.float32(255.0)
    out -= np.broadcast_to(mean, x.shape[1:])[r, c]
    out *= inside[..., None]
    return out


# --- Keras layer ---------------------------------------------------------------------------


def _gather_windows(images, rows, cols):
    """Backend-agnostic crop-and-flip gather: output pixel (i, j) of image k is source pixel
    (rows[k, i], cols[k, j]) of `images` (B, H, W, C), or 0 where that falls outside the image
    (the zero padding). `rows` (B, h) and `cols` (B, w) are integer tensors, as `_draw_windows`
    draws them."""
    b, h, w, c = ops.shape(images)
    rows, cols = ops.cast(rows, "int32"), ops.cast(cols, "int32")
    r = ops.clip(rows, 0, h - 1)
    col = ops.clip(cols, 0, w - 1)
    out = ops.take_along_axis(images, ops.broadcast_to(r[:, :, None, None], (b, h, w, c)), 1)
    out = ops.take_along_axis(out, ops.broadcast_to(col[:, None, :, None], (b, h, w, c)), 2)
    inside = ops.logical_and(
        ops.logical_and(rows >= 0, rows < h)[:, :, None],
        ops.logical_and(cols >= 0, cols < w)[:, None, :])
    return out * ops.cast(inside, out.dtype)[..., None]


@keras.saving.register_keras_serializable(package="cnn_keras")
class PadCropFlip(keras.layers.Layer):
    """The ResNet paper's CIFAR augmentation as a Keras layer, on any backend and on the device.

    In training (``training=True``, as inside ``fit``) every image of the batch gets its own
    offset in ``[-pad, pad]`` along each axis, with zeros where the window leaves the image, and
    a left-right flip with probability 1/2, drawn from the layer's
    ``keras.random.SeedGenerator(seed)``; at inference it returns its input unchanged. This is
    what `pad_crop_flip` (tf.data) and `NumpyTrainBatches` (numpy) do in the input pipeline,
    moved into the model, so a GPU run needs no CPU augmentation at all: feed batches that are
    only scaled and mean-subtracted (`eval_arrays`, or ``NumpyTrainBatches(augment=False)``).
    As in the pipelines, the padding is zero *after* mean subtraction (the mean pixel)::

        augmented = keras.Sequential([keras.Input((32, 32, 3)), augment.PadCropFlip(seed=0),
                                      cnn_keras.resnet20()])

    (`keras.layers.RandomCrop` draws one offset for the whole batch; this layer draws one per
    image, as the paper's per-image augmentation does.)

    Args:
        pad: pixels of zero padding on each side (the paper's 4), an integer >= 0.
        seed: integer seed of the layer's random draws, or None.
    """

    def __init__(self, pad: int = 4, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        pad = check_int("pad", pad, minimum=0)
        if seed is not None and not is_int(seed):
            fail("`seed` must be an integer or None.", seed=seed)
        self.pad, self.seed = pad, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        shape, p = ops.shape(inputs), self.pad
        rows, cols = _draw_windows(
            shape[0], shape[1], shape[2], p,
            lambda n: keras.random.randint((n,), 0, 2 * p + 1, seed=self.seed_generator),
            lambda n: keras.random.uniform((n,), seed=self.seed_generator), ops)
        return _gather_windows(inputs, rows, cols)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pad": self.pad, "seed": self.seed}

    # The random state is saved with the model (Keras saves no seed-generator state by itself),
    # so a training run resumed from a checkpoint draws what an uninterrupted one would.
    def save_own_variables(self, store):
        store["seed_generator_state"] = ops.convert_to_numpy(self.seed_generator.state.value)

    def load_own_variables(self, store):
        if "seed_generator_state" in store:  # absent in files saved before it was
            self.seed_generator.state.assign(store["seed_generator_state"])
