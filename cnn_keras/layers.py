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
# (Simonyan & Zisserman 2014, Sec. 2.1) uses them too; GoogLeNet's paper (Szegedy et al. 2014,
# Table 1) names LRN in its stem without constants, so its builder reuses these.
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
        # |i - j| <= n/2): exact, one matmul where summing n shifted slices would put n pads
        # in the gradient.
        channels = x.shape[-1]
        idx = np.arange(channels)
        band = (np.abs(idx[:, None] - idx[None, :]) <= self.size // 2).astype("float32")
        # In float32 under mixed precision (as Keras' BatchNormalization): float16's squares
        # overflow once activations pass ~115 (5 * 115^2 > 65504), and d ** -beta of inf is 0.
        dtype = keras.backend.standardize_dtype(x.dtype)
        xf = ops.cast(x, "float32") if dtype in ("float16", "bfloat16") else x
        window = ops.matmul(ops.square(xf), ops.cast(band, xf.dtype))
        # d ** -beta as exp(-beta * log d) (d >= k > 0): the same value to float rounding, and
        # cheaper to train than `power`, whose gradient costs another pow and a divide
        # (docs/benchmarks.md, benchmarks/lrn_speed.py).
        scale = ops.exp(-self.beta * ops.log(self.k + self.alpha * window))
        return x * ops.cast(scale, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "k": self.k, "alpha": self.alpha,
                "beta": self.beta}


@keras.saving.register_keras_serializable(package="cnn_keras")
class PatchWhitening(keras.layers.Conv2D):
    """A frozen convolution that whitens the input's `kernel_size` x `kernel_size` patches
    (Page 2018, "How to train your ResNet"; Jordan 2024, airbench): its filters are the
    eigenvectors of the patches' covariance, each scaled by ``1 / sqrt(eigenvalue + eps)``,
    and the same filters negated (so that a following GELU or ReLU keeps both signs):
    ``2 * channels * kernel_size**2`` output channels, a "valid" convolution.

    The kernel is not trainable; the bias is. `adapt(images)` sets the kernel from images (as
    `keras.layers.Normalization.adapt` sets its statistics); until then it is a random
    projection. The Conv2D it is counts in `analysis.count_macs`.
    """

    def __init__(self, kernel_size: int = 2, input_channels: int = 3, eps: float = 5e-4,
                 **kwargs):
        for key in ("filters", "padding", "use_bias"):
            kwargs.pop(key, None)  # fixed by the construction (from_config passes them back)
        if isinstance(kernel_size, (list, tuple)):
            kernel_size = kernel_size[0]
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(f"`kernel_size` must be a positive integer. "
                             f"Received: kernel_size={kernel_size!r}")
        if eps is None or isinstance(eps, bool) or not float(eps) >= 0:
            raise ValueError(f"`eps` must be a number >= 0. Received: eps={eps!r}")
        super().__init__(filters=2 * input_channels * kernel_size ** 2, kernel_size=kernel_size,
                         padding="valid", use_bias=True, **kwargs)
        self.input_channels, self.eps = int(input_channels), float(eps)

    def build(self, input_shape):
        if input_shape[-1] != self.input_channels:
            raise ValueError(f"PatchWhitening({self.name!r}) was made for "
                             f"{self.input_channels} input channels. "
                             f"Received: input_shape={tuple(input_shape)}")
        super().build(input_shape)
        self.kernel.trainable = False  # the whitening stays what `adapt` computed

    def adapt(self, images, eps: float | None = None) -> np.ndarray:
        """Set the kernel from `images` (N, H, W, C), as the net will see them (normalised):
        every patch of every image. Returns the eigenvalues, largest first."""
        eps = self.eps if eps is None else float(eps)
        x = np.asarray(images, dtype="float64")
        k, c = self.kernel_size[0], x.shape[-1]
        if x.ndim != 4 or c != self.input_channels:
            raise ValueError(f"`images` must be (N, H, W, {self.input_channels}). "
                             f"Received: shape {x.shape}")
        h, w = x.shape[1] - k + 1, x.shape[2] - k + 1
        # (N, h, w, k, k, C): patch (i, j) of image n, in the kernel's (row, col, channel) order
        patches = np.stack([np.stack([x[:, a:a + h, b:b + w] for b in range(k)], axis=3)
                            for a in range(k)], axis=3).reshape(-1, k * k * c)
        covariance = patches.T @ patches / len(patches)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
        filters = (eigenvectors / np.sqrt(eigenvalues + eps)).reshape(k, k, c, k * k * c)
        self.kernel.assign(np.concatenate([filters, -filters], axis=-1).astype("float32"))
        return eigenvalues

    def get_config(self):
        return {**super().get_config(), "input_channels": self.input_channels, "eps": self.eps}


@keras.saving.register_keras_serializable(package="cnn_keras")
class PartialDirac(keras.initializers.Initializer):
    """A conv kernel whose first ``min(in, out)`` filters are the identity (a Dirac delta at the
    centre tap, on input channel i for output channel i) and whose other filters come from
    `base` (PyTorch's ``nn.init.dirac_`` on ``weight[:in]``, as airbench initialises its
    convs): at initialisation the conv passes its input through to the first channels."""

    def __init__(self, base=None):
        self.base = keras.initializers.get(base or torch_default_init())

    def __call__(self, shape, dtype=None):
        kh, kw, c_in, c_out = shape
        n = min(c_in, c_out)
        dirac = np.zeros(shape, "float32")
        dirac[kh // 2, kw // 2, np.arange(n), np.arange(n)] = 1.0
        keep = np.ones(shape, "float32")
        keep[..., :n] = 0.0
        w = self.base(shape, dtype=dtype)
        return ops.add(ops.multiply(w, ops.cast(keep, w.dtype)), ops.cast(dirac, w.dtype))

    def get_config(self):
        return {"base": keras.initializers.serialize(self.base)}


def torch_default_init():
    """PyTorch's default init of conv and linear weights (kaiming_uniform with a = sqrt(5)):
    uniform in +-1/sqrt(fan_in), VarianceScaling with scale 1/3. A new object per layer: an
    unseeded initializer draws its seed when it is made, and then gives the same values on
    every call."""
    return keras.initializers.VarianceScaling(1 / 3, mode="fan_in", distribution="uniform")
