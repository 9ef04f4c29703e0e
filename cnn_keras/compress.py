"""Shrinking a trained net after training: the road MobileNet does not take.

MobileNet (Howard et al. 2017, Sec. 2) sorts small nets into those trained small and those made
by "shrinking, factorizing or compressing pretrained networks" (quantization, hashing, pruning,
Huffman coding), and builds one of the first kind. Two methods of the second kind, on a Keras
model and without retraining, so that the course can put numbers on the difference:

* `prune`: magnitude pruning, the same fraction of every kernel (or of the named layers'); Han
  et al. 2015 ("Learning both weights and connections") set each layer's threshold from its
  sensitivity and retrained between the steps, and their AlexNet kept 11 % of its weights;
* `quantize_int8`: each kernel rounded to 8-bit integers with one scale per output channel
  (symmetric), then stored back as float, so that the model computes what int8 weights give.

Both return a new model and leave the trained one as it was. Only kernels (Conv2D,
DepthwiseConv2D, Dense) change: biases and batch-norm statistics are small and sensitive.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from cnn_keras.analysis import iter_layers
from cnn_keras.checks import check_number, fail, is_int

_KERNEL_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)


def kernel_layers(model) -> list:
    """The layers of `model` whose kernels `prune` and `quantize_int8` change."""
    return [layer for layer in iter_layers(model) if isinstance(layer, _KERNEL_LAYERS)]


def _copy(model):
    """`model` cloned with its weights. A layer that derives state from its weights (a
    Normalization layer's mean and variance) recomputes it: set_weights alone leaves the
    clone's preprocessing at its initial state, and a recorded net 12 points less accurate."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    for layer in iter_layers(clone):
        if callable(getattr(layer, "finalize_state", None)):
            layer.finalize_state()
    return clone


def prune(model, keep: float, *, layers=None):
    """A copy of `model` in which every kernel (or those of the layers named in `layers`)
    keeps the `keep` fraction (0 < keep <= 1) of its weights of largest magnitude and the rest
    are 0: each layer pruned by the same fraction (rounded up to a whole weight), without
    retraining."""
    check_number("keep", keep, low=0, low_open=True, high=1)
    names = [layer.name for layer in kernel_layers(model)]
    if layers is not None and (isinstance(layers, str) or not layers
                               or not set(layers) <= set(names)):
        fail(f"`layers` must be a list of {model.name}'s layers with kernels: {names}.",
             layers=layers)
    pruned = _copy(model)
    for layer in kernel_layers(pruned):
        if layers is not None and layer.name not in layers:
            continue
        w = keras.ops.convert_to_numpy(layer.kernel)
        flat = np.abs(w).ravel()
        kept = math.ceil(round(keep * flat.size, 6))  # 0.07 * 100 is 7.000000000000001
        mask = np.zeros(flat.size, dtype=bool)
        mask[np.argsort(flat, kind="stable")[flat.size - kept:]] = True  # exactly `kept`
        layer.kernel.assign(w * mask.reshape(w.shape))
    return pruned


def _per_output_channel(w: np.ndarray, depthwise: bool) -> np.ndarray:
    """`w` as a matrix with one column per output channel (a depthwise kernel's
    (h, w, channels, multiplier) gives channels x multiplier columns)."""
    return w.reshape(w.shape[0] * w.shape[1], -1) if depthwise else w.reshape(-1, w.shape[-1])


def quantize_int8(model):
    """A copy of `model` whose kernels hold what int8 storage keeps: per output channel, the
    scale max|w| / 127 and each weight rounded to the nearest of -127 ... 127 times it (an
    all-zero channel stays 0). Activations stay float32: weight-only quantisation."""
    quantized = _copy(model)
    for layer in kernel_layers(quantized):
        w = keras.ops.convert_to_numpy(layer.kernel)
        columns = _per_output_channel(w, isinstance(layer, keras.layers.DepthwiseConv2D))
        scale = np.abs(columns).max(axis=0) / 127
        scale[scale == 0] = 1.0  # nothing to scale: the zeros stay zeros
        levels = np.clip(np.round(columns / scale), -127, 127)
        layer.kernel.assign((levels * scale).reshape(w.shape).astype(w.dtype))
    return quantized


def weight_bytes(model, *, kernel_bits: int = 32) -> int:
    """Bytes to store `model`'s weights: the non-zero kernel weights at `kernel_bits` each (a
    pruned kernel's positions not counted: a lower bound for sparse storage) plus a 32-bit
    scale per output channel where kernel_bits < 32, and every other weight at 32 bits."""
    if not is_int(kernel_bits) or not 1 <= kernel_bits <= 32:
        fail("`kernel_bits` must be an integer from 1 to 32.", kernel_bits=kernel_bits)
    kernels = {id(layer.kernel) for layer in kernel_layers(model)}
    total = 0.0
    for layer in kernel_layers(model):
        w = keras.ops.convert_to_numpy(layer.kernel)
        total += np.count_nonzero(w) * kernel_bits / 8
        if kernel_bits < 32:
            columns = _per_output_channel(w, isinstance(layer, keras.layers.DepthwiseConv2D))
            total += 4 * columns.shape[1]
    total += sum(4 * math.prod(v.shape) for v in model.weights if id(v) not in kernels)
    return int(total)
