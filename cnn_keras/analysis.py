"""Model analysis: parameter counts and multiply-accumulates (MACs).

MACs count the multiply-adds of Conv2D, DepthwiseConv2D and Dense layers only — what papers and
torchvision call "FLOPs" (He et al. 2015, Table 1: ResNet-50 "3.8 x 10^9 FLOPs").
"""

from __future__ import annotations

import math

import keras


def count_params(model) -> dict:
    """{'trainable', 'non_trainable', 'total'} parameter counts of a built model."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return {"trainable": int(trainable), "non_trainable": int(non_trainable),
            "total": int(trainable + non_trainable)}


def layer_macs(layer) -> int:
    """Multiply-adds of one layer for one example (0 for layers that do none)."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        _, h, w, _ = layer.output.shape
        kh, kw = layer.kernel_size
        return int(h * w * kh * kw * layer.kernel.shape[2] * layer.kernel.shape[3])
    if isinstance(layer, keras.layers.Conv2D):
        _, h, w, c_out = layer.output.shape
        kh, kw, c_in_per_group, _ = layer.kernel.shape
        return int(h * w * c_out * kh * kw * c_in_per_group)
    if isinstance(layer, keras.layers.Dense):
        return int(math.prod(layer.kernel.shape) * math.prod(layer.output.shape[1:-1] or (1,)))
    return 0


def count_macs(model) -> int:
    """Total multiply-adds of Conv2D / DepthwiseConv2D / Dense layers for one example.

    The model needs a fixed input size (e.g. build it with `input_shape=(224, 224, 3)`).
    """
    shape = model.inputs[0].shape
    if any(d is None for d in shape[1:]):
        raise ValueError("count_macs needs a model with a fixed input size; build it with "
                         f"input_shape=(H, W, C). Received: input shape {tuple(shape)}")
    return sum(layer_macs(layer) for layer in model._flatten_layers(include_self=False))


def gradient_norms(model, x, y, *, loss=None) -> list[tuple[str, float]]:
    """L2 norm of the loss gradient w.r.t. each conv/dense kernel, input to output order.

    Used to check the ResNet paper's claim (Sec. 4.1) that the degradation of deep plain nets is
    *not* vanishing gradients: with BN, the gradients reaching the first layers keep healthy
    norms. Needs the TensorFlow backend.
    """
    import tensorflow as tf

    loss = loss or keras.losses.SparseCategoricalCrossentropy()
    kernels = [w for w in model.trainable_weights if w.path.endswith("kernel")]
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    grads = tape.gradient(value, kernels)
    return [(w.path.rsplit("/", 1)[0], float(tf.norm(g))) for w, g in zip(kernels, grads)]
