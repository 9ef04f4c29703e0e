"""Test-time augmentation and accuracy (VGG Sec. 3.2 / AlexNet Sec. 4.1 style evaluation).

`predict_tta` averages a classifier's softmax outputs over several views of each image: the
original and its horizontal flip ("the test set is augmented by horizontal flipping of the
images; the soft-max class posteriors of the original and flipped images are averaged to obtain
the final scores", Simonyan & Zisserman 2014, Sec. 3.2), and optionally over crops: AlexNet's
5 crops (4 corners + centre; with the flips, its 10-view test) or VGG's regular grid of crops
("5 x 5 regular grid with 2 flips", 50 crops per scale, Sec. 3.2 / 4.3). Multi-scale testing is
a loop over rescaled copies of the images (e.g. `cnn_keras.augment.resize_shorter_side`) whose
returned probabilities are averaged again.

Backend-agnostic (numpy + `keras.ops`). Reference: https://arxiv.org/abs/1409.1556
"""

from __future__ import annotations

import math

import keras
import numpy as np

from cnn_keras.checks import check_int, fail, is_int

__all__ = ["accuracy", "crop_boxes", "predict_tta", "tta_accuracy"]


def _pair(value, arg):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        h, w = value
    else:
        h = w = value
    for v in (h, w):
        if not is_int(v) or v < 1:
            fail(f"`{arg}` must be a positive integer or a (height, width) pair.",
                 **{arg: value})
    return int(h), int(w)


def crop_boxes(height, width, crop_size, crops):
    """(top, left) corners of `crops` crops of `crop_size` (h, w) in a height x width image.

    `crops`: 1 (centre), 5 (the four corners + centre, AlexNet's test crops) or a square k*k
    (a k x k regular grid from corner to corner, e.g. VGG's 25 = 5 x 5).
    """
    ch, cw = crop_size
    if ch > height or cw > width:
        fail(f"`crop_size` must fit in the images ({height}x{width}).", crop_size=crop_size)
    if crops == 1:
        return [((height - ch) // 2, (width - cw) // 2)]
    if crops == 5:
        return [(0, 0), (0, width - cw), (height - ch, 0), (height - ch, width - cw),
                ((height - ch) // 2, (width - cw) // 2)]
    k = math.isqrt(crops)
    tops = np.linspace(0, height - ch, k).round().astype(int)
    lefts = np.linspace(0, width - cw, k).round().astype(int)
    return [(int(t), int(left)) for t in tops for left in lefts]


def _check_crops(crops):
    if crops is None:
        return
    if (not is_int(crops) or crops < 1
            or (crops != 5 and math.isqrt(crops) ** 2 != crops)):
        fail("`crops` must be None, 1 (centre), 5 (4 corners + centre) or a square k*k "
              "(a k x k grid, e.g. 25 as in VGG).", crops=crops)


def predict_tta(model, images, *, flip=True, crops=None, crop_size=None, batch_size=32,
                from_logits=False):
    """Class probabilities averaged over test-time views: original (+ flip) (x crops).

    Args:
        model: a Keras classifier (outputs (N, classes)).
        images: float array (N, H, W, C), preprocessed as the model expects.
        flip: also average over the horizontal flip of every view.
        crops: None (the whole image), 1 (centre crop), 5 (4 corners + centre) or k*k (a
            k x k regular grid, e.g. 25 for VGG's 5 x 5 grid).
        crop_size: int or (h, w) of the crops; defaults to the model's input size. Needs
            `crops`.
        batch_size: batch size of `model.predict`.
        from_logits: the model outputs logits: apply a softmax to each view before averaging.

    Every view is resized (bilinear) to the model's input size where that is fixed and differs,
    e.g. crops of `crop_size` 256 for a 224-input model, or whole images of another size.

    Returns:
        float32 (N, classes): the mean of the softmax outputs over all views.
    """
    if not isinstance(model, keras.Model):
        fail("`model` must be a Keras model.", model=model)
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        fail("`images` must be a non-empty batch (N, H, W, C).", images_shape=images.shape)
    if not np.issubdtype(images.dtype, np.number):
        fail("`images` must be numeric.", images_dtype=images.dtype)
    if not isinstance(flip, bool):
        fail("`flip` must be True or False.", flip=flip)
    _check_crops(crops)
    check_int("batch_size", batch_size)
    model_hw = tuple(model.inputs[0].shape[1:3])
    fixed = all(d is not None for d in model_hw)
    _, height, width, _ = images.shape
    if crops is None:
        if crop_size is not None:
            fail("`crop_size` needs `crops` (1, 5 or k*k).", crop_size=crop_size)
        boxes, size = [(0, 0)], (height, width)
    else:
        if crop_size is None:
            if not fixed:
                fail("The model has no fixed input size; pass `crop_size`.",
                      crop_size=crop_size)
            crop_size = model_hw
        size = _pair(crop_size, "crop_size")
        boxes = crop_boxes(height, width, size, int(crops))

    images = images.astype("float32", copy=False)
    total = None
    n_views = 0
    for top, left in boxes:
        view = images[:, top:top + size[0], left:left + size[1], :]
        if fixed and tuple(view.shape[1:3]) != model_hw:
            view = keras.ops.convert_to_numpy(
                keras.ops.image.resize(view, model_hw, interpolation="bilinear"))
        for v in ([view, view[:, :, ::-1, :]] if flip else [view]):
            out = np.asarray(model.predict(np.ascontiguousarray(v), batch_size=batch_size,
                                           verbose=0), dtype="float64")
            if from_logits:
                out = np.exp(out - out.max(axis=-1, keepdims=True))
                out /= out.sum(axis=-1, keepdims=True)
            total = out if total is None else total + out
            n_views += 1
    return (total / n_views).astype("float32")


def accuracy(probs, labels, *, k=1):
    """Top-`k` accuracy of scores `probs` (N, classes) against `labels`.

    `labels`: integer class ids (N,) or one-hot / probability rows (N, classes). `k=5` gives the
    top-5 accuracy (the papers' top-5 error is 1 - that). Ties are broken by class order.
    """
    probs = np.asarray(probs)
    labels = np.asarray(labels)
    if probs.ndim != 2 or len(probs) == 0:
        fail("`probs` must be a non-empty (N, classes) array.", probs_shape=probs.shape)
    if labels.ndim == 2 and labels.shape == probs.shape:
        labels = labels.argmax(axis=-1)
    if labels.shape != (len(probs),) or not np.issubdtype(labels.dtype, np.integer):
        fail(f"`labels` must be {len(probs)} integer class ids or one-hot rows of "
              f"shape {probs.shape}.", labels_shape=labels.shape)
    if not is_int(k) or not 1 <= k <= probs.shape[1]:
        fail(f"`k` must be an integer in [1, {probs.shape[1]}].", k=k)
    if labels.min() < 0 or labels.max() >= probs.shape[1]:
        fail(f"`labels` must be class ids in [0, {probs.shape[1]}).",
              labels_range=(int(labels.min()), int(labels.max())))
    top = np.argsort(-probs, axis=-1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=-1)))


def tta_accuracy(model, batches, *, k=1, **views) -> float:
    """Top-`k` accuracy of `model` over `batches` of (images, labels) (any iterable, e.g. a
    streamed ``data.streaming.eval_dataset(..., square=True)``), each batch scored with
    `predict_tta` and ``views`` (``flip``, ``crops``, ``crop_size``, ``from_logits``)."""
    correct = total = 0
    for images, labels in batches:
        probs = predict_tta(model, np.asarray(images), **views)
        labels = np.asarray(labels)
        correct += accuracy(probs, labels, k=k) * len(labels)
        total += len(labels)
    if total == 0:
        fail("`batches` must hold at least one batch.", batches=batches)
    return correct / total


def predict_dense(model, images_uint8, mean, *, scale: int, windows: int = 3,
                  batch_size: int = 256):
    """VGG's single-scale test at a larger scale Q (Sec. 3.2, Table 3): each image enlarged to
    `scale` x `scale` (bilinear, the raw pixels, as training rescales them), then the net's
    softmax averaged over `windows` x `windows` crops of the model's input size spread evenly
    over it (offsets 0 .. scale - size): the dense evaluation of a net whose classifier sees one
    input-sized window, as the paper's fully convolutional test averages its class score map.

    `images_uint8` (N, H, W, C) uint8 at the model's input size; `mean` the per-pixel mean (in
    [0, 1]) subtracted from every crop, as in training. Returns (N, classes) probabilities."""
    from keras import ops

    size = images_uint8.shape[1]
    check_int("scale", scale, minimum=size)
    check_int("windows", windows)
    if images_uint8.shape[2] != size:
        fail("`images_uint8` must be square.", **{"images_uint8.shape": images_uint8.shape})
    offsets = sorted({round(i * (scale - size) / max(windows - 1, 1)) for i in range(windows)})
    chunks = []
    for start in range(0, len(images_uint8), 1000):  # 1,000 enlarged images at a time
        chunk = images_uint8[start:start + 1000].astype("float32")
        big = ops.convert_to_numpy(ops.image.resize(chunk, (scale, scale),
                                                    interpolation="bilinear"))
        chunks.append(sum(np.asarray(model.predict(
            big[:, dy:dy + size, dx:dx + size] / 255.0 - mean, batch_size=batch_size, verbose=0))
            for dy in offsets for dx in offsets))
    return np.concatenate(chunks) / len(offsets) ** 2
