"""DenseNet (Huang et al. 2017), for ImageNet and CIFAR.

Reference: Densely Connected Convolutional Networks, https://arxiv.org/abs/1608.06993

One generic builder (`densenet`) reads the architecture from the tables below; every public
variant (`densenet121`, `densenet_bc`, ...) is a short function at the end of this module that
passes its row to `densenet_imagenet` or `densenet_cifar`, registered under its name.

* Dense block: layer l receives the concatenation of the block input (k0 channels) and the
  k-channel outputs of all earlier layers, i.e. k0 + k(l - 1) channels, and applies
  BN-ReLU-Conv(3x3, k). With a bottleneck ("B") a BN-ReLU-Conv(1x1, bn_size * k) comes first.
* Transition between blocks: BN-ReLU-Conv(1x1, int(theta * C)) + 2x2 average pooling, with
  compression theta ("C": theta < 1).
* ImageNet nets (Table 1): 7x7/2 conv with 2k filters, 3x3/2 max-pool, 4 dense blocks,
  bottleneck (bn_size 4) and theta = 0.5 (DenseNet-BC). Layout and layer names of
  keras.applications (DenseNet121/169/201 have the same weights and counts there).
* CIFAR nets (Sec. 3, "Implementation Details"): 3x3 conv (16 filters, or 2k for BC), 3 dense
  blocks on 32x32 / 16x16 / 8x8 maps, BN-ReLU, global average pooling, dense classifier.
  Convs have no bias, He-normal init; BN momentum 0.9 and epsilon 1e-5 (the Torch code).
  The paper's dropout (0.2, only for runs without data augmentation) is not included.
* Input: nothing is normalised in the graph. With ``weights="imagenet"`` call `preprocess_input`
  first (keras.applications.densenet's "torch" mode: [0, 1], then the ImageNet mean and std).
"""

from __future__ import annotations

import keras

from cnn_keras.checks import check_choice, check_int, fail
from cnn_keras.models._common import (
    CIFAR_INPUT_DOC,
    args_doc,
    check_name,
    finish_model,
    imagenet_input_doc,
    imagenet_preprocess,
    keras_application,
    plain_input_doc,
    preprocess_doc,
    resolve_inputs,
)
from cnn_keras.registry import register_model

# --- The architectures as data -------------------------------------------------------------
# Huang et al. 2017, Table 1 (and the paper's released models): depth -> (growth rate k,
# layers per dense block). Initial features are 2k (64 for k=32, 96 for DenseNet-161).
IMAGENET_DEPTHS = {
    121: (32, (6, 12, 24, 16)),
    161: (48, (6, 12, 36, 24)),
    169: (32, (6, 12, 32, 32)),
    201: (32, (6, 12, 48, 32)),
    264: (32, (6, 12, 64, 48)),
}
# Huang et al. 2017, Table 2: CIFAR nets (depth, k) -> (paper's parameter count, C10+ error %).
PAPER_CIFAR = {
    ("densenet", 40, 12): ("1.0M", 5.24),
    ("densenet", 100, 12): ("7.0M", 4.10),
    ("densenet", 100, 24): ("27.2M", 3.74),
    ("densenet_bc", 100, 12): ("0.8M", 4.51),
    ("densenet_bc", 250, 24): ("15.3M", 3.62),
    ("densenet_bc", 190, 40): ("25.6M", 3.46),
}


# --- Input ----------------------------------------------------------------------------------
@preprocess_doc
def preprocess_input(x, data_format=None):
    """What `densenet121` / `densenet169` / `densenet201` with `weights="imagenet"` expect, from
    0..255 RGB pixels: keras.applications.densenet's `preprocess_input`, "torch" mode.

    x / 255, then per RGB channel minus the ImageNet mean (0.485, 0.456, 0.406) and divided by
    the ImageNet std (0.229, 0.224, 0.225) (Torch's convention, which the weights were trained
    with). Values from about -2.1 to 2.6.
    """
    return imagenet_preprocess(x, data_format, "torch")


_MODELS = "densenet121, densenet169 and densenet201"
_STEPS = ("call `cnn_keras.models.densenet.preprocess_input` on the 0..255 pixels first "
          "(keras.applications' \"torch\" preprocessing: x / 255, then minus the ImageNet mean "
          "and divided by its std per channel)")
_IMAGENET_INPUT = imagenet_input_doc(_STEPS, models=_MODELS)


# --- Layers ---------------------------------------------------------------------------------
def _bn_relu(x, name, bn):
    x = keras.layers.BatchNormalization(axis=-1, name=f"{name}_bn", **bn)(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def _conv(x, filters, kernel, name):
    return keras.layers.Conv2D(filters, kernel, padding="same" if kernel > 1 else "valid",
                               use_bias=False, kernel_initializer="he_normal", name=name)(x)


def dense_layer(x, growth_rate, name, *, bn_size, bn):
    """One layer of a dense block: [BN-ReLU-1x1 conv to bn_size*k] BN-ReLU-3x3 conv to k,
    concatenated to its input (keras.applications' `conv_block`)."""
    y = _bn_relu(x, f"{name}_0", bn)
    if bn_size:
        y = _conv(y, bn_size * growth_rate, 1, f"{name}_1_conv")
        y = _bn_relu(y, f"{name}_1", bn)
    y = _conv(y, growth_rate, 3, f"{name}_2_conv")
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def transition(x, compression, name, *, bn):
    """BN-ReLU-1x1 conv to int(theta * C) channels, 2x2 average pooling."""
    x = _bn_relu(x, name, bn)
    x = _conv(x, int(x.shape[-1] * compression), 1, f"{name}_conv")
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


# --- The generic builder --------------------------------------------------------------------
@args_doc(_IMAGENET_INPUT)
def densenet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    stem="imagenet",
    blocks=(6, 12, 24, 16),
    growth_rate=32,
    bn_size=4,
    compression=0.5,
    init_features=None,
    imagenet_source=None,
):
    """A DenseNet of any shape: the family builder that every variant of this module calls.

    Reference: https://arxiv.org/abs/1608.06993

    Architecture options (keyword-only):
        stem: "imagenet" (7x7/2 conv + 3x3/2 max-pool, 224x224 input) or "cifar" (3x3 conv,
            32x32 input).
        blocks: number of layers in each dense block.
        growth_rate: k, the channels each layer adds to the block's running concatenation.
        bn_size: bottleneck width factor: each layer starts with a 1x1 conv to bn_size * k
            channels ("B" of DenseNet-BC); None or 0 for no bottleneck.
        compression: theta in (0, 1]: a transition keeps int(theta * C) of its C channels
            (1.0: no compression).
        init_features: filters of the first conv; default 2 * growth_rate.
    """
    init_features = _check_architecture(stem, blocks, growth_rate, bn_size, compression,
                                        init_features)
    check_name(name)
    cifar = stem == "cifar"
    inp = resolve_inputs(
        include_top=include_top, weights=weights, input_tensor=input_tensor,
        input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, default_size=32 if cifar else 224,
        min_size=8 if cifar else 32, imagenet_available=imagenet_source is not None,
        model_name=name or "this DenseNet",
    )
    bn = {"momentum": 0.9, "epsilon": 1e-5} if cifar else {"epsilon": 1.001e-5}
    x = _stem(inp.tensor, cifar, init_features, bn)

    first_stage = 2  # keras.applications: dense blocks conv2 .., transitions pool2 ..
    for i, n in enumerate(blocks):
        stage = first_stage + i
        for j in range(n):
            x = dense_layer(x, growth_rate, f"conv{stage}_block{j + 1}", bn_size=bn_size, bn=bn)
        if i < len(blocks) - 1:
            x = transition(x, compression, f"pool{stage}", bn=bn)
    x = keras.layers.BatchNormalization(axis=-1, name="bn", **bn)(x)
    x = keras.layers.Activation("relu", name="relu")(x)
    return finish_model(
        x, inp, include_top=include_top, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, weights=weights, name=name or "densenet",
        imagenet_source=imagenet_source,
    )


def _check_architecture(stem, blocks, growth_rate, bn_size, compression, init_features):
    """densenet()'s architecture options; returns init_features with its default (2k) filled."""
    check_choice("stem", stem, ("imagenet", "cifar"))
    if not isinstance(blocks, (tuple, list)) or not blocks:
        fail("`blocks` must be a non-empty tuple of positive integers.", blocks=blocks)
    for v in blocks:
        check_int("blocks", v)
    check_int("growth_rate", growth_rate)
    if bn_size is not None and bn_size != 0:
        check_int("bn_size", bn_size)
    if (isinstance(compression, bool) or not isinstance(compression, (int, float))
            or not 0 < compression <= 1):
        fail("`compression` (theta) must be a number in (0, 1].", compression=compression)
    if init_features is None:
        init_features = 2 * growth_rate
    check_int("init_features", init_features)
    return init_features


def _stem(x, cifar, init_features, bn):
    """conv1: one 3x3 conv on CIFAR (its BN-ReLU opens the first dense layer); the ImageNet
    7x7/2 conv, BN-ReLU and 3x3/2 max-pool otherwise."""
    if cifar:
        return _conv(x, init_features, 3, "conv1_conv")
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = keras.layers.Conv2D(init_features, 7, strides=2, use_bias=False,
                            kernel_initializer="he_normal", name="conv1_conv")(x)
    x = _bn_relu(x, "conv1", bn)
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)


@args_doc(_IMAGENET_INPUT)
def densenet_imagenet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    depth=121,
):
    """DenseNet-BC for ImageNet (Huang et al. 2017, Table 1).

    Reference: https://arxiv.org/abs/1608.06993

    Architecture options (keyword-only):
        depth: 121, 161, 169, 201 or 264 (the rows of `IMAGENET_DEPTHS`).
    """
    check_choice("depth", depth, tuple(IMAGENET_DEPTHS))
    k, blocks = IMAGENET_DEPTHS[depth]
    default_name = f"densenet{depth}"
    return densenet(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or default_name,
        stem="imagenet", blocks=blocks, growth_rate=k, bn_size=4, compression=0.5,
        imagenet_source=_KERAS_APPLICATIONS.get(default_name),
    )


@args_doc(CIFAR_INPUT_DOC)
def densenet_cifar(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    depth=100,
    growth_rate=12,
    bottleneck=True,
    compression=None,
):
    """DenseNet / DenseNet-BC for CIFAR (Huang et al. 2017, Sec. 3 and Table 2).

    Reference: https://arxiv.org/abs/1608.06993

    Architecture options (keyword-only):
        depth: L, counting the first conv, every conv of the 3 dense blocks, the 2 transition
            convs and the classifier. With bottleneck each block has (L - 4) / 6 layers of two
            convs, so (L - 4) must be divisible by 6 (e.g. 100, 190, 250); without, (L - 4) / 3
            layers of one conv, so (L - 4) divisible by 3 (e.g. 40, 100).
        growth_rate: k (12, 24 or 40 in the paper).
        bottleneck: True for the 1x1 bottleneck to 4k channels ("B").
        compression: theta; default 0.5 with bottleneck (DenseNet-BC), else 1.0 (DenseNet).
        The first conv has 2k filters with bottleneck, 16 without (as in the paper).
    """
    check_choice("bottleneck", bottleneck, (True, False))
    per_layer = 6 if bottleneck else 3
    check_int("depth", depth, minimum=4 + per_layer)
    if (depth - 4) % per_layer:
        valid = ", ".join(str(4 + per_layer * n) for n in range(1, 6))
        kind = "With bottleneck=True" if bottleneck else "With bottleneck=False"
        fail(f"{kind}, `depth` must be 4 + {per_layer}n so that each of the 3 dense blocks has "
              f"(depth - 4) / {per_layer} layers (valid: {valid}, ...).", depth=depth)
    check_int("growth_rate", growth_rate)
    if compression is None:
        compression = 0.5 if bottleneck else 1.0
    n = (depth - 4) // per_layer
    default_name = "densenet_bc" if bottleneck else f"densenet{depth}"
    return densenet(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or default_name,
        stem="cifar", blocks=(n, n, n), growth_rate=growth_rate,
        bn_size=4 if bottleneck else None, compression=compression,
        init_features=2 * growth_rate if bottleneck else 16,
    )


_KERAS_APPLICATIONS = {  # the variants keras.applications has, with ImageNet weights
    "densenet121": keras_application("DenseNet121"),
    "densenet169": keras_application("DenseNet169"),
    "densenet201": keras_application("DenseNet201"),
}


# --- The registered variants: rows of the tables above --------------------------------------
# Each passes its row (a depth of IMAGENET_DEPTHS, or a CIFAR net of Table 2) to its family
# builder and takes the family's other keyword arguments; `model_info(name)` has the depth.
_PAPER = "Reference: https://arxiv.org/abs/1608.06993"
# trainable / total parameters at 224x224x3, 1000 classes
_IMAGENET_COUNTS = {
    121: "7,978,856 trainable / 8,062,504 total (= keras.applications.DenseNet121)",
    161: "28,681,000 trainable (= torchvision densenet161) / 28,900,936 total",
    169: "14,149,480 trainable / 14,307,880 total (= keras.applications.DenseNet169)",
    201: "20,013,928 trainable / 20,242,984 total (= keras.applications.DenseNet201)",
    264: "33,337,704 trainable / 33,736,232 total",
}


def _imagenet_doc(depth):
    k, blocks = IMAGENET_DEPTHS[depth]
    weights = f"densenet{depth}" in _KERAS_APPLICATIONS
    return args_doc(_PAPER, f"Growth rate k={k}, dense blocks of {blocks} layers, bottleneck "
                            f"and theta = 0.5;\n{_IMAGENET_COUNTS[depth]} parameters.",
                    _IMAGENET_INPUT if weights else plain_input_doc())


_bc_doc = args_doc(_PAPER, CIFAR_INPUT_DOC, """\
    Defaults L=100, k=12: 769,162 trainable parameters at 32x32x3, 10 classes (paper: 0.8M).
    `depth` must be 4 + 6n, `growth_rate` is k, `compression` is theta (default 0.5).""")
_densenet40_doc = args_doc(_PAPER, CIFAR_INPUT_DOC, """\
    16 initial filters, 3 blocks of 12 3x3 layers, k=12 by default: 1,019,722 trainable
    parameters at 32x32x3, 10 classes (paper: 1.0M). `growth_rate` is k, `compression` is
    theta (default 1.0).""")


@register_model(depth=121)
@_imagenet_doc(121)
def densenet121(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """DenseNet-121 (BC) for ImageNet (Huang et al. 2017, Table 1)."""
    return densenet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                             classifier_activation, name, depth=121)


@register_model(depth=161)
@_imagenet_doc(161)
def densenet161(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """DenseNet-161 (BC) for ImageNet (Huang et al. 2017, Table 1)."""
    return densenet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                             classifier_activation, name, depth=161)


@register_model(depth=169)
@_imagenet_doc(169)
def densenet169(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """DenseNet-169 (BC) for ImageNet (Huang et al. 2017, Table 1)."""
    return densenet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                             classifier_activation, name, depth=169)


@register_model(depth=201)
@_imagenet_doc(201)
def densenet201(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """DenseNet-201 (BC) for ImageNet (Huang et al. 2017, Table 1)."""
    return densenet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                             classifier_activation, name, depth=201)


@register_model(depth=264)
@_imagenet_doc(264)
def densenet264(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """DenseNet-264 (BC) for ImageNet (Huang et al. 2017, Table 1)."""
    return densenet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                             classifier_activation, name, depth=264)


@register_model
@_bc_doc
def densenet_bc(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=10, classifier_activation="softmax", name=None, *,
                depth=100, growth_rate=12, compression=None):
    """DenseNet-BC for CIFAR (Huang et al. 2017, Table 2): bottleneck layers, theta = 0.5."""
    return densenet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                          classifier_activation, name, bottleneck=True, depth=depth,
                          growth_rate=growth_rate, compression=compression)


@register_model(depth=40)
@_densenet40_doc
def densenet40(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
               classes=10, classifier_activation="softmax", name=None, *,
               growth_rate=12, compression=None):
    """DenseNet with L=40 (no bottleneck or compression) for CIFAR (Huang et al. 2017)."""
    return densenet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                          classifier_activation, name, depth=40, bottleneck=False,
                          growth_rate=growth_rate, compression=compression)
