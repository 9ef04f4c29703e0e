"""ResNet (He et al. 2015) and ResNet v2 (He et al. 2016), for CIFAR-10 and ImageNet.

Reference: Deep Residual Learning for Image Recognition, https://arxiv.org/abs/1512.03385
Reference: Identity Mappings in Deep Residual Networks, https://arxiv.org/abs/1603.05027

One generic builder (`resnet`) reads the architecture from the tables below; `resnet_cifar` and
`resnet_imagenet` pick a row of them by depth, and every public variant (`resnet20`, `plain56`,
`resnet50`, ...) is a short function at the end of this module that passes its row to one of
those two, registered under its name.

* CIFAR-10 nets (Sec. 4.2): a 3x3 conv with 16 filters, then 3 stages of n basic blocks on
  32x32 / 16x16 / 8x8 maps with 16 / 32 / 64 filters (depth = 6n + 2), global average pooling and
  a 10-way dense layer. Downsampling is a stride-2 conv at the first block of stages 2 and 3.
  Shortcuts: option A (default, as in the paper's CIFAR nets: identity, subsampled, new channels
  zero-padded; no parameters), B (1x1 projection only where the shape changes) or C (projection
  on every block). The plain twins (`plain20` ...) are the same nets without the additions, and
  with option A they have exactly the same weights.
  Convs have no bias (BN follows), He-normal init; BN momentum 0.9 and epsilon 1e-5 as in the
  Torch / Caffe code the paper's results come from.
* ImageNet nets (Table 1): `resnet18/34` (basic blocks, option B as in the paper's Table 3
  and torchvision, while its Table 2 / Fig. 4 comparison with the plain nets used option A,
  `shortcut="A"`; no conv biases, so the count equals torchvision's), `resnet50/101/152`
  (bottleneck blocks, the layout of keras.applications: stride on the first 1x1, conv biases)
  and the pre-activation v2 nets `resnet50v2/101v2/152v2` (keras.applications' layout). Names,
  counts and weights match keras.applications where the model exists there.
* Input: nothing is normalised in the graph. With ``weights="imagenet"`` call `preprocess_input`
  first for v1 (keras.applications.resnet's "caffe" mode: RGB -> BGR minus the ImageNet mean
  pixel) and `preprocess_input_v2` for v2 (keras.applications.resnet_v2's "tf" mode: [-1, 1]).
"""

from __future__ import annotations

import keras

from cnn_keras.checks import check_choice, check_int
from cnn_keras.layers import ZeroPadShortcut
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
# He et al. 2015, Sec. 4.2: depth = 6n + 2 on CIFAR-10 (n blocks of 2 convs per stage).
CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)
CIFAR_FILTERS = (16, 32, 64)
# He et al. 2015, Table 1: block type and blocks per stage conv2_x .. conv5_x.
IMAGENET_DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
IMAGENET_FILTERS = (64, 128, 256, 512)
# He et al. 2015, Table 6: CIFAR-10 test error (%); for ResNet-110 the best of 5 runs (mean 6.61).
# depth -> (paper's parameter count, test error %).
PAPER_CIFAR10_ERRORS = {20: ("0.27M", 8.75), 32: ("0.46M", 7.51), 44: ("0.66M", 7.17),
                        56: ("0.85M", 6.97), 110: ("1.7M", 6.43), 1202: ("19.4M", 7.93)}
# He et al. 2015, Table 1: ImageNet FLOPs (multiply-adds) of each depth.
PAPER_IMAGENET_FLOPS = {18: 1.8e9, 34: 3.6e9, 50: 3.8e9, 101: 7.6e9, 152: 11.3e9}
BLOCKS = ("basic", "bottleneck", "preact")
SHORTCUTS = ("A", "B", "C")


# --- Input ----------------------------------------------------------------------------------
@preprocess_doc
def preprocess_input(x, data_format=None):
    """What `resnet50` / `resnet101` / `resnet152` (v1) with `weights="imagenet"` expect, from
    0..255 RGB pixels: keras.applications.resnet's `preprocess_input`, "caffe" mode.

    RGB -> BGR, then minus the ImageNet mean pixel (B, G, R) = (103.939, 116.779, 123.68), no
    scaling (Caffe's convention, which the weights were trained with). Values from about -124
    to 152. For the v2 nets use `preprocess_input_v2`.
    """
    return imagenet_preprocess(x, data_format, "caffe")


@preprocess_doc
def preprocess_input_v2(x, data_format=None):
    """What `resnet50v2` / `resnet101v2` / `resnet152v2` with `weights="imagenet"` expect, from
    0..255 RGB pixels: keras.applications.resnet_v2's `preprocess_input`, "tf" mode.

    x / 127.5 - 1: RGB values in [-1, 1] (the same for every channel, no mean image). For the
    v1 nets use `preprocess_input`.
    """
    return imagenet_preprocess(x, data_format, "tf")


_V1_STEPS = ("call `cnn_keras.models.resnet.preprocess_input` on the 0..255 pixels first "
             "(keras.applications' \"caffe\" preprocessing: RGB -> BGR, minus the ImageNet mean "
             "pixel, no scaling)")
_V2_STEPS = ("call `cnn_keras.models.resnet.preprocess_input_v2` on the 0..255 pixels first "
             "(keras.applications' \"tf\" preprocessing: x / 127.5 - 1, into [-1, 1])")
_V1_INPUT = imagenet_input_doc(
    _V1_STEPS, models="resnet50, resnet101 and resnet152 with residual=True, shortcut='B'")
_V2_INPUT = imagenet_input_doc(_V2_STEPS, models="resnet50v2, resnet101v2 and resnet152v2")
_ANY_INPUT = imagenet_input_doc(
    "call on the 0..255 pixels first `cnn_keras.models.resnet.preprocess_input` for v1 "
    "(resnet50, resnet101, resnet152; keras.applications' \"caffe\" preprocessing: RGB -> "
    "BGR, minus the ImageNet mean pixel, no scaling) or "
    "`cnn_keras.models.resnet.preprocess_input_v2` for v2 (resnet50v2, resnet101v2, "
    "resnet152v2; its \"tf\" preprocessing: x / 127.5 - 1, into [-1, 1])")


# --- Layers ---------------------------------------------------------------------------------
def _conv(x, filters, kernel, stride, name, *, use_bias, pad_name=None):
    """Conv with 'same' output size; strided kxk convs get explicit symmetric zero padding
    (as in the paper's Torch/Caffe code and torchvision) instead of TF's asymmetric 'same'."""
    padding = "same"
    if stride > 1 and kernel > 1:
        x = keras.layers.ZeroPadding2D(kernel // 2, name=pad_name or f"{name}_pad")(x)
        padding = "valid"
    return keras.layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        use_bias=use_bias,
        kernel_initializer="he_normal",
        name=name,
    )(x)


def _bn(x, name, bn):
    return keras.layers.BatchNormalization(axis=-1, name=name, **bn)(x)


def _relu(x, name):
    return keras.layers.Activation("relu", name=name)(x)


def _shortcut(x, filters, stride, name, *, shortcut, use_bias, bn):
    """Shortcut of a post-activation (v1) block: A = zero-pad identity, B/C = projection."""
    same_shape = stride == 1 and x.shape[-1] == filters
    if shortcut == "C" or (shortcut == "B" and not same_shape):
        s = _conv(x, filters, 1, stride, f"{name}_0_conv", use_bias=use_bias)
        return _bn(s, f"{name}_0_bn", bn)
    if same_shape:
        return x
    return ZeroPadShortcut(filters, stride, name=f"{name}_0_shortcut")(x)


def basic_block(x, filters, stride, name, *, residual, shortcut, use_bias, bn):
    """Two 3x3 convs (Fig. 2; Fig. 5 left): conv-BN-ReLU, conv-BN, (+ shortcut), ReLU."""
    y = _conv(x, filters, 3, stride, f"{name}_1_conv", use_bias=use_bias, pad_name=f"{name}_1_pad")
    y = _relu(_bn(y, f"{name}_1_bn", bn), f"{name}_1_relu")
    y = _conv(y, filters, 3, 1, f"{name}_2_conv", use_bias=use_bias)
    y = _bn(y, f"{name}_2_bn", bn)
    if residual:
        s = _shortcut(x, filters, stride, name, shortcut=shortcut, use_bias=use_bias, bn=bn)
        y = keras.layers.Add(name=f"{name}_add")([s, y])
    return _relu(y, f"{name}_out")


def bottleneck_block(x, filters, stride, name, *, residual, shortcut, use_bias, bn):
    """1x1 reduce, 3x3, 1x1 expand to 4x filters (Fig. 5 right), keras.applications layout
    (stride on the first 1x1)."""
    y = _conv(x, filters, 1, stride, f"{name}_1_conv", use_bias=use_bias)
    y = _relu(_bn(y, f"{name}_1_bn", bn), f"{name}_1_relu")
    y = _conv(y, filters, 3, 1, f"{name}_2_conv", use_bias=use_bias)
    y = _relu(_bn(y, f"{name}_2_bn", bn), f"{name}_2_relu")
    y = _conv(y, 4 * filters, 1, 1, f"{name}_3_conv", use_bias=use_bias)
    y = _bn(y, f"{name}_3_bn", bn)
    if residual:
        s = _shortcut(x, 4 * filters, stride, name, shortcut=shortcut, use_bias=use_bias, bn=bn)
        y = keras.layers.Add(name=f"{name}_add")([s, y])
    return _relu(y, f"{name}_out")


def preact_block(x, filters, stride, name, *, first, bn, **_):
    """Pre-activation bottleneck (He et al. 2016, Fig. 4e), keras.applications' ResNetV2 layout:
    BN-ReLU first, projection shortcut from the pre-activation on the first block of a stage,
    the stride on the 3x3 of the stage's last block."""
    preact = _relu(_bn(x, f"{name}_preact_bn", bn), f"{name}_preact_relu")
    if first:
        s = keras.layers.Conv2D(4 * filters, 1, strides=stride, kernel_initializer="he_normal",
                                name=f"{name}_0_conv")(preact)
    elif stride > 1:
        s = keras.layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
    else:
        s = x
    y = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="he_normal",
                            name=f"{name}_1_conv")(preact)
    y = _relu(_bn(y, f"{name}_1_bn", bn), f"{name}_1_relu")
    y = keras.layers.ZeroPadding2D(1, name=f"{name}_2_pad")(y)
    y = keras.layers.Conv2D(filters, 3, strides=stride, use_bias=False,
                            kernel_initializer="he_normal", name=f"{name}_2_conv")(y)
    y = _relu(_bn(y, f"{name}_2_bn", bn), f"{name}_2_relu")
    y = keras.layers.Conv2D(4 * filters, 1, kernel_initializer="he_normal",
                            name=f"{name}_3_conv")(y)
    return keras.layers.Add(name=f"{name}_out")([s, y])


# --- The generic builder --------------------------------------------------------------------
@args_doc(_ANY_INPUT)
def resnet(
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
    block="bottleneck",
    stage_blocks=(3, 4, 6, 3),
    stage_filters=IMAGENET_FILTERS,
    residual=True,
    shortcut="B",
    use_bias=None,
    imagenet_source=None,
):
    """A ResNet of any shape: the family builder that every variant of this module calls.

    Reference: https://arxiv.org/abs/1512.03385 (v2: https://arxiv.org/abs/1603.05027)

    Architecture options (keyword-only):
        stem: "imagenet" (7x7/2 conv 64 + 3x3/2 max-pool, 224x224 input) or "cifar"
            (3x3 conv, 32x32 input).
        block: "basic" (two 3x3), "bottleneck" (1x1-3x3-1x1, 4x expansion) or "preact"
            (ResNet v2 pre-activation bottleneck).
        stage_blocks: number of blocks in each stage.
        stage_filters: filters of each stage (bottleneck width for bottleneck blocks); stages
            after the first start with a stride-2 block.
        residual: False builds the plain counterpart (no shortcuts); v1 blocks only.
        shortcut: "A" (identity + zero padding), "B" (projection where the shape changes) or
            "C" (projection everywhere); v1 blocks only ("preact" uses keras' layout).
        use_bias: conv biases; default True for bottleneck/preact (keras.applications),
            False otherwise.
    """
    _check_architecture(stem, block, residual, shortcut, stage_blocks, stage_filters)
    check_name(name)
    if use_bias is None:
        use_bias = block in ("bottleneck", "preact")
    cifar = stem == "cifar"
    inp = resolve_inputs(
        include_top=include_top, weights=weights, input_tensor=input_tensor,
        input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, default_size=32 if cifar else 224,
        min_size=8 if cifar else 32, imagenet_available=imagenet_source is not None,
        model_name=name or "this ResNet",
    )
    # CIFAR: Torch/Caffe BN settings; ImageNet: keras.applications' settings.
    bn = {"momentum": 0.9, "epsilon": 1e-5} if cifar else {"epsilon": 1.001e-5}
    x = _stem(inp.tensor, cifar, block, stage_filters[0], use_bias, bn)
    x = _stages(x, block, stage_blocks, stage_filters, residual, shortcut, use_bias, bn)
    if block == "preact":
        x = _relu(_bn(x, "post_bn", bn), "post_relu")
    return finish_model(
        x, inp, include_top=include_top, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, weights=weights, name=name or "resnet",
        imagenet_source=imagenet_source,
    )


def _check_architecture(stem, block, residual, shortcut, stage_blocks, stage_filters):
    """resnet()'s architecture options, checked before any layer is built."""
    check_choice("stem", stem, ("imagenet", "cifar"))
    check_choice("block", block, BLOCKS)
    check_choice("residual", residual, (True, False))
    check_choice("shortcut", shortcut, SHORTCUTS)
    if block == "preact" and (not residual or shortcut != "B"):
        raise ValueError(
            "The pre-activation (v2) block supports only residual=True, shortcut='B'. "
            f"Received: residual={residual!r}, shortcut={shortcut!r}"
        )
    for arg, seq in (("stage_blocks", stage_blocks), ("stage_filters", stage_filters)):
        if not isinstance(seq, (tuple, list)) or not seq:
            raise ValueError(f"`{arg}` must be a non-empty tuple of positive integers. "
                             f"Received: {arg}={seq!r}")
        for v in seq:
            check_int(arg, v)
    if len(stage_blocks) != len(stage_filters):
        raise ValueError("`stage_blocks` and `stage_filters` must have the same length. "
                         f"Received: stage_blocks={stage_blocks!r}")


def _stem(x, cifar, block, filters, use_bias, bn):
    """conv1: one 3x3 conv on CIFAR; keras.applications' 7x7/2 conv + 3x3/2 max-pool otherwise
    (preact nets put their first BN-ReLU inside the first block)."""
    if cifar:
        x = _conv(x, filters, 3, 1, "conv1_conv", use_bias=use_bias)
        return _relu(_bn(x, "conv1_bn", bn), "conv1_relu")
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = keras.layers.Conv2D(64, 7, strides=2, use_bias=use_bias or block == "preact",
                            kernel_initializer="he_normal", name="conv1_conv")(x)
    if block != "preact":
        x = _relu(_bn(x, "conv1_bn", bn), "conv1_relu")
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _stages(x, block, stage_blocks, stage_filters, residual, shortcut, use_bias, bn):
    """The residual stages, named as keras.applications names them: conv2 .. conv5 (conv1 is
    the stem), blocks numbered from 1."""
    first_stage = 2
    for i, (n, filters) in enumerate(zip(stage_blocks, stage_filters)):
        stage = f"conv{first_stage + i}"
        for j in range(n):
            bname = f"{stage}_block{j + 1}"
            if block == "preact":
                # v2 downsamples in the last block of a stage (keras.applications' layout)
                last_stage = i == len(stage_blocks) - 1
                stride = 2 if (j == n - 1 and not last_stage) else 1
                x = preact_block(x, filters, stride, bname, first=j == 0, bn=bn)
                continue
            stride = 2 if (j == 0 and i > 0) else 1
            fn = basic_block if block == "basic" else bottleneck_block
            if block == "bottleneck" and j == 0 and shortcut == "B":
                # keras.applications projects on every stage's first block (64 -> 256 too).
                blk_shortcut = "C"
            else:
                blk_shortcut = shortcut
            x = fn(x, filters, stride, bname, residual=residual, shortcut=blk_shortcut,
                   use_bias=use_bias, bn=bn)
    return x


@args_doc(CIFAR_INPUT_DOC)
def resnet_cifar(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    depth=20,
    residual=True,
    shortcut=None,
):
    """ResNet / plain net for CIFAR-10 (He et al. 2015, Sec. 4.2) of depth 6n + 2.

    Reference: https://arxiv.org/abs/1512.03385

    Architecture options (keyword-only):
        depth: 6n + 2 with n >= 1 (20, 32, 44, 56, 110 and 1202 are the paper's).
        residual: True for ResNet, False for the plain net of Fig. 6.
        shortcut: "A" (default: identity with zero-padding), "B" or "C"; only for residual nets.
    """
    check_int("depth", depth, minimum=8)
    if (depth - 2) % 6:
        valid = ", ".join(str(6 * n + 2) for n in range(1, 7))
        raise ValueError(f"`depth` must be 6n + 2 (e.g. {valid}, ...; the paper uses "
                         f"{', '.join(map(str, CIFAR_DEPTHS))}). Received: depth={depth!r}")
    check_choice("residual", residual, (True, False))
    if not residual and shortcut is not None:
        raise ValueError("A plain net (residual=False) has no shortcuts; leave `shortcut` unset. "
                         f"Received: shortcut={shortcut!r}")
    n = (depth - 2) // 6
    default_name = f"{'resnet' if residual else 'plain'}{depth}"
    return resnet(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or default_name,
        stem="cifar", block="basic", stage_blocks=(n, n, n), stage_filters=CIFAR_FILTERS,
        residual=residual, shortcut=shortcut or "A",
    )


@args_doc(_ANY_INPUT)
def resnet_imagenet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    depth=50,
    version=1,
    residual=True,
    shortcut="B",
):
    """ResNet for ImageNet (He et al. 2015, Table 1; v2: He et al. 2016).

    Reference: https://arxiv.org/abs/1512.03385

    Architecture options (keyword-only):
        depth: 18, 34, 50, 101 or 152 (v2: 50, 101, 152).
        version: 1 (post-activation) or 2 (pre-activation).
        residual / shortcut: as in `resnet` (v1 only).
    """
    check_choice("version", version, (1, 2))
    allowed = tuple(IMAGENET_DEPTHS) if version == 1 else (50, 101, 152)
    check_choice("depth", depth, allowed)
    block, stage_blocks = IMAGENET_DEPTHS[depth]
    if version == 2:
        block = "preact"
    default_name = f"resnet{depth}" + ("v2" if version == 2 else "")
    source = _KERAS_APPLICATIONS.get(default_name) if (residual and shortcut == "B") else None
    if weights == "imagenet" and default_name in _KERAS_APPLICATIONS and source is None:
        raise ValueError("ImageNet weights exist only for the paper's net (residual=True, "
                         "shortcut='B'), the one keras.applications has. "
                         f"Received: residual={residual!r}, shortcut={shortcut!r}")
    return resnet(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or default_name,
        stem="imagenet", block=block, stage_blocks=stage_blocks, stage_filters=IMAGENET_FILTERS,
        residual=residual, shortcut=shortcut, imagenet_source=source,
    )


_KERAS_APPLICATIONS = {  # the variants keras.applications has, with ImageNet weights
    "resnet50": keras_application("ResNet50"),
    "resnet101": keras_application("ResNet101"),
    "resnet152": keras_application("ResNet152"),
    "resnet50v2": keras_application("ResNet50V2"),
    "resnet101v2": keras_application("ResNet101V2"),
    "resnet152v2": keras_application("ResNet152V2"),
}


# --- The registered variants: rows of the tables above --------------------------------------
# Each passes its row (a depth of CIFAR_DEPTHS or IMAGENET_DEPTHS) to its family builder and
# takes the family's other keyword arguments; `model_info(name)` has the depth.
_PAPER = "Reference: https://arxiv.org/abs/1512.03385"
_cifar_doc = args_doc(_PAPER, CIFAR_INPUT_DOC, """\
    Architecture options (keyword-only):
        shortcut: "A" (default: identity with zero-padding), "B" or "C".""")
_plain_doc = args_doc(_PAPER, CIFAR_INPUT_DOC, """\
    Architecture options (keyword-only):
        shortcut: must stay None (a plain net has no shortcuts); kept for `resnet_cifar`'s
            signature.""")
_IMAGENET_OPTIONS = """\
    Architecture options (keyword-only):
        residual: False builds the plain counterpart (no shortcuts).
        shortcut: "A" (identity + zero padding), "B" (projection where the shape changes, the
            paper's ImageNet default) or "C" (projection everywhere)."""
_imagenet_doc = args_doc(_PAPER, _V1_INPUT, _IMAGENET_OPTIONS)
_basic_doc = args_doc(_PAPER, plain_input_doc(), _IMAGENET_OPTIONS)  # ResNet-18/34: no weights
_v2_doc = args_doc("Reference: https://arxiv.org/abs/1603.05027", _V2_INPUT, """\
    Architecture options (keyword-only):
        residual, shortcut: only the defaults (True, "B"): the pre-activation block has
            keras.applications' layout.""")


@register_model(depth=20, residual=True)
@_cifar_doc
def resnet20(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """ResNet-20 for CIFAR-10 (He et al. 2015, Sec. 4.2, Table 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=20, residual=True, shortcut=shortcut)


@register_model(depth=32, residual=True)
@_cifar_doc
def resnet32(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """ResNet-32 for CIFAR-10 (He et al. 2015, Sec. 4.2, Table 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=32, residual=True, shortcut=shortcut)


@register_model(depth=44, residual=True)
@_cifar_doc
def resnet44(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """ResNet-44 for CIFAR-10 (He et al. 2015, Sec. 4.2, Table 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=44, residual=True, shortcut=shortcut)


@register_model(depth=56, residual=True)
@_cifar_doc
def resnet56(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """ResNet-56 for CIFAR-10 (He et al. 2015, Sec. 4.2, Table 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=56, residual=True, shortcut=shortcut)


@register_model(depth=110, residual=True)
@_cifar_doc
def resnet110(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """ResNet-110 for CIFAR-10 (He et al. 2015, Sec. 4.2, Table 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=110, residual=True, shortcut=shortcut)


@register_model(depth=1202, residual=True)
@_cifar_doc
def resnet1202(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
               classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """ResNet-1202 for CIFAR-10 (He et al. 2015, Sec. 4.2, Table 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=1202, residual=True, shortcut=shortcut)


@register_model(depth=20, residual=False)
@_plain_doc
def plain20(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """Plain-20 for CIFAR-10: ResNet-20 without shortcuts (He et al. 2015, Fig. 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=20, residual=False, shortcut=shortcut)


@register_model(depth=32, residual=False)
@_plain_doc
def plain32(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """Plain-32 for CIFAR-10: ResNet-32 without shortcuts (He et al. 2015, Fig. 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=32, residual=False, shortcut=shortcut)


@register_model(depth=44, residual=False)
@_plain_doc
def plain44(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """Plain-44 for CIFAR-10: ResNet-44 without shortcuts (He et al. 2015, Fig. 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=44, residual=False, shortcut=shortcut)


@register_model(depth=56, residual=False)
@_plain_doc
def plain56(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """Plain-56 for CIFAR-10: ResNet-56 without shortcuts (He et al. 2015, Fig. 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=56, residual=False, shortcut=shortcut)


@register_model(depth=110, residual=False)
@_plain_doc
def plain110(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=10, classifier_activation="softmax", name=None, *, shortcut=None):
    """Plain-110 for CIFAR-10: ResNet-110 without shortcuts (He et al. 2015, Fig. 6)."""
    return resnet_cifar(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, depth=110, residual=False, shortcut=shortcut)


@register_model(depth=18)
@_basic_doc
def resnet18(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name=None, *,
             residual=True, shortcut="B"):
    """ResNet-18 for ImageNet (He et al. 2015, Table 1)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=18, version=1, residual=residual,
                           shortcut=shortcut)


@register_model(depth=34)
@_basic_doc
def resnet34(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name=None, *,
             residual=True, shortcut="B"):
    """ResNet-34 for ImageNet (He et al. 2015, Table 1)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=34, version=1, residual=residual,
                           shortcut=shortcut)


@register_model(depth=50)
@_imagenet_doc
def resnet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name=None, *,
             residual=True, shortcut="B"):
    """ResNet-50 for ImageNet (He et al. 2015, Table 1)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=50, version=1, residual=residual,
                           shortcut=shortcut)


@register_model(depth=101)
@_imagenet_doc
def resnet101(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None, *,
              residual=True, shortcut="B"):
    """ResNet-101 for ImageNet (He et al. 2015, Table 1)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=101, version=1, residual=residual,
                           shortcut=shortcut)


@register_model(depth=152)
@_imagenet_doc
def resnet152(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None, *,
              residual=True, shortcut="B"):
    """ResNet-152 for ImageNet (He et al. 2015, Table 1)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=152, version=1, residual=residual,
                           shortcut=shortcut)


@register_model(depth=50)
@_v2_doc
def resnet50v2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
               classes=1000, classifier_activation="softmax", name=None, *,
               residual=True, shortcut="B"):
    """ResNet-50 v2, pre-activation (He et al. 2016)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=50, version=2, residual=residual,
                           shortcut=shortcut)


@register_model(depth=101)
@_v2_doc
def resnet101v2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None, *,
                residual=True, shortcut="B"):
    """ResNet-101 v2, pre-activation (He et al. 2016)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=101, version=2, residual=residual,
                           shortcut=shortcut)


@register_model(depth=152)
@_v2_doc
def resnet152v2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None, *,
                residual=True, shortcut="B"):
    """ResNet-152 v2, pre-activation (He et al. 2016)."""
    return resnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, name, depth=152, version=2, residual=residual,
                           shortcut=shortcut)
