"""Custom layers, in pure Keras 3 ops (they run on TensorFlow, JAX and PyTorch backends)."""

from __future__ import annotations

import keras
import numpy as np
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


# Krizhevsky et al. 2012, Sec. 3.3: "k = 2, n = 5, alpha = 10^-4, and beta = 0.75". VGG's A-LRN
# (Simonyan & Zisserman 2014, Sec. 2.3) and GoogLeNet's stem (Szegedy et al. 2014) use them too.
ALEXNET_LRN = {"size": 5, "k": 2.0, "alpha": 1e-4, "beta": 0.75}


@keras.saving.register_keras_serializable(package="cnn_keras")
class LocalResponseNormalization(keras.layers.Layer):
    """Local Response Normalization across channels (Krizhevsky et al. 2012, Sec. 3.3).

        b[x, y, i] = a[x, y, i] / (k + alpha * sum_{j=i-n/2}^{i+n/2} a[x, y, j]^2) ** beta

    with the sum over `size` (n) adjacent channels, clipped at the edges. The defaults are the
    paper's k=2, n=5, alpha=1e-4, beta=0.75 (`ALEXNET_LRN`). Parameter mapping:
    `tf.nn.local_response_normalization` uses depth_radius=(n-1)/2, bias=k, alpha=alpha,
    beta=beta (same formula); Caffe's and PyTorch's `alpha` is divided by n, so their alpha
    equals n * this alpha.
    Channels-last; pure Keras ops.
    """

    def __init__(self, size: int = ALEXNET_LRN["size"], k: float = ALEXNET_LRN["k"],
                 alpha: float = ALEXNET_LRN["alpha"], beta: float = ALEXNET_LRN["beta"], **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
            raise ValueError(f"`size` must be an odd positive integer. Received: size={size!r}")
        self.size, self.k, self.alpha, self.beta = size, float(k), float(alpha), float(beta)

    def call(self, x):
        # The window sum over channels as one matmul with a 0/1 band matrix (band[j, i] = 1 when
        # |i - j| <= n/2): exact, and several times faster to train than summing n shifted
        # slices (whose gradients are n pads).
        channels = x.shape[-1]
        idx = np.arange(channels)
        band = (np.abs(idx[:, None] - idx[None, :]) <= self.size // 2).astype("float32")
        window = ops.matmul(ops.square(x), ops.cast(band, x.dtype))
        # d ** -beta as exp(-beta * log d) (d >= k > 0): the same value to float rounding, and
        # half the training time of `power`, whose gradient costs another pow and a divide
        # (benchmarks/lrn_speed.py).
        return x * ops.exp(-self.beta * ops.log(self.k + self.alpha * window))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "k": self.k, "alpha": self.alpha,
                "beta": self.beta}
