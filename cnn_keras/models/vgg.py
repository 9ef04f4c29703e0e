"""VGG (Simonyan & Zisserman 2014): configurations A, A-LRN, B, C, D, E (and Sec. 4.1's B-5x5),
and a CIFAR-10 variant.

Reference: Very Deep Convolutional Networks for Large-Scale Image Recognition,
https://arxiv.org/abs/1409.1556

One generic builder (`vgg`) reads the architecture from `CONFIGS` (the paper's Table 1, written in
its own notation, plus Sec. 4.1's shallow "B-5x5"); every public variant (`vgg11`, `vgg11_lrn`,
`vgg13`, `vgg16_c`, `vgg16`, `vgg19`) is a row of `VARIANTS`: a short function at the end of this
module that passes its configuration to `vgg`, registered under its name. B-5x5 has no variant.

* Five blocks of convolutions, each followed by a 2x2/2 max-pool. Convs are stride 1, "same"
  padding, with ReLU; "conv3-64" is a 3x3 conv with 64 filters, "conv1-256" (configuration C)
  a 1x1 conv, "conv5-64" (B-5x5) a 5x5 conv. A-LRN adds one Local Response Normalisation after
  the first conv, with AlexNet's settings (k=2, n=5, alpha=1e-4, beta=0.75; Sec. 2.1, Table 1).
* The top: flatten, fc1 4096 + ReLU + dropout 0.5, fc2 4096 + ReLU + dropout 0.5, predictions.
  The paper (Sec. 3.1) regularises the first two FC layers with dropout 0.5.
* Layer names are keras.applications' (``block1_conv1`` ... ``block5_pool``, ``flatten``,
  ``fc1``, ``fc2``, ``predictions``) for every configuration, so `vgg16` / `vgg19` equal
  `keras.applications.VGG16` / `VGG19` layer for layer (plus the weightless ``fc1_dropout`` /
  ``fc2_dropout``, which keras leaves out) and take their ImageNet weights.
* Initialisation: keras' defaults (Glorot-uniform kernels, zero biases), as keras.applications.
  The paper trained configuration A from N(0, 0.01) and pre-initialised the deeper nets from it
  (`preinitialize`); it adds that Glorot & Bengio's initialisation works without pre-training.
* ``batch_norm=True`` (not in the paper, which predates BN) adds BatchNormalization between each
  conv and its ReLU, keeping the conv biases, as torchvision's ``vgg*_bn``; the trainable counts
  then equal torchvision's.
* Input: nothing is normalised in the graph. With ``weights="imagenet"`` call `preprocess_input`
  first (keras.applications' "caffe" mode, the paper's preprocessing, Sec. 2.1: "subtracting
  the mean RGB value, computed on the training set, from each pixel", plus RGB -> BGR).
"""

from __future__ import annotations

import math

import keras

from cnn_keras.checks import check_choice, check_number, check_rate
from cnn_keras.layers import ALEXNET_LRN, LocalResponseNormalization
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
# Simonyan & Zisserman 2014, Table 1 ("ConvNet configurations"), one tuple per block (each block
# ends with a 2x2/2 max-pool), in the paper's notation: "conv<kernel>-<filters>", "LRN".
_C3 = "conv3-512"
CONFIGS = {
    "A": (("conv3-64",), ("conv3-128",), ("conv3-256",) * 2, (_C3,) * 2, (_C3,) * 2),
    "A-LRN": (("conv3-64", "LRN"), ("conv3-128",), ("conv3-256",) * 2, (_C3,) * 2, (_C3,) * 2),
    "B": (("conv3-64",) * 2, ("conv3-128",) * 2, ("conv3-256",) * 2, (_C3,) * 2, (_C3,) * 2),
    "C": (("conv3-64",) * 2, ("conv3-128",) * 2, ("conv3-256", "conv3-256", "conv1-256"),
          (_C3, _C3, "conv1-512"), (_C3, _C3, "conv1-512")),
    "D": (("conv3-64",) * 2, ("conv3-128",) * 2, ("conv3-256",) * 3, (_C3,) * 3, (_C3,) * 3),
    "E": (("conv3-64",) * 2, ("conv3-128",) * 2, ("conv3-256",) * 4, (_C3,) * 4, (_C3,) * 4),
    # Sec. 4.1 (not in Table 1): "a shallow net with five 5x5 conv. layers, which was derived
    # from B by replacing each pair of 3x3 conv. layers with a single 5x5 conv. layer (which has
    # the same receptive field as explained in Sect. 2.3)"; its top-1 error was 7% higher than
    # B's. Tables 2 and 3 have no row for it (not in PAPER_PARAMS_M, PAPER_SINGLE_SCALE_ERRORS)
    # and it has no registered variant (not in VARIANTS): build it with `vgg_cifar` or `vgg`.
    "B-5x5": (("conv5-64",), ("conv5-128",), ("conv5-256",), ("conv5-512",), ("conv5-512",)),
}
# Table 1, last rows: FC-4096, FC-4096, FC-1000, soft-max.
FC_UNITS = (4096, 4096)
# Table 2: "Number of parameters (in millions)" (the rows of Table 1: no "B-5x5").
PAPER_PARAMS_M = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}
# Table 3 (single-scale evaluation, test scale Q = S or 0.5(S_min + S_max)): top-1 / top-5 val
# error (%) with S = 256 and, for the deep nets, scale jittering S in [256, 512]. No "B-5x5".
PAPER_SINGLE_SCALE_ERRORS = {
    "A": {"S=256": (29.6, 10.4)},
    "A-LRN": {"S=256": (29.7, 10.5)},
    "B": {"S=256": (28.7, 9.9)},
    "C": {"S=256": (28.1, 9.4), "S=[256,512]": (27.3, 8.8)},
    "D": {"S=256": (27.0, 8.8), "S=[256,512]": (25.6, 8.1)},
    "E": {"S=256": (27.3, 9.0), "S=[256,512]": (25.5, 8.0)},
}
# Torch / torchvision BatchNorm settings (momentum 0.1 there = 0.9 in Keras, epsilon 1e-5).
BN_SETTINGS = {"momentum": 0.9, "epsilon": 1e-5}

# (registry name, configuration) - the rows of Table 1 with their usual names.
VARIANTS = (
    ("vgg11", "A"),
    ("vgg11_lrn", "A-LRN"),
    ("vgg13", "B"),
    ("vgg16_c", "C"),
    ("vgg16", "D"),
    ("vgg19", "E"),
)
_NAME_OF_CONFIG = {config: name for name, config in VARIANTS}


def _default_name(config: str) -> str:
    """The registry name of `config`'s variant; "vgg_b_5x5" for B-5x5, which has none."""
    return _NAME_OF_CONFIG.get(config) or "vgg_" + config.lower().replace("-", "_")


# Sec. 3.1: "we initialised the first four convolutional layers and the last three fully-
# connected layers with the layers of net A" - the names of those layers (see `preinitialize`).
PREINIT_CONVS = ("block1_conv1", "block2_conv1", "block3_conv1", "block3_conv2")
PREINIT_DENSES = ("fc1", "fc2", "predictions")


def parse_layer(spec: str) -> tuple[str, int, int]:
    """("conv", kernel, filters) for "conv3-64"; ("lrn", 0, 0) for "LRN"."""
    if spec == "LRN":
        return ("lrn", 0, 0)
    kernel, filters = spec.removeprefix("conv").split("-")
    return ("conv", int(kernel), int(filters))


def layer_names(config: str) -> list[str]:
    """The names of the conv / LRN / pool layers of `config`, input to output."""
    names = []
    for b, block in enumerate(CONFIGS[config], start=1):
        n_conv = 0
        for spec in block:
            kind, _, _ = parse_layer(spec)
            if kind == "conv":
                n_conv += 1
                names.append(f"block{b}_conv{n_conv}")
            else:
                names.append(f"block{b}_lrn")
        names.append(f"block{b}_pool")
    return names


# --- Input ----------------------------------------------------------------------------------
@preprocess_doc
def preprocess_input(x, data_format=None):
    """What `vgg16` / `vgg19` with `weights="imagenet"` expect, from 0..255 RGB pixels:
    keras.applications.vgg16 (and vgg19) `preprocess_input`, "caffe" mode.

    RGB -> BGR, then minus the ImageNet mean pixel (B, G, R) = (103.939, 116.779, 123.68), no
    scaling: the paper's "subtracting the mean RGB value, computed on the training set, from each
    pixel" (Sec. 2.1), in the channel order of the Caffe model the weights come from.
    Values from about -124 to 152.
    """
    return imagenet_preprocess(x, data_format, "caffe")


_IMAGENET_INPUT = imagenet_input_doc(
    "call `cnn_keras.models.vgg.preprocess_input` on the 0..255 pixels first (keras."
    "applications' \"caffe\" preprocessing: RGB -> BGR, minus the ImageNet mean pixel, no "
    "scaling; the paper's mean-RGB subtraction, Sec. 2.1)",
    models="configurations D and E, vgg16 and vgg19, without batch norm",
)
_PLAIN_INPUT = plain_input_doc(
    "The paper subtracts the mean RGB value of the training set from each pixel (Sec. 2.1), "
    "as `cnn_keras.models.vgg.preprocess_input` does with the ImageNet mean."
)


# --- The generic builder --------------------------------------------------------------------
# Kernel initialisers of the ReLU layers: Keras' default, He-normal (the scale derived for
# ReLUs), or the paper's N(0, 0.01) (Sec. 3.1: "zero mean and 10^-2 variance"; biases zero).
# The paper's is a config, not an initializer object: one unseeded object shared by the layers
# would draw its seed once and give every layer of the same shape the same weights.
INITS = {"glorot": "glorot_uniform", "he": "he_normal",
         "paper": {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.1}}}


def _initializer(init):
    """A new initializer object for each layer (its own random seed)."""
    return keras.initializers.get(INITS[init])


def _check_options(config, batch_norm, dropout, fc_units, name, init="glorot", width=1.0):
    check_choice("config", config, tuple(CONFIGS))
    check_number("width", width, low=0, low_open=True)
    check_choice("init", init, tuple(INITS))
    check_choice("batch_norm", batch_norm, (True, False))
    check_rate("dropout", dropout)
    if not isinstance(fc_units, (tuple, list)) or any(
        isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in fc_units
    ):
        raise ValueError("`fc_units` must be a tuple of positive integers (the hidden FC layers "
                         f"before `predictions`; may be empty). Received: fc_units={fc_units!r}")
    check_name(name)


def scaled_filters(filters: int, width: float) -> int:
    """`filters` * `width` rounded to the nearest integer (halves up), and at least 1."""
    # floor(x + 0.5), not round(x), which rounds halves to even (round(2.5) == 2); the max keeps
    # a tiny width from making a conv with 0 filters.
    return max(1, math.floor(filters * width + 0.5))


def _conv_block(x, block, b, *, batch_norm, init="glorot", width=1.0):
    n_conv = 0
    for spec in block:
        kind, kernel, filters = parse_layer(spec)
        if kind == "lrn":
            x = LocalResponseNormalization(**ALEXNET_LRN, name=f"block{b}_lrn")(x)
            continue
        filters = scaled_filters(filters, width)
        n_conv += 1
        cname = f"block{b}_conv{n_conv}"
        if batch_norm:
            x = keras.layers.Conv2D(filters, kernel, padding="same", name=cname,
                                    kernel_initializer=_initializer(init))(x)
            x = keras.layers.BatchNormalization(name=f"{cname}_bn", **BN_SETTINGS)(x)
            x = keras.layers.Activation("relu", name=f"{cname}_relu")(x)
        else:  # keras.applications' layout: the ReLU inside the conv layer
            x = keras.layers.Conv2D(filters, kernel, padding="same", activation="relu",
                                    name=cname, kernel_initializer=_initializer(init))(x)
    return keras.layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool")(x)


@args_doc(_IMAGENET_INPUT)
def vgg(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    config="D",
    batch_norm=False,
    dropout=0.5,
    fc_units=FC_UNITS,
    init="glorot",
):
    """VGG net (Simonyan & Zisserman 2014) of any configuration of Table 1.

    Reference: https://arxiv.org/abs/1409.1556

    Architecture options (keyword-only):
        config: "A", "A-LRN", "B", "C", "D" or "E" (Table 1; `CONFIGS`), or "B-5x5" (Sec. 4.1:
            B with each pair of 3x3 convs replaced by one 5x5 conv).
        batch_norm: add BatchNormalization between each conv and its ReLU (not in the paper;
            torchvision's ``vgg*_bn`` layout, conv biases kept).
        dropout: dropout rate after each hidden FC layer (the paper: 0.5); 0 adds no
            Dropout layers.
        fc_units: widths of the hidden FC layers before `predictions` (the paper: 4096, 4096).
            `weights="imagenet"` needs (4096, 4096) and configuration D or E without BN.
        init: kernel initialiser of the ReLU convs and FC layers: "glorot" (Keras' default,
            as keras.applications), "he" (He-normal) or "paper" (N(0, 10^-2 variance), the paper's).
        With `include_top=True` the top is Table 1's classifier (flatten, fc1, fc2 with
            dropout, `predictions`), not a global-average-pool.
    """
    return _build(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name, config=config, batch_norm=batch_norm, dropout=dropout,
        fc_units=fc_units, default_size=224, init=init,
    )


def _build(include_top, weights, input_tensor, input_shape, pooling, classes,
           classifier_activation, name, *, config, batch_norm, dropout, fc_units, default_size,
           default_name=None, init="glorot", width=1.0):
    _check_options(config, batch_norm, dropout, fc_units, name, init, width)
    fc_units = tuple(fc_units)
    default_name = default_name or _default_name(config) + ("_bn" if batch_norm else "")
    source = None
    if config in ("D", "E") and not batch_norm and fc_units == FC_UNITS and width == 1:
        source = _KERAS_APPLICATIONS[config]
    inp = resolve_inputs(
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        default_size=default_size,
        min_size=32,  # five 2x2/2 pools
        imagenet_available=source is not None,
        model_name=name or default_name,
    )
    x = inp.tensor
    for b, block in enumerate(CONFIGS[config], start=1):
        x = _conv_block(x, block, b, batch_norm=batch_norm, init=init, width=width)
    if include_top:
        # Table 1's classifier (not finish_model's GAP head): flatten + FC layers + dropout.
        x = keras.layers.Flatten(name="flatten")(x)
        for i, units in enumerate(fc_units, start=1):
            x = keras.layers.Dense(units, activation="relu", name=f"fc{i}",
                                   kernel_initializer=_initializer(init))(x)
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
        x = keras.layers.Dense(int(classes), activation=classifier_activation,
                               name="predictions")(x)
    # The top is built above, so finish_model only adds the headless pooling and the weights;
    # keras' model for the ImageNet weights still needs the real include_top.
    imagenet_source = None
    if source is not None:
        def imagenet_source(**kw):
            return source(**{**kw, "include_top": include_top})
    return finish_model(
        x,
        inp,
        include_top=False,
        pooling=None if include_top else pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        weights=weights,
        name=name or default_name,
        imagenet_source=imagenet_source,
    )


_KERAS_APPLICATIONS = {"D": keras_application("VGG16"), "E": keras_application("VGG19")}


# --- CIFAR-10 ---------------------------------------------------------------------------------
CIFAR_FC_UNITS = (512,)


@register_model
@args_doc(CIFAR_INPUT_DOC)
def vgg_cifar(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    config="D",
    batch_norm=True,
    dropout=0.5,
    fc_units=CIFAR_FC_UNITS,
    init="glorot",
    width=1.0,
):
    """VGG for CIFAR-10 (Simonyan & Zisserman 2014, adapted to 32x32 images).

    Reference: https://arxiv.org/abs/1409.1556

    What changed from the paper, and why:
        * Input 32x32x3 (not 224x224x3) and 10 classes. The conv body is Table 1's unchanged
          (configuration D by default: 13 3x3 convs, five 2x2/2 max-pools), so after the five
          pools the feature map is 1x1x512 instead of 7x7x512.
        * The classifier is one hidden FC layer of 512 units + ReLU + dropout 0.5, then the
          10-way `predictions` layer, instead of 4096-4096-1000. With a 512-vector input, two
          4096-wide layers would add ~19M parameters (more than the whole conv body) for 50k
          training images; 512 units keep the top in proportion to its input.
        * BatchNormalization after every conv (``batch_norm=True``; Torch settings, conv biases
          kept). The paper predates BN and needed pre-initialisation from net A (Sec. 3.1) to
          train its deep nets; with BN the 16-layer net trains from scratch on CIFAR-10.
        * The paper's multi-scale ImageNet augmentation (`cnn_keras.augment.scale_jitter`)
          does not apply to 32x32 images; use the CIFAR pipeline (`cnn_keras.data`).
        Trainable parameters: 14,990,922 (+ 8,448 non-trainable BN statistics).

    Architecture options (keyword-only):
        config: a Table 1 configuration ("A", "A-LRN", "B", "C", "D", "E"; default "D"), or
            "B-5x5" (Sec. 4.1: B with each pair of 3x3 convs replaced by one 5x5 conv).
        batch_norm: BatchNormalization after each conv (default True).
        dropout: dropout rate after each hidden FC layer (default 0.5; 0 adds none).
        fc_units: widths of the hidden FC layers (default (512,); () for a single linear layer).
        init: kernel initialiser of the ReLU convs and FC layers: "glorot" (default), "he" or
            "paper" (N(0, 10^-2 variance), the paper's).
        width: a number > 0 that multiplies every conv's filter count (Table 1's 64-512; rounded,
            at least 1), e.g. 0.25 for d2l's quarter-width VGG (16-128); default 1. Not in the
            paper. `fc_units` is not scaled.
        With `include_top=True` the top is the classifier above (flatten, fc1 with dropout,
            `predictions`), not a global-average-pool.
    """
    return _build(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name, config=config, batch_norm=batch_norm, dropout=dropout,
        fc_units=fc_units, default_size=32, default_name="vgg_cifar", init=init, width=width,
    )


# --- Sec. 3.1: pre-initialisation of the deep nets from a trained net A ---------------------
def preinitialize(deep_model, shallow_model):
    """Copy a trained configuration A's first four convs and three FC layers into a deeper net.

    Simonyan & Zisserman 2014, Sec. 3.1: "we began with training the configuration A, shallow
    enough to be trained with random initialisation. Then, when training deeper architectures,
    we initialised the first four convolutional layers and the last three fully-connected layers
    with the layers of net A (the intermediate layers were initialised randomly)."

    Net A's first four convs are ``block1_conv1``, ``block2_conv1``, ``block3_conv1`` and
    ``block3_conv2`` (64, 128, 256, 256 filters); each is copied into the layer of the same name
    of the deeper net, which has the same shape there (3->64, 64->128, 128->256, 256->256) in
    every configuration of Table 1 at the same `width` (not in B-5x5, whose convs are 5x5). The
    FC layers are ``fc1``, ``fc2`` and ``predictions`` (those of them that A has: `vgg_cifar` has
    one hidden FC layer). All other layers of `deep_model` (and BN layers, if any) are left
    untouched.

    Args:
        deep_model: the model to initialise, e.g. `vgg16()` (modified in place).
        shallow_model: a trained `vgg11()` (or `vgg11_lrn()`) with the same input size and
            classes, and `include_top=True`.

    Returns:
        The names of the copied layers, in order.

    Raises:
        ValueError: a layer is missing from either model, or its weights have other shapes;
            nothing is copied then.
    """
    for arg, model in (("deep_model", deep_model), ("shallow_model", shallow_model)):
        if not isinstance(model, keras.Model):
            raise ValueError(f"`{arg}` must be a Keras model. Received: {arg}={model!r}")
    # The FC layers A has (fc1, fc2, predictions at 224; fc1, predictions in `vgg_cifar`).
    present = {layer.name for layer in getattr(shallow_model, "layers", [])}
    names = PREINIT_CONVS + (tuple(n for n in PREINIT_DENSES if n in present) or PREINIT_DENSES)
    pairs = []
    for lname in names:
        layers = []
        for arg, model in (("shallow_model", shallow_model), ("deep_model", deep_model)):
            try:
                layers.append(model.get_layer(lname))
            except ValueError:
                raise ValueError(
                    f"`{arg}` has no layer {lname!r}; both models must be VGG nets built with "
                    f"include_top=True (the shallow one configuration A). "
                    f"Received: {arg}={model.name!r}"
                ) from None
        src, dst = layers
        src_shapes = [tuple(w.shape) for w in src.weights]
        dst_shapes = [tuple(w.shape) for w in dst.weights]
        if src_shapes != dst_shapes:
            raise ValueError(
                f"Layer {lname!r} has weights of other shapes in the two models (same input "
                f"size, classes and width, and 3x3 convs, needed). Received: "
                f"{lname}={src_shapes} (shallow_model) vs {dst_shapes} (deep_model)"
            )
        pairs.append((src, dst))
    for src, dst in pairs:
        dst.set_weights(src.get_weights())
    return list(names)


# --- The registered variants: rows of Table 1 ----------------------------------------------
# Each passes its configuration (a row of VARIANTS) to `vgg` and takes vgg's other keyword
# arguments; `model_info(name)` has the depth (weight layers).
_VARIANT_OPTIONS = """\
    Architecture options (keyword-only):
        batch_norm: BatchNormalization after each conv (torchvision's _bn layout).
        dropout: dropout rate after fc1 and fc2 (the paper: 0.5).
        fc_units: widths of the hidden FC layers (the paper: (4096, 4096)).
        init: kernel initialiser: "glorot" (Keras' default), "he" or "paper" (N(0, 10^-2
            variance)).
        With `include_top=True` the top is Table 1's classifier (flatten, fc1, fc2 with
            dropout, `predictions`), not a global-average-pool."""
_variant_doc = args_doc("Reference: https://arxiv.org/abs/1409.1556", _PLAIN_INPUT,
                        _VARIANT_OPTIONS)
_imagenet_variant_doc = args_doc("Reference: https://arxiv.org/abs/1409.1556", _IMAGENET_INPUT,
                                 _VARIANT_OPTIONS)


@register_model(depth=11)
@_variant_doc
def vgg11(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name=None, *,
          batch_norm=False, dropout=0.5, fc_units=FC_UNITS, init="glorot"):
    """VGG configuration A: 11 weight layers (Simonyan & Zisserman 2014, Table 1)."""
    return vgg(include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, config="A", batch_norm=batch_norm, dropout=dropout,
               fc_units=fc_units, init=init)


@register_model(depth=11)
@_variant_doc
def vgg11_lrn(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None, *,
              batch_norm=False, dropout=0.5, fc_units=FC_UNITS, init="glorot"):
    """VGG configuration A-LRN: A + LRN after the first conv (Simonyan & Zisserman 2014)."""
    return vgg(include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, config="A-LRN", batch_norm=batch_norm, dropout=dropout,
               fc_units=fc_units, init=init)


@register_model(depth=13)
@_variant_doc
def vgg13(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name=None, *,
          batch_norm=False, dropout=0.5, fc_units=FC_UNITS, init="glorot"):
    """VGG configuration B: 13 weight layers (Simonyan & Zisserman 2014, Table 1)."""
    return vgg(include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, config="B", batch_norm=batch_norm, dropout=dropout,
               fc_units=fc_units, init=init)


@register_model(depth=16)
@_variant_doc
def vgg16_c(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=1000, classifier_activation="softmax", name=None, *,
            batch_norm=False, dropout=0.5, fc_units=FC_UNITS, init="glorot"):
    """VGG configuration C: 16 weight layers, 1x1 convs last in blocks 3-5 (Table 1)."""
    return vgg(include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, config="C", batch_norm=batch_norm, dropout=dropout,
               fc_units=fc_units, init=init)


@register_model(depth=16)
@_imagenet_variant_doc
def vgg16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name=None, *,
          batch_norm=False, dropout=0.5, fc_units=FC_UNITS, init="glorot"):
    """VGG configuration D: 16 weight layers, keras.applications.VGG16 (Table 1)."""
    return vgg(include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, config="D", batch_norm=batch_norm, dropout=dropout,
               fc_units=fc_units, init=init)


@register_model(depth=19)
@_imagenet_variant_doc
def vgg19(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name=None, *,
          batch_norm=False, dropout=0.5, fc_units=FC_UNITS, init="glorot"):
    """VGG configuration E: 19 weight layers, keras.applications.VGG19 (Table 1)."""
    return vgg(include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name, config="E", batch_norm=batch_norm, dropout=dropout,
               fc_units=fc_units, init=init)
