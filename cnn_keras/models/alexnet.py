"""AlexNet (Krizhevsky, Sutskever & Hinton 2012), for ImageNet and a small-input CIFAR-10 variant.

Reference: ImageNet Classification with Deep Convolutional Neural Networks,
https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks
(NIPS 2012; the paper has no arXiv version).

One private family builder reads an architecture table (`IMAGENET` or `CIFAR`, below); the two
public builders, both registered, are

* `alexnet`: the paper's net (Sec. 3.5, Fig. 2) at 227x227x3: five convs, LRN after the ReLUs of
  conv1 / conv2, overlapping 3x3/2 max-pools after conv1, conv2, conv5, and an FC 4096-4096-1000
  top with dropout 0.5. conv2, conv4 and conv5 are grouped convs (`groups=2`): on the paper's two
  GPUs, their kernels "take input only from those kernel maps in layer N-1 which reside on the same
  GPU". 60,965,224 parameters (the paper's "60 million") and 724.4M multiply-adds; with
  `groups=1` 62,378,344. (torchvision's `alexnet`, 61,100,840, is the "one weird trick" variant
  with 64-192-384-256-256 filters and no groups.)
* `alexnet_cifar`: the same ideas at CIFAR-10's 32x32 (see its docstring for what changed).

Both take the paper's ablations as keyword-only options: `lrn`, `groups`, `overlapping_pool`,
`activation` ("tanh" for Fig. 1's saturating units, or "sigmoid") and `dropout`, and
`batch_norm`, the normalisation that replaced LRN after 2015.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from cnn_keras.checks import check_choice, check_number, check_rate
from cnn_keras.layers import ALEXNET_LRN, LocalResponseNormalization
from cnn_keras.models._common import (
    CIFAR_INPUT_DOC,
    args_doc,
    check_name,
    finish_model,
    plain_input_doc,
    resolve_inputs,
)
from cnn_keras.models.vgg import scaled_filters
from cnn_keras.registry import register_model

PAPER_URL = (
    "https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-"
    "networks"
)
ACTIVATIONS = ("relu", "tanh", "sigmoid")


# --- The architectures as data -------------------------------------------------------------
@dataclass(frozen=True)
class ConvRow:
    """One conv layer: `grouped` convs use the `groups` option (1 or 2), the others groups=1."""

    filters: int
    kernel: int
    stride: int
    padding: str  # "valid" or "same" (stride 1, odd kernel: symmetric, the paper's pad 1 / 2)
    grouped: bool
    lrn: bool  # LRN after the activation (when the `lrn` option is on)
    pool: bool  # max-pool after it (after the LRN)
    bias_init: float  # the paper's init (Sec. 5): 1 for conv2, 4, 5 and the FC hidden layers


@dataclass(frozen=True)
class Arch:
    convs: tuple
    fc: tuple  # units of the hidden FC layers (fc6, fc7)
    fc_bias_init: float
    paper_init: bool  # N(0, 0.01) kernels + the paper's biases; else Keras' defaults
    default_size: int
    default_classes: int
    model_name: str


# Krizhevsky et al. 2012, Sec. 3.5 and Fig. 2 (227x227: 224 in the text does not give 55x55).
IMAGENET = Arch(
    convs=(
        ConvRow(96, 11, 4, "valid", grouped=False, lrn=True, pool=True, bias_init=0.0),  # 55 -> 27
        ConvRow(256, 5, 1, "same", grouped=True, lrn=True, pool=True, bias_init=1.0),  # 27 -> 13
        ConvRow(384, 3, 1, "same", grouped=False, lrn=False, pool=False, bias_init=0.0),  # 13
        ConvRow(384, 3, 1, "same", grouped=True, lrn=False, pool=False, bias_init=1.0),  # 13
        ConvRow(256, 3, 1, "same", grouped=True, lrn=False, pool=True, bias_init=1.0),  # 13 -> 6
    ),
    fc=(4096, 4096),
    fc_bias_init=1.0,
    paper_init=True,
    default_size=227,
    default_classes=1000,
    model_name="alexnet",
)
# The CIFAR-10 adaptation (see `alexnet_cifar`): 32 -> pool 15 -> pool 7 -> pool 3 (3x3x256).
CIFAR = Arch(
    convs=(
        ConvRow(64, 5, 1, "same", grouped=False, lrn=True, pool=True, bias_init=0.0),  # 32 -> 15
        ConvRow(192, 5, 1, "same", grouped=True, lrn=True, pool=True, bias_init=0.0),  # 15 -> 7
        ConvRow(384, 3, 1, "same", grouped=False, lrn=False, pool=False, bias_init=0.0),  # 7
        ConvRow(256, 3, 1, "same", grouped=True, lrn=False, pool=False, bias_init=0.0),  # 7
        ConvRow(256, 3, 1, "same", grouped=True, lrn=False, pool=True, bias_init=0.0),  # 7 -> 3
    ),
    fc=(1024, 512),
    fc_bias_init=0.0,
    paper_init=False,
    default_size=32,
    default_classes=10,
    model_name="alexnet_cifar",
)
# Fig. 1's "four-layer convolutional neural network" on CIFAR-10 (see `alexnet_fig1`): three 5x5
# convs of 32, 32, 64 filters, each followed by a 3x3/2 max-pool, and the linear classifier.
FIG1 = Arch(
    convs=(
        ConvRow(32, 5, 1, "same", grouped=False, lrn=True, pool=True, bias_init=0.0),  # 32 -> 15
        ConvRow(32, 5, 1, "same", grouped=False, lrn=True, pool=True, bias_init=0.0),  # 15 -> 7
        ConvRow(64, 5, 1, "same", grouped=False, lrn=False, pool=True, bias_init=0.0),  # 7 -> 3
    ),
    fc=(),
    fc_bias_init=0.0,
    paper_init=False,
    default_size=32,
    default_classes=10,
    model_name="alexnet_fig1",
)
# Sec. 3.4: overlapping pooling s=2, z=3 vs the "traditional" non-overlapping s=2, z=2.
POOLS = {True: (3, 2), False: (2, 2)}


def min_input_size(arch: Arch, overlapping_pool: bool = True) -> int:
    """Smallest square input for which every feature map of `arch` is at least 1x1."""
    pool_k, pool_s = POOLS[overlapping_pool]
    ops = []
    for row in arch.convs:
        ops.append((row.kernel if row.padding == "valid" else 1, row.stride))
        if row.pool:
            ops.append((pool_k, pool_s))
    size = 1
    for kernel, stride in reversed(ops):  # out = floor((in - k) / s) + 1 >= size
        size = (size - 1) * stride + kernel
    return size


# --- Validation -----------------------------------------------------------------------------
INITS = ("paper", "glorot", "he")


def _check_options(lrn, batch_norm, groups, overlapping_pool, activation, dropout, init, width,
                   arch):
    check_choice("init", init, INITS)
    check_number("width", width, low=0, low_open=True)
    for arg, value in (("lrn", lrn), ("batch_norm", batch_norm),
                       ("overlapping_pool", overlapping_pool)):
        if not isinstance(value, bool):
            raise ValueError(f"`{arg}` must be True or False. Received: {arg}={value!r}")
    if isinstance(groups, bool) or groups not in (1, 2):
        raise ValueError("`groups` must be 1 (one GPU's full connectivity) or 2 (the paper's "
                         f"two-GPU split of conv2, conv4, conv5). Received: groups={groups!r}")
    check_choice("activation", activation, ACTIVATIONS)
    check_rate("dropout", dropout)
    odd = [scaled_filters(r.filters, width) for r in arch.convs
           if r.grouped and scaled_filters(r.filters, width) % groups]
    if odd:
        raise ValueError(f"`width` must give grouped convs a filter count divisible by "
                         f"groups={groups}; width={width!r} gives {odd}. Received: width={width!r}")


# --- The family builder ---------------------------------------------------------------------
def _build(arch, include_top, weights, input_tensor, input_shape, pooling, classes,
           classifier_activation, name, *, lrn, groups, overlapping_pool, activation, dropout,
           init=None, width=1.0, batch_norm=False):
    init_name = init or ("paper" if arch.paper_init else "glorot")
    _check_options(lrn, batch_norm, groups, overlapping_pool, activation, dropout, init_name,
                   width, arch)
    check_name(name)
    name = name or arch.model_name
    inp = resolve_inputs(
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        default_size=arch.default_size,
        min_size=min_input_size(arch, overlapping_pool),
        imagenet_available=False,
        model_name=name,
    )

    def init(bias):
        if init_name == "glorot":  # Keras' default
            return {}
        if init_name == "he":
            return {"kernel_initializer": "he_normal"}
        # Sec. 5: "weights in each layer from a zero-mean Gaussian distribution with standard
        # deviation 0.01"; biases 1 in conv2, conv4, conv5 and the FC hidden layers, else 0.
        return {"kernel_initializer": keras.initializers.RandomNormal(0.0, 0.01),
                "bias_initializer": keras.initializers.Constant(bias)}

    pool_size, pool_stride = POOLS[overlapping_pool]
    x = inp.tensor
    for i, row in enumerate(arch.convs, start=1):
        x = keras.layers.Conv2D(scaled_filters(row.filters, width), row.kernel,
                                strides=row.stride, padding=row.padding,
                                groups=groups if row.grouped else 1, name=f"conv{i}",
                                **init(row.bias_init))(x)
        if row.lrn and batch_norm:  # before the activation, as Ioffe & Szegedy place it
            x = keras.layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = keras.layers.Activation(activation, name=f"conv{i}_{activation}")(x)
        if row.lrn and lrn:
            x = LocalResponseNormalization(**ALEXNET_LRN, name=f"conv{i}_lrn")(x)
        if row.pool:
            x = keras.layers.MaxPooling2D(pool_size, strides=pool_stride, name=f"pool{i}")(x)

    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        for j, units in enumerate(arch.fc, start=len(arch.convs) + 1):
            x = keras.layers.Dense(units, name=f"fc{j}", **init(arch.fc_bias_init))(x)
            x = keras.layers.Activation(activation, name=f"fc{j}_{activation}")(x)
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name=f"fc{j}_dropout")(x)
        x = keras.layers.Dense(int(classes), activation=classifier_activation, name="predictions",
                               **init(0.0))(x)
    # finish_model adds no head here (the FC top is above); it applies `pooling` when headless
    # and loads `weights`.
    return finish_model(x, inp, include_top=False, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, weights=weights, name=name)


_OPTIONS_DOC = """
    Architecture options (keyword-only; the defaults are the paper's):
        lrn: local response normalization (k=2, n=5, alpha=1e-4, beta=0.75) after the
            activations of conv1 and conv2 (Sec. 3.3). False removes the LRN layers.
        batch_norm: True puts BatchNormalization (Ioffe & Szegedy 2015, the normalisation
            that replaced LRN) between conv1 / conv2 and their activations, layers
            `conv1_bn` / `conv2_bn`. Not in the paper; with `lrn=False` it takes LRN's place.
            The convs keep their biases (BN's shift makes them redundant) so that only the
            normalisation differs. Default False.
        groups: 2 splits conv2, conv4 and conv5 into two groups, as on the paper's two GPUs
            (Sec. 3.2); 1 connects every kernel to all of the previous layer's maps.
        overlapping_pool: True for the paper's overlapping 3x3/2 max-pools (Sec. 3.4); False for
            the "traditional" non-overlapping 2x2/2 pools it is compared with.
        activation: "relu" (Sec. 3.1), "tanh" (the saturating units of Fig. 1) or "sigmoid"
            (the logistic unit, which the notes compare too) for every hidden conv and FC
            layer. The activation layers are named `conv1_relu` / `conv1_tanh`, ...
        dropout: dropout rate after fc6 and fc7 (Sec. 4.2: 0.5), in [0, 1); 0 removes the
            dropout layers.
        init: "paper" (kernels N(0, 0.01), biases 1 in conv2/4/5 and fc6/7, Sec. 5),
            "glorot" (Keras' default: Glorot-uniform kernels, zero biases) or "he" (He-normal
            kernels, zero biases: the scale derived for ReLUs); None: "paper" for `alexnet`,
            "glorot" for `alexnet_cifar`.
"""


# Sec. 2: "We did not pre-process the images in any other way, except for subtracting the mean
# activity over the training set from each pixel."
_IMAGENET_INPUT = plain_input_doc(
    "The paper trains on the raw RGB values minus the mean over the training set of each pixel "
    "(Sec. 2).")


@register_model
@args_doc(_IMAGENET_INPUT, _OPTIONS_DOC)
def alexnet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    lrn=True,
    groups=2,
    overlapping_pool=True,
    activation="relu",
    dropout=0.5,
    init=None,
    batch_norm=False,
):
    """AlexNet (Krizhevsky, Sutskever & Hinton 2012), the ImageNet net of Sec. 3.5 / Fig. 2.

    Reference: https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks

    Layers (input 227x227x3; the paper's text says 224, but only 227 gives its 55x55 maps):
    conv1 96 11x11/4 valid -> 55x55, ReLU, LRN, max-pool 3x3/2 -> 27; conv2 256 5x5 pad 2,
    groups=2, ReLU, LRN, max-pool -> 13; conv3 384 3x3 pad 1 (groups=1); conv4 384 3x3
    groups=2; conv5 256 3x3 groups=2, max-pool -> 6x6x256; top: flatten, fc6 4096 + ReLU +
    dropout, fc7 4096 + ReLU + dropout, `predictions`. Weights are initialised as in Sec. 5:
    N(0, 0.01) kernels, biases 1 in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere.
    60,965,224 parameters (62,378,344 with groups=1), 724.4M multiply-adds.
    The minimum input is 67x67 (39x39 with overlapping_pool=False).

    There are no ImageNet weights for this model: `weights` is None or a `.weights.h5` path.
    """
    return _build(IMAGENET, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name, lrn=lrn, groups=groups,
                  overlapping_pool=overlapping_pool, activation=activation, dropout=dropout,
                  init=init, batch_norm=batch_norm)


@register_model
@args_doc(CIFAR_INPUT_DOC, _OPTIONS_DOC)
def alexnet_cifar(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    lrn=True,
    groups=2,
    overlapping_pool=True,
    activation="relu",
    dropout=0.5,
    init=None,
    width=1.0,
    batch_norm=False,
):
    """AlexNet (Krizhevsky et al. 2012) adapted to CIFAR-10's 32x32x3 images.

    Reference: https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks

    What it keeps from the paper: five convs with ReLU, LRN (k=2, n=5, alpha=1e-4, beta=0.75)
    after the activations of conv1 and conv2, overlapping 3x3/2 max-pools after conv1, conv2 and
    conv5, grouped conv2 / conv4 / conv5 (groups=2) with a full conv3, and two hidden FC layers
    with dropout 0.5; the same ablation options as `alexnet`.

    What changed, and why:
    * conv1 is 5x5, stride 1, "same" padding, 64 filters (paper: 11x11, stride 4, valid, 96).
      An 11x11/4 conv on a 32x32 image leaves a 6x6 map, too small for the three pools; the
      paper's stride-4 stem exists to shrink 227x227 images cheaply.
    * conv2 has 192 filters (paper: 256), conv3 384, conv4 256 (paper: 384), conv5 256: the
      64-192-384-256-256 widths of Krizhevsky's later single-GPU AlexNet ("One weird trick",
      arXiv:1404.5997, as in torchvision), narrower so that the net trains on a CPU.
    * The maps are 32 -> 15 -> 7 -> 3 (pools, valid as in the paper), so conv5's output is
      3x3x256 (paper: 6x6x256). With overlapping_pool=False (2x2/2) they are 32 -> 16 -> 8 -> 4,
      so fc6 then has more inputs (4x4x256) and the count changes.
    * The FC layers are 1024 and 512 units (paper: 4096, 4096): 4096-wide layers on a 2304-long
      input would hold ~26M of the weights for 10 classes and 50,000 training images.
    * Keras' default initialisation (Glorot-uniform kernels, zero biases) instead of the paper's
      N(0, 0.01) kernels with biases of 1: with this net's fan-ins of 75 to 2304, std 0.01
      scales the signal by 0.09x to 0.48x (0.01 * sqrt(fan-in)) at every layer, which makes a
      short CPU run start slowly; the paper trained for 90 epochs.
    4,450,634 parameters (at 32x32, 10 classes), about 111M multiply-adds per image.
    The minimum input is 15x15 (8x8 with overlapping_pool=False).

    `width` (> 0, default 1) multiplies the conv layers' filter counts (rounded as
    `vgg.scaled_filters`; the FC layers keep their 1024 and 512 units), as d2l narrows VGG:
    width=0.5 keeps the structure the paper's regularisers act on (the FC top, the pools) at
    about a quarter of the convs' cost. Not in the paper.
    """
    return _build(CIFAR, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name, lrn=lrn, groups=groups,
                  overlapping_pool=overlapping_pool, activation=activation, dropout=dropout,
                  init=init, width=width, batch_norm=batch_norm)


@register_model
@args_doc(CIFAR_INPUT_DOC)
def alexnet_fig1(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    lrn=False,
    overlapping_pool=True,
    activation="relu",
    init=None,
    batch_norm=False,
):
    """The "four-layer convolutional neural network" of AlexNet's Fig. 1 (ReLU vs tanh).

    Reference: https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks

    Fig. 1: "A four-layer convolutional neural network with ReLUs (solid line) reaches a 25%
    training error rate on CIFAR-10 six times faster than an equivalent network with tanh
    neurons (dashed line). The learning rates for each network were chosen independently to
    make training as fast as possible. No regularization of any kind was employed."

    The paper does not list the layers. This is the four-weight-layer CIFAR-10 net of
    Krizhevsky's cuda-convnet ("layers-80sec"): three 5x5 "same" convs with 32, 32 and 64
    filters, each followed by the activation and an overlapping 3x3/2 max-pool (32 -> 15 -> 7
    -> 3), then the linear 10-way classifier; its response normalisation is off by default
    (`lrn=True` puts LRN after conv1 and conv2; `batch_norm=True` batch norm before their
    activations, 128 trainable parameters more). 85,098 parameters, 10.7M multiply-adds at
    32x32. Options as for `alexnet` (no FC hidden layers, so no `dropout`, no grouping).
    """
    return _build(FIG1, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name, lrn=lrn, groups=1,
                  overlapping_pool=overlapping_pool, activation=activation, dropout=0.0,
                  init=init, batch_norm=batch_norm)

