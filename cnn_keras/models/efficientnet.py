"""EfficientNet B0-B7 (Tan & Le 2019), for ImageNet and CIFAR.

Reference: EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks,
https://arxiv.org/abs/1905.11946

One generic builder (`efficientnet`) reads the baseline architecture (B0, Table 1) from the table
below and scales it; every public variant (`efficientnet_b0` ... `efficientnet_b7`) is a row of
`COEFFICIENTS`: a short function at the end of this module that passes its row to
`efficientnet_imagenet`, registered under its name. `efficientnet_cifar` is the same net with a
stride-1 stem for 32x32 images.

* MBConv block (MobileNetV2's inverted residual + squeeze-and-excitation): 1x1 expansion conv to
  expand_ratio x C_in channels (skipped for MBConv1), kxk depthwise conv (stride s), SE (global
  pool -> 1x1 conv to max(1, int(0.25 C_in)) with swish -> 1x1 conv back with sigmoid -> scale),
  1x1 projection conv to C_out without activation. BN after every conv but the SE ones, swish
  (x * sigmoid(x)) everywhere. Identity shortcut when s = 1 and C_in = C_out, with stochastic
  depth ("drop connect": the whole residual branch of an example is dropped, Dropout with
  noise_shape (batch, 1, 1, 1)) at a rate that grows linearly over the blocks: block b of N
  (0-based, counted over the whole net) drops with drop_connect_rate * b / N (0.2 in the paper).
* Compound scaling (Sec. 3.3, Eq. 3): depth d = ALPHA^phi, width w = BETA^phi, resolution
  r = GAMMA^phi with ALPHA = 1.2, BETA = 1.1, GAMMA = 1.15 found by grid search for
  ALPHA * BETA^2 * GAMMA^2 ~ 2 (1.92), so the FLOPs (linear in depth, quadratic in width and
  resolution) grow by ~2^phi. Channels are w * C rounded to the nearest multiple of 8, never
  below 90% of w * C (`round_filters`); repeats are ceil(d * repeats) (`round_repeats`).
* B1-B7 (`COEFFICIENTS`) are the released models' (width, depth, resolution, dropout), which
  the paper says come from phi = 1..7 but which do not follow ALPHA/BETA/GAMMA^phi exactly
  (B1 keeps width 1.0; B2 has phi = 1's width and depth at 260 px; B7 is depth 3.1 = 1.2^6.2,
  width 2.0 = 1.1^7.3, resolution 600 = 224 * 1.15^7.05). Their FLOPs are 1.8, 2.6, 4.7, 11.4,
  26.6, 49.4 and 97.8 times B0's, not 2^1 ... 2^7. `efficientnet(phi=...)` is the paper's
  formula (phi = 1, 2, 3: 2.2, 4.7, 8.4 times B0's multiply-adds; the rounding up of repeats
  adds a little to 1.92^phi); the variants are the table.
* Layout, layer names, initializers and in-graph preprocessing of keras.applications.EfficientNet
  (its ImageNet weights map 1:1): inputs are 0..255 pixels; `rescaling` (1/255) and
  `normalization` (a Keras Normalization layer: mean, variance and count, 7 non-trainable
  numbers) come first. As in keras.applications, the Normalization layer holds mean 0 and
  variance 1 (the identity: a fresh net sees inputs in [0, 1]) until ImageNet weights, a
  weights file or `adapt()` set it; with weights="imagenet" a third layer, `rescaling_1`,
  undoes the checkpoint's std-for-variance quirk. TF "same" padding for the strided convs
  (`*_pad` ZeroPadding2D layers); BN momentum 0.99, epsilon 1e-3 (the Keras defaults); dropout
  `top_dropout` before the classifier. So, as in keras.applications, `preprocess_input` is a
  pass-through: give the net 0..255 pixels, with or without ImageNet weights.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import keras

from cnn_keras.checks import check_choice, check_int, check_rate, fail, is_int
from cnn_keras.models._common import (
    CIFAR_INPUT_DOC,
    args_doc,
    check_name,
    finish_model,
    resize_input,
    resolve_inputs,
)
from cnn_keras.registry import register_model


# --- The architecture as data --------------------------------------------------------------
class Stage(NamedTuple):
    """One row of Table 1: `repeats` MBConv blocks; the first has `strides` and maps
    `filters_in` to `filters_out` channels, the others keep `filters_out` at stride 1."""

    expand_ratio: int
    kernel_size: int
    strides: int
    filters_in: int
    filters_out: int
    repeats: int
    se_ratio: float = 0.25


# Tan & Le 2019, Table 1 (EfficientNet-B0 at 224x224): stage 1 is the stem, stages 2-8 the
# MBConv rows below (the resolution each stage works at in the comment), stage 9 the head.
STEM_FILTERS = 32  # stage 1: conv 3x3, stride 2, 224 -> 112
B0_STAGES = (
    Stage(1, 3, 1, 32, 16, 1),  # stage 2: MBConv1, k3x3, 112x112
    Stage(6, 3, 2, 16, 24, 2),  # stage 3: MBConv6, k3x3, 112 -> 56
    Stage(6, 5, 2, 24, 40, 2),  # stage 4: MBConv6, k5x5, 56 -> 28
    Stage(6, 3, 2, 40, 80, 3),  # stage 5: MBConv6, k3x3, 28 -> 14
    Stage(6, 5, 1, 80, 112, 3),  # stage 6: MBConv6, k5x5, 14x14
    Stage(6, 5, 2, 112, 192, 4),  # stage 7: MBConv6, k5x5, 14 -> 7
    Stage(6, 3, 1, 192, 320, 1),  # stage 8: MBConv6, k3x3, 7x7
)
TOP_FILTERS = 1280  # stage 9: conv 1x1, pooling, FC
DEPTH_DIVISOR = 8  # channels are multiples of 8

# Sec. 3.3, Eq. 3: depth, width and resolution multipliers per unit of phi.
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
# The released B0-B7 (the paper's official code, keras.applications):
# (width coefficient, depth coefficient, input resolution, dropout before the classifier).
COEFFICIENTS = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}
# Tan & Le 2019 (arXiv v5), Table 2: ImageNet top-1 (%), parameters, FLOPs of B0-B7.
PAPER_TABLE2 = {
    "b0": (77.1, "5.3M", "0.39B"), "b1": (79.1, "7.8M", "0.70B"),
    "b2": (80.1, "9.2M", "1.0B"), "b3": (81.6, "12M", "1.8B"),
    "b4": (82.9, "19M", "4.2B"), "b5": (83.6, "30M", "9.9B"),
    "b6": (84.0, "43M", "19B"), "b7": (84.3, "66M", "37B"),
}
DEFAULT_DROPOUT = 0.2  # B0's
MAX_DROPOUT = 0.5  # B6 / B7's
PHI_RESOLUTION_DIVISOR = {"imagenet": 8, "cifar": 4}
BASE_RESOLUTION = {"imagenet": 224, "cifar": 32}

CHANNEL_AXIS = 3  # keras.applications' bn_axis for channels_last (layer configs equal to it)
# keras.applications' initializers (the paper's TF code): conv fan-out He, dense fan-out uniform.
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}
# keras.applications' ImageNet checkpoint stores the std (not the variance) in its
# Normalization layer and corrects it with a third rescaling by 1/sqrt(std), with
# weights="imagenet" only (https://github.com/tensorflow/tensorflow/issues/49930).
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


# --- Pure helpers: the scaled architecture without building it ----------------------------
def round_filters(filters, width_coefficient, divisor=DEPTH_DIVISOR):
    """width * filters rounded to the nearest multiple of `divisor` (at least `divisor`), and
    one multiple up where that rounding lost more than 10% (keras.applications / the paper's
    code): B2's 1.1 * 16 = 17.6 -> 16 and 1.1 * 1280 = 1408; 0.36 * 32 = 11.5 -> 16, as 8
    would lose 30%."""
    filters = filters * width_coefficient
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def round_repeats(repeats, depth_coefficient):
    """Blocks of a stage after depth scaling: ceil(depth * repeats) (B1's 1.1 * 1 -> 2)."""
    return int(math.ceil(depth_coefficient * repeats))


def scaled_blocks(width_coefficient=1.0, depth_coefficient=1.0, stages=B0_STAGES):
    """The rows of Table 1 after width and depth scaling (channels and repeats rounded), e.g.
    to print the table of any net without building it:

        for row in scaled_blocks(*COEFFICIENTS["b7"][:2]): print(row)

    The stem has `round_filters(STEM_FILTERS, w)` and the head `round_filters(TOP_FILTERS, w)`
    channels.
    """
    return [
        s._replace(filters_in=round_filters(s.filters_in, width_coefficient),
                   filters_out=round_filters(s.filters_out, width_coefficient),
                   repeats=round_repeats(s.repeats, depth_coefficient))
        for s in stages
    ]


def compound_coefficients(phi, *, base_resolution=224, divisor=8):
    """(width, depth, resolution) of compound coefficient phi (Eq. 3): BETA^phi, ALPHA^phi and
    base_resolution * GAMMA^phi rounded to the nearest multiple of `divisor` pixels.

    The multiple of 8 keeps the rounding within 4 px (< 2% at 224) and makes the first 3 of the
    5 halvings of the maps exact; phi = 0 is B0 (1.0, 1.0, 224), phi = 1 gives
    (1.1, 1.2, 256), phi = 7 (1.95, 3.58, 592). The CIFAR net uses base 32 and a multiple of 4.
    """
    _check_phi(phi)
    resolution = int(round(base_resolution * GAMMA**phi / divisor)) * divisor
    return BETA**phi, ALPHA**phi, max(divisor, resolution)


def dropout_for_phi(phi):
    """Dropout before the classifier for compound coefficient phi: linear from B0's 0.2 at
    phi = 0 to B7's 0.5 at phi = 7, then 0.5. (The released B0-B7 step it, 0.2 0.2 0.3 0.3
    0.4 0.4 0.5 0.5; the line is within 0.05 of every step and exact at both ends.)"""
    _check_phi(phi)
    return min(MAX_DROPOUT, DEFAULT_DROPOUT + (MAX_DROPOUT - DEFAULT_DROPOUT) * phi / 7)


def _is_real(value):
    return (not isinstance(value, bool) and isinstance(value, numbers.Real)
            and math.isfinite(value))


def _check_phi(phi):
    if not _is_real(phi) or phi < 0:
        fail("`phi` (the compound coefficient) must be a real number >= 0 (B0 is 0; the paper "
              "scales to B7 with phi ~ 7).", phi=phi)


def _block_letter(j):
    """a, b, ..., z, aa, ab, ... (keras.applications names block j of a stage chr(97 + j))."""
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(97 + r) + letters
    return letters


def _correct_pad(x, kernel_size):
    """TF "same" padding for a strided conv as explicit zero padding (keras.applications'
    imagenet_utils.correct_pad): one row / column less before the input when it is even."""
    size = x.shape[1:3]
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


# --- Input ----------------------------------------------------------------------------------
def preprocess_input(x, data_format=None):
    """A pass-through, as keras.applications.efficientnet's `preprocess_input`: B0-B7 take
    0..255 RGB pixels and normalise them in the graph (`rescaling`, `normalization` and, with
    `weights="imagenet"`, `rescaling_1`), so there is nothing to do before the net. It is here
    so that code written for the other families (`cnn_keras.models.<family>.preprocess_input`)
    works unchanged.

    Args:
        x: 0..255 RGB pixels, a numpy array or a tensor.
        data_format: not used (the common signature of `preprocess_input`).

    Returns:
        `x`, unchanged (the same object).
    """
    del data_format  # nothing to reorder: the net normalises its input itself
    return x


_VARIANT_INPUT = """\
Input: RGB images of 0..255 pixels, channels last. The net rescales them (1/255) and
normalises them itself (`rescaling`, `normalization`: the ImageNet mean and std with
`weights="imagenet"`, the identity on a fresh net until `adapt()` or a weights file sets
it), so `cnn_keras.models.efficientnet.preprocess_input` is a pass-through, as
keras.applications'."""
_FAMILY_INPUT = _VARIANT_INPUT + """
That is stem="imagenet"; with stem="cifar" the input is normalised before the net (see
`efficientnet_cifar`)."""


# --- Layers ---------------------------------------------------------------------------------
def _bn_act(x, name, activation="swish", momentum=0.99):
    x = keras.layers.BatchNormalization(axis=CHANNEL_AXIS, momentum=momentum, name=f"{name}bn")(x)
    return keras.layers.Activation(activation, name=f"{name}activation")(x)


def mbconv_block(x, stage, drop_rate, name, *, activation="swish", bn_momentum=0.99):
    """One MBConv block (keras.applications' `block`, names `block2a_expand_conv`, ...) for a
    `Stage` row whose filters_in is the input's channels and strides this block's stride."""
    inputs = x
    filters = stage.filters_in * stage.expand_ratio
    if stage.expand_ratio != 1:  # expansion phase (not in MBConv1)
        x = keras.layers.Conv2D(filters, 1, padding="same", use_bias=False,
                                kernel_initializer=CONV_KERNEL_INITIALIZER,
                                name=f"{name}expand_conv")(x)
        x = _bn_act(x, f"{name}expand_", activation, bn_momentum)
    padding = "same"
    if stage.strides == 2:
        x = keras.layers.ZeroPadding2D(_correct_pad(x, stage.kernel_size),
                                       name=f"{name}dwconv_pad")(x)
        padding = "valid"
    x = keras.layers.DepthwiseConv2D(stage.kernel_size, strides=stage.strides, padding=padding,
                                     use_bias=False,
                                     depthwise_initializer=CONV_KERNEL_INITIALIZER,
                                     name=f"{name}dwconv")(x)
    x = _bn_act(x, name, activation, bn_momentum)
    if 0 < stage.se_ratio <= 1:  # squeeze and excitation, on the block's input width
        filters_se = max(1, int(stage.filters_in * stage.se_ratio))
        se = keras.layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se = keras.layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
        se = keras.layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                                 kernel_initializer=CONV_KERNEL_INITIALIZER,
                                 name=f"{name}se_reduce")(se)
        se = keras.layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                                 kernel_initializer=CONV_KERNEL_INITIALIZER,
                                 name=f"{name}se_expand")(se)
        x = keras.layers.Multiply(name=f"{name}se_excite")([x, se])
    x = keras.layers.Conv2D(stage.filters_out, 1, padding="same", use_bias=False,
                            kernel_initializer=CONV_KERNEL_INITIALIZER,
                            name=f"{name}project_conv")(x)
    x = keras.layers.BatchNormalization(axis=CHANNEL_AXIS, momentum=bn_momentum,
                                        name=f"{name}project_bn")(x)
    if stage.strides == 1 and stage.filters_in == stage.filters_out:
        if drop_rate > 0:  # stochastic depth: drop the whole branch per example
            x = keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1),
                                     name=f"{name}drop")(x)
        x = keras.layers.Add(name=f"{name}add")([x, inputs])
    return x


def _imagenet_variant(width, depth, resolution):
    """The B-variant with these coefficients ('b0' ... 'b7'), or None."""
    for variant, (w, d, r, _) in COEFFICIENTS.items():
        if (w, d, r) == (width, depth, resolution):
            return variant
    return None


def _check_stages(stages):
    ok = isinstance(stages, (tuple, list)) and stages and all(isinstance(s, Stage)
                                                              for s in stages)
    if ok:
        for prev, s in zip((None, *stages), stages):
            ok = ok and all(is_int(v) for v in (s.strides, s.kernel_size)) \
                and s.strides in (1, 2) and s.kernel_size in (1, 3, 5, 7) \
                and all(is_int(v) and v >= 1 for v in (s.expand_ratio, s.filters_in,
                                                       s.filters_out, s.repeats)) \
                and _is_real(s.se_ratio) and 0 <= s.se_ratio <= 1 \
                and (prev is None or s.filters_in == prev.filters_out)
    if not ok:
        fail("`stages` must be a non-empty tuple of efficientnet.Stage rows (strides 1 or 2, "
              "kernel 1/3/5/7, positive integer expand_ratio, filters and repeats, se_ratio in "
              "[0, 1], each filters_in equal to the previous row's filters_out).", stages=stages)


# --- The builder's steps: arguments, stem, MBConv body, top ---------------------------------
def _phi_coefficients(phi, stem, width_coefficient, depth_coefficient, resolution):
    """(width, depth, resolution) of compound coefficient `phi` for this stem. phi fixes all
    three, so an explicit one given as well is an error rather than silently overridden."""
    _check_phi(phi)
    for arg, value in (("width_coefficient", width_coefficient),
                       ("depth_coefficient", depth_coefficient),
                       ("resolution", resolution)):
        if value is not None:
            fail(f"Give either `phi` (the compound coefficient, which fixes width, depth "
                  f"and resolution) or explicit coefficients, not both; phi={phi!r} was "
                  f"given with `{arg}`.", **{arg: value})
    return compound_coefficients(phi, base_resolution=BASE_RESOLUTION[stem],
                                 divisor=PHI_RESOLUTION_DIVISOR[stem])


def _resolve_scaling(stem, min_size, *, phi, width_coefficient, depth_coefficient, resolution,
                     dropout):
    """The checked (width, depth, resolution, dropout) of `efficientnet`: from `phi` (its
    dropout only where `dropout` is None) or from the explicit arguments and their defaults.
    With stem="cifar" and no resolution it stays None: the net computes at the input's size."""
    if phi is not None:
        width_coefficient, depth_coefficient, resolution = _phi_coefficients(
            phi, stem, width_coefficient, depth_coefficient, resolution)
        if dropout is None:
            dropout = dropout_for_phi(phi)
    for arg, value in (("width_coefficient", width_coefficient),
                       ("depth_coefficient", depth_coefficient)):
        if value is not None and (not _is_real(value) or value <= 0):
            fail(f"`{arg}` must be a number > 0.", **{arg: value})
    width = 1.0 if width_coefficient is None else width_coefficient
    depth = 1.0 if depth_coefficient is None else depth_coefficient
    if resolution is not None:
        check_int("resolution", resolution, minimum=min_size)
    elif stem != "cifar":
        resolution = BASE_RESOLUTION[stem]
    dropout = DEFAULT_DROPOUT if dropout is None else dropout
    check_rate("dropout", dropout)
    return width, depth, resolution, dropout


def _weights_variant(weights, cifar, width, depth, resolution):
    """The B-variant ('b0' ... 'b7') whose keras.applications weights fit the net, or None (as
    for every CIFAR net); weights="imagenet" needs one, checked before anything is built."""
    variant = None if cifar else _imagenet_variant(width, depth, resolution)
    if isinstance(weights, str) and weights == "imagenet" and variant is None:
        fail("ImageNet weights exist for B0-B7 only: width, depth and resolution must be a "
              "row of COEFFICIENTS (e.g. efficientnet_b3()), with stem='imagenet'.",
              weights=weights)
    return variant


def _scaled_stages(stages, weights, width, depth):
    """The checked `stages` rows (B0's for ImageNet weights) after width and depth scaling."""
    _check_stages(stages)
    if isinstance(weights, str) and weights == "imagenet" and tuple(stages) != B0_STAGES:
        fail("ImageNet weights need the B0 stages (stages=B0_STAGES).", stages=stages)
    # numpy integers as Python ints: Keras' layers take only the latter as sizes
    stages = tuple(Stage(*(int(v) for v in s[:-1]), float(s.se_ratio)) for s in stages)
    return scaled_blocks(width, depth, stages)


def _stem(inp, width, *, cifar, resolution, min_size, weights, bn_momentum):
    """Stage 1: a 3x3 conv `stem_conv` to round_filters(STEM_FILTERS, width) channels, BN,
    swish. CIFAR: stride 1 on inputs normalised outside the net, resized to `resolution` first
    where that differs from the input size. ImageNet: keras.applications' in-graph
    preprocessing of 0..255 pixels, then the stride-2 conv with TF "same" padding."""
    x = inp.tensor
    if cifar:
        if resolution is not None and tuple(inp.shape[:2]) != (resolution, resolution):
            x = resize_input(x, resolution, minimum=min_size)  # one size (_resolve_scaling)
        x = keras.layers.Conv2D(round_filters(STEM_FILTERS, width), 3, strides=1,
                                padding="same", use_bias=False,
                                kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    else:
        # keras.applications' preprocessing (names as in a fresh Keras session)
        x = keras.layers.Rescaling(1.0 / 255.0, name="rescaling")(x)
        x = keras.layers.Normalization(axis=CHANNEL_AXIS, name="normalization")(x)
        if weights == "imagenet":
            x = keras.layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB],
                                       name="rescaling_1")(x)
        x = keras.layers.ZeroPadding2D(_correct_pad(x, 3), name="stem_conv_pad")(x)
        x = keras.layers.Conv2D(round_filters(STEM_FILTERS, width), 3, strides=2,
                                padding="valid", use_bias=False,
                                kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    return _bn_act(x, "stem_", momentum=bn_momentum)


def _mbconv_body(x, stages, drop_connect_rate, bn_momentum):
    """Stages 2-8: the MBConv blocks of the scaled `stages` (block1a_, block1b_, block2a_, ...).
    A stage's first block has its strides and filters_in; block b of all N drops its residual
    branch with rate drop_connect_rate * b / N."""
    total_blocks = sum(s.repeats for s in stages)
    b = 0
    for i, stage in enumerate(stages):
        for j in range(stage.repeats):
            block_stage = stage if j == 0 else stage._replace(strides=1,
                                                              filters_in=stage.filters_out)
            x = mbconv_block(x, block_stage, drop_connect_rate * b / total_blocks,
                             f"block{i + 1}{_block_letter(j)}_", bn_momentum=bn_momentum)
            b += 1
    return x


def _top(x, width, *, include_top, dropout, classes, classifier_activation, cifar, bn_momentum):
    """Stage 9: the 1x1 conv `top_conv` to round_filters(TOP_FILTERS, width) channels, BN,
    swish; with include_top, keras.applications' pooling, dropout and classifier."""
    x = keras.layers.Conv2D(round_filters(TOP_FILTERS, width), 1, padding="same",
                            use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                            name="top_conv")(x)
    x = _bn_act(x, "top_", momentum=bn_momentum)
    if include_top:  # keras.applications' head (its dropout is named top_dropout)
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name="top_dropout")(x)
        # keras.applications' fan-out init is sized for 1000 classes; with 10 its weights are
        # 10x larger (a far too high initial loss): the CIFAR net uses Glorot, as the rest
        x = keras.layers.Dense(int(classes), activation=classifier_activation,
                               kernel_initializer="glorot_uniform" if cifar
                               else DENSE_KERNEL_INITIALIZER,
                               name="predictions")(x)
    return x


# --- The builders ---------------------------------------------------------------------------
@register_model
@args_doc(_FAMILY_INPUT)
def efficientnet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    phi=None,
    width_coefficient=None,
    depth_coefficient=None,
    resolution=None,
    dropout=None,
    drop_connect_rate=0.2,
    stem="imagenet",
    stages=B0_STAGES,
):
    """EfficientNet of any size (Tan & Le 2019): B0 (Table 1) scaled by compound coefficient phi
    or by explicit width / depth coefficients; the family builder of every variant here.

    Reference: https://arxiv.org/abs/1905.11946

    With the defaults it is EfficientNet-B0 at 224x224x3 (5,288,548 trainable / 5,330,571 total
    parameters, 385.8M multiply-adds; = keras.applications.EfficientNetB0).

    Architecture options (keyword-only):
        phi: the compound coefficient (a real number >= 0, Eq. 3): width BETA^phi = 1.1^phi,
            depth ALPHA^phi = 1.2^phi, resolution GAMMA^phi = 1.15^phi times the base size
            (224, or 32 for stem="cifar") rounded to the nearest multiple of 8 (4 for CIFAR) px,
            dropout `dropout_for_phi(phi)` (0.2 -> 0.5 linearly over phi 0..7). The FLOPs grow by
            ~(ALPHA * BETA^2 * GAMMA^2)^phi = 1.92^phi ~ 2^phi. See `compound_coefficients`.
            phi fixes width, depth and resolution: giving it with `width_coefficient`,
            `depth_coefficient` or `resolution` is a ValueError (`dropout` may be given).
        width_coefficient: channel multiplier (> 0; default 1.0), channels rounded to multiples
            of 8 (`round_filters`).
        depth_coefficient: block-count multiplier (> 0; default 1.0), repeats rounded up.
        resolution: the size (px) the net computes at. stem="imagenet": the default input size
            (default 224; `input_shape` still overrides it). stem="cifar": the input keeps its
            size (32x32 by default) and is resized (bilinear, a `resize` layer) to
            `resolution` x `resolution` before the stem: the paper's resolution scaling on a
            dataset of fixed size (no layer if it equals the input size).
        dropout: rate of `top_dropout` before the classifier, in [0, 1) (default 0.2, or from
            phi).
        drop_connect_rate: the stochastic-depth rate the rates grow towards, in [0, 1) (paper:
            0.2); block b of N (counted from 0) drops its residual branch with rate
            drop_connect_rate * b / N, as keras.applications.
        stages: the base net's MBConv stages as `Stage` rows (default `B0_STAGES`, Table 1),
            scaled by width and depth like B0; e.g. other kernel sizes, expansions or repeats
            to explore NAS's search space, or `se_ratio=0` for no squeeze-and-excitation.
            Each row's filters_in must be the previous row's filters_out.
        stem: "imagenet" (inputs are 0..255 pixels, normalized in the graph; 3x3 stride-2 stem;
            224 -> 7x7 final maps) or "cifar" (inputs already normalized, as the CIFAR data
            pipeline gives them: [0, 1] minus the per-pixel mean; no preprocessing layers;
            stride-1 stem; 32 -> 2x2 final maps; BN momentum 0.9 instead of 0.99, as every
            CIFAR net here, so short runs get usable test-time statistics; a Glorot-initialised
            classifier, since keras.applications' fan-out init is 10x too large for 10 classes).
    `weights="imagenet"` works where width, depth and resolution are a row of `COEFFICIENTS`
    (B0-B7; phi=0 is B0) with stem="imagenet".
    """
    check_choice("stem", stem, ("imagenet", "cifar"))
    cifar = stem == "cifar"
    min_size = 16 if cifar else 32  # the maps are halved 4 (5) times
    width, depth, resolution, dropout = _resolve_scaling(
        stem, min_size, phi=phi, width_coefficient=width_coefficient,
        depth_coefficient=depth_coefficient, resolution=resolution, dropout=dropout)
    check_rate("drop_connect_rate", drop_connect_rate)
    check_name(name)
    variant = _weights_variant(weights, cifar, width, depth, resolution)
    stages = _scaled_stages(stages, weights, width, depth)
    inp = resolve_inputs(
        include_top=include_top, weights=weights, input_tensor=input_tensor,
        input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation,
        default_size=BASE_RESOLUTION[stem] if cifar else resolution, min_size=min_size,
        imagenet_available=variant is not None, model_name=name or "efficientnet",
    )

    bn_momentum = 0.9 if cifar else 0.99
    x = _stem(inp, width, cifar=cifar, resolution=resolution, min_size=min_size,
              weights=weights, bn_momentum=bn_momentum)
    x = _mbconv_body(x, stages, drop_connect_rate, bn_momentum)
    x = _top(x, width, include_top=include_top, dropout=dropout, classes=classes,
             classifier_activation=classifier_activation, cifar=cifar, bn_momentum=bn_momentum)
    return finish_model(
        x, inp, include_top=include_top, head_built=True, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, weights=weights,
        name=name or "efficientnet",
        imagenet_source=variant and getattr(keras.applications,
                                            f"EfficientNet{variant.upper()}"),
    )


@args_doc(_VARIANT_INPUT)
def efficientnet_imagenet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    variant="b0",
    dropout=None,
    drop_connect_rate=0.2,
):
    """EfficientNet-B0 ... B7 for ImageNet (Tan & Le 2019, Table 2): a row of `COEFFICIENTS`.

    Reference: https://arxiv.org/abs/1905.11946

    Architecture options (keyword-only):
        variant: "b0" ... "b7".
        dropout: rate of `top_dropout` before the classifier, in [0, 1); default the variant's
            (0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5).
        drop_connect_rate: the block rates grow to it (rate * b / N), in [0, 1) (paper: 0.2).
    """
    check_choice("variant", variant, tuple(COEFFICIENTS))
    width, depth, resolution, default_dropout = COEFFICIENTS[variant]
    return efficientnet(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or f"efficientnet_{variant}",
        width_coefficient=width, depth_coefficient=depth, resolution=resolution,
        dropout=default_dropout if dropout is None else dropout,
        drop_connect_rate=drop_connect_rate, stem="imagenet",
    )


@register_model
@args_doc(CIFAR_INPUT_DOC)
def efficientnet_cifar(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    phi=None,
    width_coefficient=None,
    depth_coefficient=None,
    resolution=None,
    dropout=None,
    drop_connect_rate=0.2,
    stages=B0_STAGES,
):
    """EfficientNet for CIFAR-10: B0 (Tan & Le 2019, Table 1) with a stride-1 stem, the common
    adaptation to 32x32 images (the paper fine-tunes ImageNet nets on CIFAR at 224+ px instead).

    Reference: https://arxiv.org/abs/1905.11946

    The 4 strided stages take 32x32 inputs to 2x2 final maps (7x7 from 224 on ImageNet). The
    inputs are normalised before the net (see Input below), so there is no in-graph
    Rescaling / Normalization; the layer names are keras.applications' (stem_conv,
    block1a_dwconv, ..., top_conv, predictions).
    Defaults (B0 widths and depths, 32x32x3, 10 classes): 4,020,358 trainable / 4,062,374
    total parameters, 32.0M multiply-adds.

    Architecture options (keyword-only):
        phi: the compound coefficient (real >= 0): width 1.1^phi, depth 1.2^phi and resolution
            32 * 1.15^phi rounded to a multiple of 4 px (36 for phi = 1, 44 for phi = 2, 48 for
            phi = 3), reached by resizing the 32x32 input. Not with the three options below.
        width_coefficient: channel multiplier (> 0; default 1.0).
        depth_coefficient: block-count multiplier (> 0; default 1.0).
        resolution: None (compute at the input size), or the size (>= 16 px) the input is
            resized to (bilinear) before the stem: the paper's resolution scaling on a dataset
            of fixed size (~(resolution / 32)^2 of the multiply-adds, same parameters).
        dropout: rate before the classifier, in [0, 1) (default 0.2, or from phi).
        drop_connect_rate: the block rates grow to it (rate * b / N), in [0, 1) (paper: 0.2).
        stages: the MBConv stages as `Stage` rows (default `B0_STAGES`); see `efficientnet`.
    """
    if isinstance(weights, str) and weights == "imagenet":
        fail("There are no ImageNet weights for the stride-1 CIFAR net; use efficientnet_b0() "
              "... efficientnet_b7(), weights=None or a .weights.h5 path.", weights=weights)
    return efficientnet(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or "efficientnet_cifar",
        phi=phi, width_coefficient=width_coefficient, depth_coefficient=depth_coefficient,
        resolution=resolution, dropout=dropout, drop_connect_rate=drop_connect_rate,
        stem="cifar", stages=stages,
    )


# --- The registered variants: rows of COEFFICIENTS ------------------------------------------
# Each passes its row (a key of COEFFICIENTS) to `efficientnet_imagenet` and takes its other
# keyword arguments.
_PAPER = "Reference: https://arxiv.org/abs/1905.11946"
# Measured at the default input, 1000 classes: (trainable, total parameters, multiply-adds),
# all three equal to keras.applications.EfficientNetB0 ... B7 (weights=None).
_MEASURED = {
    "b0": (5_288_548, 5_330_571, 385_814_752),
    "b1": (7_794_184, 7_856_239, 686_802_832),
    "b2": (9_109_994, 9_177_569, 993_561_872),
    "b3": (12_233_232, 12_320_535, 1_827_141_392),
    "b4": (19_341_616, 19_466_823, 4_393_771_024),
    "b5": (30_389_784, 30_562_527, 10_266_384_752),
    "b6": (43_040_704, 43_265_143, 19_067_593_536),
    "b7": (66_347_960, 66_658_687, 37_745_884_192),
}


def _variant_doc(variant):
    """The help() text of EfficientNet-`variant`, from its rows of the tables above."""
    width, depth, size, dropout = COEFFICIENTS[variant]
    top1, params, flops = PAPER_TABLE2[variant]
    trainable, total, macs = _MEASURED[variant]
    keras_name = f"keras.applications.EfficientNet{variant.upper()}"
    return args_doc(_PAPER, f"""\
Width {width}, depth {depth}, {size}x{size} input, dropout {dropout}.
{trainable:,} trainable / {total:,} total parameters, {macs / 1e9:.3f}G multiply-adds
(= {keras_name}: same layers, names and weights; `weights='imagenet'` copies its
weights). Paper (Table 2): {params} parameters, {flops} FLOPs, {top1}% top-1.""",
                    _VARIANT_INPUT, """\
Architecture options (keyword-only):
    dropout: rate before the classifier, in [0, 1) (default above).
    drop_connect_rate: the block rates grow to it (rate * b / N), in [0, 1) (paper: 0.2).""")


@register_model
@_variant_doc("b0")
def efficientnet_b0(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B0 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b0", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)


@register_model
@_variant_doc("b1")
def efficientnet_b1(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B1 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b1", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)


@register_model
@_variant_doc("b2")
def efficientnet_b2(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B2 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b2", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)


@register_model
@_variant_doc("b3")
def efficientnet_b3(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B3 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b3", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)


@register_model
@_variant_doc("b4")
def efficientnet_b4(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B4 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b4", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)


@register_model
@_variant_doc("b5")
def efficientnet_b5(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B5 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b5", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)


@register_model
@_variant_doc("b6")
def efficientnet_b6(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B6 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b6", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)


@register_model
@_variant_doc("b7")
def efficientnet_b7(include_top=True, weights=None, input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax", name=None, *,
                    dropout=None, drop_connect_rate=0.2):
    """EfficientNet-B7 for ImageNet (Tan & Le 2019, Table 2)."""
    return efficientnet_imagenet(include_top, weights, input_tensor, input_shape, pooling, classes,
                                 classifier_activation, name, variant="b7", dropout=dropout,
                                 drop_connect_rate=drop_connect_rate)
