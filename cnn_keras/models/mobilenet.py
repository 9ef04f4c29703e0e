"""MobileNet v1 (Howard et al. 2017), for ImageNet and CIFAR.

Reference: MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications,
https://arxiv.org/abs/1704.04861

One generic builder (`mobilenet`) reads the architecture from the table below; `mobilenet_cifar`
is the same net with a stride-1 stem for 32x32 images.

* Depthwise separable convolution (Sec. 3.1): a 3x3 depthwise conv (one filter per input
  channel) followed by a 1x1 pointwise conv that mixes the M channels into N. For a Df x Df
  output it costs Dk^2 * M * Df^2 + M * N * Df^2 multiply-adds instead of Dk^2 * M * N * Df^2 for
  a standard conv: a fraction 1/N + 1/Dk^2, i.e. 8 to 9 times less with 3x3 kernels.
* The net (Table 1): a standard 3x3/2 conv with 32 filters, 13 depthwise separable layers (26
  layers), global average pooling and a fully connected classifier: 28 layers with weights, each
  but the classifier followed by BN and ReLU. Table 1 prints "Conv dw / s2" for the 13th
  depthwise layer, but its input and output are both 7x7: it has stride 1 (as in the released
  TF-slim model and keras.applications).
* Width multiplier alpha in (0, 1] (Sec. 3.3): every layer has int(alpha * N) filters; cost and
  parameters shrink by about alpha^2. Resolution multiplier rho (Sec. 3.4): the input is
  rho * 224 pixels (224, 192, 160, 128); cost shrinks by about rho^2, parameters stay the same.
  Here rho is the input size (`input_shape=(192, 192, 3)`), or with `resolution` the size the
  input is resized to inside the net (for a dataset of fixed size, e.g. CIFAR).
* Layout, layer names and head of keras.applications.MobileNet (and Google's released
  weights): ReLU6 after each BN, TF "same" padding ((0, 1) zero padding before each strided
  depthwise conv), and a classifier that is a 1x1 conv `conv_preds` on the pooled 1x1 map
  (equal to a dense layer) after a dropout of 1e-3. Convs have no bias (BN follows), Glorot
  init; BN momentum 0.99, epsilon 1e-3 (the Keras defaults keras.applications uses; 0.9 for
  the CIFAR net).
* Input: nothing is normalised in the graph. With ``weights="imagenet"`` call `preprocess_input`
  first (keras.applications.mobilenet's "tf" mode: x / 127.5 - 1, into [-1, 1]).
"""

from __future__ import annotations

import functools
import numbers

import keras

from cnn_keras.checks import check_choice, check_int, check_rate, fail
from cnn_keras.models._common import (
    CIFAR_INPUT_DOC,
    args_doc,
    check_name,
    check_resolution,
    finish_model,
    imagenet_input_doc,
    imagenet_preprocess,
    preprocess_doc,
    resize_input,
    resolve_inputs,
)
from cnn_keras.registry import register_model

# --- The architecture as data --------------------------------------------------------------
# Howard et al. 2017, Table 1: the first layer is a standard 3x3 conv, stride 2, 32 filters;
# then the 13 depthwise separable layers as (pointwise filters N, stride of the depthwise conv).
STEM_FILTERS = 32
SEPARABLE_LAYERS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),  # "5x" in Table 1
    (1024, 2),
    (1024, 1),  # printed "s2" in Table 1, but 7x7 -> 7x7: stride 1
)
ACTIVATIONS = ("relu6", "relu")
# Howard et al. 2017, Tables 6 and 7: ImageNet top-1 (%), million multiply-adds, million
# parameters of the width multipliers (at 224 px) and of the input sizes (alpha = 1.0).
PAPER_WIDTH = {1.0: (70.6, 569, 4.2), 0.75: (68.4, 325, 2.6), 0.5: (63.7, 149, 1.3),
               0.25: (50.6, 41, 0.5)}
PAPER_RESOLUTION = {224: (70.6, 569, 4.2), 192: (69.1, 418, 4.2), 160: (67.2, 290, 4.2),
                    128: (64.4, 186, 4.2)}
# Howard et al. 2017, Table 4: the same net with standard 3x3 convs ("Conv MobileNet").
PAPER_FULL_CONV = (71.7, 4866, 29.3)
# Howard et al. 2017, Table 5: "Shallow MobileNet" (alpha 1.0) without "the 5 layers of
# separable filters with feature size 14x14x512" (the "5x" rows of Table 1), against the
# 0.75 MobileNet of similar cost: top-1 (%), million multiply-adds, million parameters.
SHALLOW_BLOCKS = (7, 8, 9, 10, 11)  # 1-based indices into SEPARABLE_LAYERS
PAPER_SHALLOW = (65.3, 307, 2.9)
PAPER_SHALLOW_BASELINE = PAPER_WIDTH[0.75]
CONVS = ("separable", "full")
# What keras.applications.MobileNet has ImageNet weights for.
IMAGENET_ALPHAS = (0.25, 0.5, 0.75, 1.0)
IMAGENET_SIZES = (128, 160, 192, 224)


# --- Input ----------------------------------------------------------------------------------
@preprocess_doc
def preprocess_input(x, data_format=None):
    """What `mobilenet` with `weights="imagenet"` expects, from 0..255 RGB pixels:
    keras.applications.mobilenet's `preprocess_input`, "tf" mode.

    x / 127.5 - 1: RGB values in [-1, 1] (the same for every channel, no mean image), the
    input of Google's released TF-slim models, which the weights come from.
    """
    return imagenet_preprocess(x, data_format, "tf")


_IMAGENET_INPUT = imagenet_input_doc(
    "call `cnn_keras.models.mobilenet.preprocess_input` on the 0..255 pixels first "
    "(keras.applications' \"tf\" preprocessing: x / 127.5 - 1, into [-1, 1])",
    models="the alphas and input sizes listed above")


# --- Layers ---------------------------------------------------------------------------------
def _bn_act(x, name, activation, momentum=0.99):
    x = keras.layers.BatchNormalization(axis=-1, momentum=momentum, name=f"{name}_bn")(x)
    return keras.layers.ReLU(6.0 if activation == "relu6" else None, name=f"{name}_relu")(x)


def separable_block(x, filters, stride, block_id, *, depth_multiplier=1, activation="relu6",
                    bn_momentum=0.99):
    """3x3 depthwise conv -> BN -> ReLU -> 1x1 pointwise conv to `filters` -> BN -> ReLU
    (Fig. 3 right; keras.applications' `_depthwise_conv_block`, names conv_dw_i / conv_pw_i)."""
    padding = "same"
    if stride > 1:  # TF "same" for even sizes: one row / column of zeros after the input
        x = keras.layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
        padding = "valid"
    x = keras.layers.DepthwiseConv2D(3, strides=stride, padding=padding,
                                     depth_multiplier=depth_multiplier, use_bias=False,
                                     name=f"conv_dw_{block_id}")(x)
    x = _bn_act(x, f"conv_dw_{block_id}", activation, bn_momentum)
    x = keras.layers.Conv2D(filters, 1, padding="same", use_bias=False,
                            name=f"conv_pw_{block_id}")(x)
    return _bn_act(x, f"conv_pw_{block_id}", activation, bn_momentum)


def full_conv_block(x, filters, stride, block_id, *, activation="relu6", bn_momentum=0.99):
    """A standard 3x3 conv to `filters` (no bias) -> BN -> ReLU in place of separable block
    `block_id` ("Conv MobileNet", Table 4), with the stride of its depthwise conv.

    Named conv_full_i (conv_full_i_bn, conv_full_i_relu, conv_pad_i) with i the index of the
    separable block it replaces: the index keeps the Table 1 position readable, and a name of
    its own keeps a 3x3 kernel from passing for keras.applications' 1x1 conv_pw_i (a separable
    net's block weights never load into it by name).
    """
    padding = "same"
    if stride > 1:  # the same TF "same" padding as the depthwise conv it replaces
        x = keras.layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
        padding = "valid"
    x = keras.layers.Conv2D(filters, 3, strides=stride, padding=padding, use_bias=False,
                            name=f"conv_full_{block_id}")(x)
    return _bn_act(x, f"conv_full_{block_id}", activation, bn_momentum)


def _width(filters, alpha):
    return max(1, int(filters * alpha))


def _square_size(input_shape, input_tensor):
    """The input's height if it is square and known (for the default size), else None."""
    shape = input_shape
    if input_tensor is not None and keras.backend.is_keras_tensor(input_tensor):
        shape = tuple(input_tensor.shape[1:])
    if isinstance(shape, (tuple, list)) and len(shape) == 3 and shape[0] == shape[1]:
        return shape[0] if isinstance(shape[0], int) else None
    return None


# --- The builder's steps: argument checks, stem, separable body, head -----------------------
def _check_architecture(*, alpha, depth_multiplier, dropout, activation, bn_momentum,
                        stem_stride, conv, shallow):
    """A one-line ValueError naming the first invalid architecture option of `mobilenet`."""
    if (isinstance(alpha, bool) or not isinstance(alpha, numbers.Real)
            or not 0 < alpha <= 1):
        fail("`alpha` (the width multiplier) must be a number in (0, 1].", alpha=alpha)
    check_int("depth_multiplier", depth_multiplier)
    check_rate("dropout", dropout)
    check_choice("activation", activation, ACTIVATIONS)
    check_rate("bn_momentum", bn_momentum)
    if isinstance(stem_stride, bool):
        fail("`stem_stride` must be 1 or 2.", stem_stride=stem_stride)
    check_choice("stem_stride", stem_stride, (1, 2))
    check_choice("conv", conv, CONVS)
    if conv == "full" and depth_multiplier != 1:
        fail("`depth_multiplier` must be 1 with conv='full' (the net has no depthwise convs).",
             depth_multiplier=depth_multiplier)
    if not isinstance(shallow, bool):
        fail("`shallow` must be True or False.", shallow=shallow)


def _check_imagenet_options(*, alpha, depth_multiplier, activation, stem_stride, resolution,
                            conv, shallow):
    """With weights="imagenet": the options keras.applications has weights for, or a
    ValueError naming the first other one."""
    if alpha not in IMAGENET_ALPHAS:
        fail(f"ImageNet weights exist for `alpha` in {list(IMAGENET_ALPHAS)} only.",
              alpha=alpha)
    for arg, value, wanted in (("depth_multiplier", depth_multiplier, 1),
                               ("activation", activation, "relu6"),
                               ("stem_stride", stem_stride, 2),
                               ("resolution", resolution, None),
                               ("conv", conv, "separable"),
                               ("shallow", shallow, False)):
        if value != wanted:
            fail(f"ImageNet weights need `{arg}`={wanted!r}.", **{arg: value})


def _default_size(weights, include_top, input_shape, input_tensor, stem_stride):
    """The default input size for `resolve_inputs`; first rejects, with weights="imagenet" and
    the top, a given input that is not square of a released size (no weights would fit)."""
    size = _square_size(input_shape, input_tensor)
    given = input_shape is not None or input_tensor is not None  # else the default, 224
    if weights == "imagenet" and include_top and given and size not in IMAGENET_SIZES:
        fail(f"With weights='imagenet' and include_top=True, the input must be square, of "
             f"{list(IMAGENET_SIZES)} pixels (without the top any size loads the 224-pixel "
             "weights, as in keras.applications).", input_shape=input_shape)
    if stem_stride == 1:
        return 32
    # like keras.applications: a square input of a released size is the default size
    return size if size in IMAGENET_SIZES else 224


def _stem(x, alpha, stem_stride, activation, bn_momentum):
    """The first layer of Table 1: a standard 3x3 conv `conv1` (stride 2, or 1 for small
    images) to max(1, int(alpha * 32)) filters, BN, ReLU."""
    x = keras.layers.Conv2D(_width(STEM_FILTERS, alpha), 3, strides=stem_stride, padding="same",
                            use_bias=False, name="conv1")(x)
    return _bn_act(x, "conv1", activation, bn_momentum)


def _separable_body(x, alpha, *, depth_multiplier, activation, bn_momentum, conv, shallow):
    """The 13 depthwise separable layers of Table 1 (blocks 1-13), each a standard 3x3 conv
    with conv="full"; shallow=True skips SHALLOW_BLOCKS, the others keep their indices."""
    for block_id, (filters, stride) in enumerate(SEPARABLE_LAYERS, start=1):
        if shallow and block_id in SHALLOW_BLOCKS:
            continue
        if conv == "full":
            x = full_conv_block(x, _width(filters, alpha), stride, block_id,
                                activation=activation, bn_momentum=bn_momentum)
        else:
            x = separable_block(x, _width(filters, alpha), stride, block_id,
                                depth_multiplier=depth_multiplier, activation=activation,
                                bn_momentum=bn_momentum)
    return x


def _head(x, dropout, classes, classifier_activation):
    """Global average pooling to a 1x1 map, dropout, the 1x1 conv `conv_preds` to `classes`
    (a dense layer), reshape and the classifier activation (keras.applications' layers)."""
    x = keras.layers.GlobalAveragePooling2D(keepdims=True, name="avg_pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Conv2D(int(classes), 1, padding="same", name="conv_preds")(x)
    x = keras.layers.Reshape((int(classes),), name="reshape_2")(x)
    return keras.layers.Activation(classifier_activation, name="predictions")(x)


# --- The builders ---------------------------------------------------------------------------
@register_model
@args_doc(_IMAGENET_INPUT)
def mobilenet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    activation="relu6",
    stem_stride=2,
    resolution=None,
    bn_momentum=0.99,
    conv="separable",
    shallow=False,
):
    """MobileNet v1 (Howard et al. 2017, Table 1): the family builder, for ImageNet by default.

    Reference: https://arxiv.org/abs/1704.04861

    At 224x224x3 with 1000 classes: 4,231,976 trainable / 4,253,864 total parameters and
    568.7M multiply-adds (paper: 4.2M, 569M), equal to keras.applications.MobileNet(alpha=alpha)
    for every alpha (same layer names and weights; `weights="imagenet"` copies its weights).

    Architecture options (keyword-only):
        alpha: the width multiplier in (0, 1]: every layer has int(alpha * N) filters (paper:
            1.0, 0.75, 0.5, 0.25; ~alpha^2 of the cost and parameters). keras.applications also
            accepts alpha > 1; the paper defines alpha in (0, 1] and so does this builder.
        depth_multiplier: outputs per input channel of every depthwise conv (an integer >= 1;
            1 in the paper). keras.applications' docstring calls it the "resolution
            multiplier", but the paper's resolution multiplier rho is the input size.
        dropout: dropout rate before the classifier, in [0, 1) (keras.applications: 1e-3).
        activation: "relu6" (min(max(x, 0), 6): keras.applications and Google's released
            weights) or "relu" (the paper's text).
        stem_stride: stride of the first conv: 2 (ImageNet: 224 -> 7x7 final maps) or 1
            (small images: 32 -> 2x2).
        resolution: None, or the size in pixels the input is resized to (bilinear) before the
            first conv: the paper's resolution multiplier rho = resolution / input size, for a
            dataset of fixed size (a tuple of sizes: a control, see `mobilenet_cifar`). On
            ImageNet give rho through the input size instead:
            `input_shape=(192, 192, 3)` (or 160, 128) is rho = 0.857 (0.714, 0.571).
        bn_momentum: momentum of the BN moving statistics, in [0, 1) (0.99: keras.applications;
            the CIFAR net uses 0.9, PyTorch's default, so short runs get usable test-time
            statistics).
        conv: "separable" (the paper's net) or "full": every depthwise separable layer
            replaced by a standard 3x3 conv with the same channels and stride ("Conv
            MobileNet", Table 4; layers conv_full_i). Needs depth_multiplier=1.
        shallow: remove the five stride-1 512-filter separable layers (blocks 7-11, the "5x"
            of Table 1): "Shallow MobileNet", Table 5. The other blocks keep their indices.
    ImageNet weights (`weights="imagenet"`) exist for alpha in 0.25 / 0.5 / 0.75 / 1.0,
    depth_multiplier 1, relu6, stem_stride 2, no `resolution`, and square inputs of 128, 160,
    192 or 224 pixels (the input size selects the weights, as in keras.applications); without
    the top, other sizes load the 224-pixel weights, with keras.applications' warning.
    """
    _check_architecture(alpha=alpha, depth_multiplier=depth_multiplier, dropout=dropout,
                        activation=activation, bn_momentum=bn_momentum,
                        stem_stride=stem_stride, conv=conv, shallow=shallow)
    # The net halves the maps 5 times (4 with stem_stride=1); smaller inputs end at 0x0.
    min_size = 32 if stem_stride == 2 else 16
    check_resolution(resolution, min_size)
    check_name(name)
    if isinstance(weights, str) and weights == "imagenet":
        _check_imagenet_options(alpha=alpha, depth_multiplier=depth_multiplier,
                                activation=activation, stem_stride=stem_stride,
                                resolution=resolution, conv=conv, shallow=shallow)
    default_size = _default_size(weights, include_top, input_shape, input_tensor, stem_stride)
    inp = resolve_inputs(
        include_top=include_top, weights=weights, input_tensor=input_tensor,
        input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, default_size=default_size,
        min_size=min_size, imagenet_available=True, model_name=name or "mobilenet",
    )

    x = resize_input(inp.tensor, resolution, minimum=min_size)
    x = _stem(x, alpha, stem_stride, activation, bn_momentum)
    x = _separable_body(x, alpha, depth_multiplier=depth_multiplier, activation=activation,
                        bn_momentum=bn_momentum, conv=conv, shallow=shallow)
    if include_top:  # keras.applications' head: the classifier is a 1x1 conv on the 1x1 map
        x = _head(x, dropout, classes, classifier_activation)
    return finish_model(
        x, inp, include_top=include_top, head_built=True, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, weights=weights,
        name=name or "mobilenet",
        imagenet_source=functools.partial(keras.applications.MobileNet, alpha=alpha),
    )


@register_model
@args_doc(CIFAR_INPUT_DOC)
def mobilenet_cifar(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    activation="relu6",
    resolution=None,
    conv="separable",
    shallow=False,
):
    """MobileNet v1 for CIFAR-10: the ImageNet net (Howard et al. 2017, Table 1) with a stride-1
    first conv, the common adaptation to 32x32 images (the paper has no CIFAR net).

    Reference: https://arxiv.org/abs/1704.04861

    The 4 strided depthwise convs take 32x32 inputs to 2x2 final maps (7x7 from 224 on
    ImageNet). BN momentum 0.9, as every CIFAR net here: with keras.applications' 0.99 the
    moving statistics lag behind the weights in a short run, and the test accuracy with them
    stays far below the training accuracy (measured: docs/benchmarks.md). Defaults: 32x32x3
    input, 10 classes: 3,217,226 trainable / 3,239,114 total parameters, 46.4M multiply-adds.

    Architecture options (keyword-only):
        alpha: the width multiplier in (0, 1] (Sec. 3.3).
        depth_multiplier: outputs per input channel of every depthwise conv (integer >= 1).
        dropout: dropout rate before the classifier, in [0, 1).
        activation: "relu6" (keras.applications) or "relu" (the paper's text).
        resolution: the paper's resolution multiplier rho on a dataset of fixed size: None, or
            the size (>= 16 pixels) the input is resized to (bilinear) before the first conv,
            e.g. 24 for rho = 0.75 on CIFAR: fewer multiply-adds, same parameters; or a
            tuple of sizes resized through in turn, a control: (28, 32) goes down to 28 px and
            back to 32, so the net computes at 32 px on an image with 28 px of detail.
        conv: "separable" or "full" (standard 3x3 convs: "Conv MobileNet", Table 4).
        shallow: without the five stride-1 512-filter separable blocks 7-11 ("Shallow
            MobileNet", Table 5; here on the 4x4 maps).
    """
    if isinstance(weights, str) and weights == "imagenet":
        fail("There are no ImageNet weights for the stride-1 CIFAR net; use mobilenet() "
              "(ImageNet weights at 128-224 px), weights=None or a .weights.h5 path.",
              weights=weights)
    return mobilenet(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or "mobilenet_cifar",
        alpha=alpha, depth_multiplier=depth_multiplier, dropout=dropout, activation=activation,
        stem_stride=1, resolution=resolution, bn_momentum=0.9, conv=conv, shallow=shallow,
    )

