"""Custom layers, in pure Keras 3 ops (they run on TensorFlow, JAX and PyTorch backends)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnn_keras")
class ZeroPadShortcut(keras.layers.Layer):
    """ResNet's option-A shortcut: identity, subsampled by `stride`, channels zero-padded.

    He et al. 2015, Sec. 3.3 / 4.2: "the shortcut still performs identity mapping, with extra zero
    entries padded for increasing dimensions" and, across feature-map sizes, "performed with a
    stride of 2". It has no parameters, which is what makes a plain net and its residual twin have
    exactly the same number of weights. The new channels are appended after the existing ones.
    """

    def __init__(self, channels: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.stride = int(stride)

    def call(self, x):
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        extra = self.channels - x.shape[-1]
        if extra > 0:
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])
        return x

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        s = self.stride
        h = None if h is None else -(-h // s)
        w = None if w is None else -(-w // s)
        return (b, h, w, self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "stride": self.stride}
