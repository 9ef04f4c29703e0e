"""The CIFAR-10 input pipeline of the ResNet paper as tf.data: `train_dataset`, `eval_dataset`.

The pipeline (He et al., 2016, "Deep Residual Learning for Image Recognition", section 4.2)
-------------------------------------------------------------------------------------------
Images are scaled to [0, 1] and the per-pixel mean of the training set is subtracted
(`per_pixel_mean`). For training, "4 pixels are padded on each side, and a 32x32 crop is
randomly sampled from the padded image or its horizontal flip" (`cnn_keras.augment.pad_crop_flip`);
the padding is zero *after* mean subtraction, i.e. the mean pixel. Testing uses the single
original view. `train_dataset` draws the order and augmentation of epoch ``e`` from
``(seed, e)`` alone with stateless random ops, so a run resumed at ``initial_epoch=k`` sees
exactly the batches an uninterrupted run would have seen from epoch ``k`` on. The whole dataset
stays in memory as a uint8 tensor; batches are gathered by index and augmented per batch,
vectorised, in parallel. `cnn_keras.data.NumpyTrainBatches` is the same pipeline without
TensorFlow (for Keras on JAX or PyTorch), and `cnn_keras.augment.PadCropFlip` the same
augmentation as a Keras layer that runs inside the model, on the device.
"""

from __future__ import annotations

import numpy as np

from cnn_keras.augment.cifar import _PHILOX, pad_crop_flip
from cnn_keras.augment.imagenet import scale_jitter as jitter
from cnn_keras.checks import check_int, check_jitter_size, check_low_res, fail, is_int
from cnn_keras.data.arrays import _check_batch_size, _check_xy_mean, steps_per_epoch

try:  # the tf.data pipelines need TensorFlow; the numpy ones (for JAX/PyTorch) do not
    import tensorflow as tf
except ImportError:  # pragma: no cover - exercised on machines without TensorFlow
    tf = None

__all__ = ["eval_dataset", "train_dataset"]


def _normalise(xb, mean):
    return tf.cast(xb, tf.float32) / 255.0 - mean


def train_dataset(
    x,
    y,
    *,
    batch_size: int,
    mean,
    seed: int,
    epochs: int,
    initial_epoch: int = 0,
    augment: bool = True,
    low_res_size: int = 0,
    low_res_epochs: int = 0,
    scale_jitter: tuple[int, int] | None = None,
) -> tf.data.Dataset:
    """Training batches for epochs ``initial_epoch .. epochs - 1``, reproducible and resumable.

    Yields ``(images, labels)``: float32 (B, H, W, C) images scaled to [0, 1] minus ``mean``
    (augmented with `pad_crop_flip` when ``augment``) and int32 (B,) labels, exactly
    ``(epochs - initial_epoch) * steps_per_epoch(len(x), batch_size)`` batches (the last partial
    batch of each epoch is dropped). Epoch ``e``'s order and augmentation depend only on
    ``(seed, e)``, so a resumed run sees the same batches as an uninterrupted one. With Keras,
    pass ``epochs``, ``initial_epoch`` and ``steps_per_epoch=steps_per_epoch(len(x), batch_size)``
    to ``fit``.

    Args:
        x: uint8 images (N, H, W, C); kept in memory as a tensor.
        y: integer labels (N,).
        batch_size: examples per batch, 1 .. N.
        mean: per-pixel mean in [0, 1] units (see `per_pixel_mean`), broadcastable to (H, W, C).
        seed: integer seed.
        epochs: index of the epoch to stop before (as in Keras ``fit``).
        initial_epoch: first epoch to produce.
        augment: apply the pad-crop-flip augmentation.
        low_res_size, low_res_epochs: progressive resizing. Epochs ``0 .. low_res_epochs - 1``
            yield their (augmented) images resized to ``low_res_size`` x ``low_res_size``
            (bilinear, antialiased); the later epochs keep the full size. 0, 0: never.
        scale_jitter: (S_min, S_max), VGG's multi-scale training (Sec. 3.1) before the
            pad-crop-flip: every image rescaled to a random side S in [S_min, S_max] and a
            random crop of its own size cut out (`cnn_keras.augment.scale_jitter`); square
            images, S_min at least their side. None: off.
    """
    x, y, mean = _check_xy_mean(x, y, mean)
    n = len(x)
    _check_batch_size(batch_size, n)
    if not is_int(seed):
        raise TypeError(f"`seed` must be an integer. Received: seed={seed!r}")
    check_int("epochs", epochs, minimum=0)
    check_int("initial_epoch", initial_epoch, minimum=0)
    if epochs <= initial_epoch:
        fail(f"`epochs` must be greater than `initial_epoch` ({initial_epoch}).", epochs=epochs)
    check_low_res(low_res_size, low_res_epochs, x.shape[1:3])
    side = _check_jitterable(scale_jitter, x.shape, augment)
    steps = steps_per_epoch(n, batch_size)
    x_t = tf.constant(x)
    y_t = tf.constant(y.astype(np.int32))
    mean_t = tf.constant(mean)
    base_seed = tf.constant([int(seed), 0], dtype=tf.int64)

    def epoch_batches(epoch):
        epoch_seed = tf.random.experimental.stateless_fold_in(base_seed, epoch, alg=_PHILOX)
        order_seed = tf.random.experimental.stateless_fold_in(epoch_seed, 0, alg=_PHILOX)
        order = tf.argsort(tf.random.stateless_uniform([n], order_seed, alg=_PHILOX))
        idx = tf.reshape(order[: steps * batch_size], [steps, batch_size])
        batches = tf.data.Dataset.from_tensor_slices(idx).enumerate()
        return batches.map(lambda b, i: (epoch_seed, b, i))

    def make_batch(epoch_seed, b, idx):
        images = tf.gather(x_t, idx)
        batch_seed = tf.random.experimental.stateless_fold_in(epoch_seed, b + 1, alg=_PHILOX)
        if augment and scale_jitter:  # the pixels rescaled, then the mean subtracted (VGG's
            # order); a seed of its own: the pad-crop-flip draws stay those without it
            images = jitter(images, tf.random.experimental.stateless_fold_in(
                batch_seed, 1, alg=_PHILOX), *scale_jitter, side)
        images = _normalise(images, mean_t)
        if augment:
            images = pad_crop_flip(images, batch_seed)
        return images, tf.gather(y_t, idx)

    def batches(first, last, size=None):
        ds = (tf.data.Dataset.range(int(first), int(last)).flat_map(epoch_batches)
              .map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))
        if size:
            ds = ds.map(lambda im, lab: (tf.image.resize(im, (size, size), antialias=True), lab),
                        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds

    switch = min(max(int(low_res_epochs), int(initial_epoch)), int(epochs))
    ds = batches(switch, epochs)
    if switch > initial_epoch:  # the low-resolution epochs first
        ds = batches(initial_epoch, switch, low_res_size).concatenate(ds)
    return (ds.apply(tf.data.experimental.assert_cardinality((epochs - initial_epoch) * steps))
            .prefetch(tf.data.AUTOTUNE))


def _check_jitterable(scale_jitter, shape, augment) -> int:
    """The side of the (square) images `scale_jitter` crops, after checking the arguments."""
    if scale_jitter is None:
        return shape[1]
    if not augment:
        fail(f"`augment` must be True with scale_jitter={tuple(scale_jitter)}: scale "
             "jittering is part of the augmentation.", augment=augment)
    check_jitter_size(scale_jitter, shape[1:3])
    return shape[1]


def eval_dataset(x, y, *, batch_size: int, mean) -> tf.data.Dataset:
    """Evaluation batches in order, without augmentation, keeping the last partial batch.

    Yields float32 images scaled to [0, 1] minus ``mean`` and int32 labels.
    """
    x, y, mean = _check_xy_mean(x, y, mean)
    n = len(x)
    check_int("batch_size", batch_size)
    if n == 0:
        fail("`x` must hold at least one image.", **{"x.shape": x.shape})
    x_t = tf.constant(x)
    y_t = tf.constant(y.astype(np.int32))
    mean_t = tf.constant(mean)

    def make_batch(start):
        end = tf.minimum(start + batch_size, n)
        return _normalise(x_t[start:end], mean_t), y_t[start:end]

    return (
        tf.data.Dataset.range(0, n, int(batch_size))
        .map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
