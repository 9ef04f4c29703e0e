"""GoogLeNet / Inception v1 (Szegedy et al. 2014), for ImageNet and CIFAR-10.

Reference: Going Deeper with Convolutions, https://arxiv.org/abs/1409.4842

One family builder (`inception_v1`) reads the inception modules from `INCEPTION_V1` (the paper's
Table 1); the registered variants are `googlenet` (the paper's network, 224x224x3) and
`googlenet_cifar` (the same nine modules behind a CIFAR-10 stem, 32x32x3).

Paper-faithful: every conv has a bias and a ReLU, no batch normalization, LRN in the stem, and
the 5x5 branch really is 5x5 (torchvision's GoogLeNet uses a 3x3 there, a known bug; its count,
6,624,904, is therefore not this one). Exact trainable parameters at 224x224, 1,000 classes:
6,998,552 without the auxiliary classifiers, 13,378,280 with them; 1.583G multiply-adds.

Training with the auxiliary classifiers (Sec. 5): build with `aux_logits=True` (outputs
`[predictions, aux1_predictions, aux2_predictions]`), compile with `compile_with_aux` (loss
weights `AUX_LOSS_WEIGHTS` = 1, 0.3, 0.3), fit on `(x, (y, y, y))`, and use `strip_aux(model)`
(the same layers and weights, main head only) for inference: "at inference time, these auxiliary
networks are discarded".
"""

from __future__ import annotations

from collections import namedtuple

import keras

from cnn_keras.checks import (check_bool, check_choice, check_int, check_number, check_rate,
                              fail)
from cnn_keras.layers import ALEXNET_LRN, LocalResponseNormalization
from cnn_keras.models._common import (
    CIFAR_INPUT_DOC,
    args_doc,
    check_name,
    finish_model,
    plain_input_doc,
    resolve_inputs,
)
# vgg.py's width multiplier rounding, reused (vgg imports nothing of the models, so no cycle).
from cnn_keras.models.vgg import scaled_filters
from cnn_keras.registry import register_model

# --- The architecture as data --------------------------------------------------------------
InceptionRow = namedtuple(
    "InceptionRow", ["n1x1", "n3x3_reduce", "n3x3", "n5x5_reduce", "n5x5", "pool_proj"]
)
# Szegedy et al. 2014, Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION_V1 = {
    "3a": InceptionRow(64, 96, 128, 16, 32, 32),
    "3b": InceptionRow(128, 128, 192, 32, 96, 64),
    "4a": InceptionRow(192, 96, 208, 16, 48, 64),
    "4b": InceptionRow(160, 112, 224, 24, 64, 64),
    "4c": InceptionRow(128, 128, 256, 24, 64, 64),
    "4d": InceptionRow(112, 144, 288, 32, 64, 64),
    "4e": InceptionRow(256, 160, 320, 32, 128, 128),
    "5a": InceptionRow(256, 160, 320, 32, 128, 128),
    "5b": InceptionRow(384, 192, 384, 48, 128, 128),
}
# Table 1 / Fig. 3: a 3x3/2 max-pool between stages 3 -> 4 and 4 -> 5.
STAGES = (("3a", "3b"), ("4a", "4b", "4c", "4d", "4e"), ("5a", "5b"))
# Sec. 5: the auxiliary classifiers sit on the outputs of 4a and 4d; their losses are added to
# the total loss with weight 0.3, and they are discarded at inference.
AUX_AFTER = ("4a", "4d")
AUX_LOSS_WEIGHTS = (1.0, 0.3, 0.3)
OUTPUT_NAMES = ("predictions", "aux1_predictions", "aux2_predictions")
# Sec. 5: "an average pooling layer with 5x5 filter size and stride 3", "a 1x1 convolution with
# 128 filters", "a fully connected layer with 1024 units", "a dropout layer with 70% ratio".
AUX_POOL, AUX_POOL_STRIDE, AUX_CONV, AUX_FC, AUX_DROPOUT = 5, 3, 128, 1024, 0.7
# Sec. 5 / Table 1: the paper's figures (the exact counts above are ours).
PAPER_PARAMS, PAPER_MACS = 6.8e6, 1.5e9
# Total stride of the stem in front of stage 3 (so 4a sees input / (stride * 2) maps).
STEM_STRIDE = {"imagenet": 8, "cifar": 1}
STEMS = tuple(STEM_STRIDE)
MIN_SIZE = {"imagenet": 32, "cifar": 8}


def min_input_size(stem: str = "imagenet", aux_logits: bool = False) -> int:
    """The smallest input height/width the network accepts.

    Every conv and pool of the body is "same"-padded, so a map of size s becomes ceil(s / 2) at
    each stride-2 layer. The auxiliary heads' 5x5/3 average pool is "valid" and needs the 4a / 4d
    maps to be at least 5x5: input >= 5 * S - (S - 1) = 4 * S + 1 with S the total stride in front
    of 4a (16 for the ImageNet stem: 65; 2 for the CIFAR stem: 9).
    """
    check_choice("stem", stem, STEMS)
    size = MIN_SIZE[stem]
    if aux_logits:
        stride = STEM_STRIDE[stem] * 2  # the stem, then the max-pool after 3b
        size = max(size, (AUX_POOL - 1) * stride + 1)
    return size


def _row(row):
    """A Table 1 row from a stage name ("3a") or a 6-tuple of positive ints."""
    if isinstance(row, str):
        if row not in INCEPTION_V1:
            raise ValueError(f"`row` must be one of {list(INCEPTION_V1)} or a 6-tuple of "
                             f"positive integers. Received: row={row!r}")
        return INCEPTION_V1[row]
    if (not isinstance(row, (tuple, list)) or len(row) != 6
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in row)):
        raise ValueError("`row` must be a stage name of Table 1 or a 6-tuple of positive integers "
                         "(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj). "
                         f"Received: row={row!r}")
    return InceptionRow(*row)


def scaled_row(row, width: float = 1.0) -> InceptionRow:
    """A Table 1 row (stage name or 6-tuple) with every column multiplied by `width`."""
    # Each count rounds as max(1, floor(c * width + 0.5)): nearest, halves up, at least 1.
    return InceptionRow(*(scaled_filters(c, width) for c in _row(row)))


# --- Layers ---------------------------------------------------------------------------------
def _conv(x, filters, kernel, name, strides=1):
    """Conv (with bias) + ReLU, "same" padding, as every conv of the paper's network."""
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding="same",
                               activation="relu", name=name)(x)


def _lrn(x, name):
    # The paper's stem normalizes as AlexNet does (k=2, n=5, alpha=1e-4, beta=0.75).
    return LocalResponseNormalization(**ALEXNET_LRN, name=name)(x)


def inception_module(x, row, name, *, naive=False):
    """One inception module (Fig. 2b; `naive=True`: Fig. 2a, without the 1x1 reductions).

    Four branches on the same input, concatenated along the channels:
    1x1 | 1x1 reduce -> 3x3 | 1x1 reduce -> 5x5 | 3x3/1 max-pool -> 1x1 pool proj.
    The naive module drops the reductions and the pool projection, so its pool branch passes all
    input channels through. Layers are named `{name}_1x1`, `{name}_3x3_reduce`, ...,
    `{name}_concat`.
    """
    row = _row(row)
    b1 = _conv(x, row.n1x1, 1, f"{name}_1x1")
    b3 = x if naive else _conv(x, row.n3x3_reduce, 1, f"{name}_3x3_reduce")
    b3 = _conv(b3, row.n3x3, 3, f"{name}_3x3")
    b5 = x if naive else _conv(x, row.n5x5_reduce, 1, f"{name}_5x5_reduce")
    b5 = _conv(b5, row.n5x5, 5, f"{name}_5x5")
    bp = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    if not naive:
        bp = _conv(bp, row.pool_proj, 1, f"{name}_pool_proj")
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([b1, b3, b5, bp])


def inception_module_cost(in_channels, row, spatial) -> dict:
    """Parameters and multiply-adds of one inception module, with and without the 1x1 reductions.

    `row` is a stage name of Table 1 ("3a") or a 6-tuple; `spatial` the map size (an int or
    (height, width); the module keeps it). Returns
    `{"reduced": {...}, "naive": {...}}`, each `{"params", "macs", "out_channels"}`: "reduced" is
    the paper's module (Fig. 2b), "naive" the same branch widths without the 1x1 reductions and the
    pool projection (Fig. 2a). Parameters include the biases; MACs count the conv multiply-adds,
    as `cnn_keras.analysis.count_macs` does. Module 3a on the 28x28x192 maps:
    163,696 parameters and 128.0M MACs reduced, against 387,296 and 303.5M naive.
    """
    check_int("in_channels", in_channels)
    row = _row(row)
    hw = (spatial, spatial) if isinstance(spatial, int) and not isinstance(spatial, bool) \
        else spatial
    if (not isinstance(hw, (tuple, list)) or len(hw) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in hw)):
        raise ValueError("`spatial` must be a positive integer or (height, width). "
                         f"Received: spatial={spatial!r}")
    pixels = hw[0] * hw[1]

    def cost(convs):  # convs: (kernel, c_in, c_out)
        weights = sum(k * k * c_in * c_out for k, c_in, c_out in convs)
        return {"params": weights + sum(c_out for _, _, c_out in convs),
                "macs": weights * pixels}

    c = in_channels
    reduced = cost([(1, c, row.n1x1), (1, c, row.n3x3_reduce), (3, row.n3x3_reduce, row.n3x3),
                    (1, c, row.n5x5_reduce), (5, row.n5x5_reduce, row.n5x5),
                    (1, c, row.pool_proj)])
    reduced["out_channels"] = row.n1x1 + row.n3x3 + row.n5x5 + row.pool_proj
    naive = cost([(1, c, row.n1x1), (3, c, row.n3x3), (5, c, row.n5x5)])
    naive["out_channels"] = row.n1x1 + row.n3x3 + row.n5x5 + c
    return {"reduced": reduced, "naive": naive}


def _aux_head(x, prefix, classes, classifier_activation, width=1.0):
    """Auxiliary classifier (Sec. 5): avg-pool 5x5/3, 1x1 conv 128, FC 1024, dropout 0.7, FC
    (the conv and the FC scaled by `width`)."""
    x = keras.layers.AveragePooling2D(AUX_POOL, strides=AUX_POOL_STRIDE, padding="valid",
                                      name=f"{prefix}_avg_pool")(x)
    x = _conv(x, scaled_filters(AUX_CONV, width), 1, f"{prefix}_conv")
    x = keras.layers.Flatten(name=f"{prefix}_flatten")(x)
    x = keras.layers.Dense(scaled_filters(AUX_FC, width), activation="relu",
                           name=f"{prefix}_fc")(x)
    x = keras.layers.Dropout(AUX_DROPOUT, name=f"{prefix}_dropout")(x)
    return keras.layers.Dense(int(classes), activation=classifier_activation,
                              name=f"{prefix}_predictions")(x)


# --- The family builder ---------------------------------------------------------------------
@args_doc(plain_input_doc())
def inception_v1(
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
    aux_logits=False,
    lrn=True,
    dropout=0.4,
    naive=False,
    width=1.0,
):
    """GoogLeNet / Inception v1 of either stem: the family builder of `googlenet` and
    `googlenet_cifar`.

    Reference: https://arxiv.org/abs/1409.4842

    Architecture options (keyword-only):
        stem: "imagenet" (Table 1: 7x7/2 conv 64, 3x3/2 max-pool, LRN, 1x1 conv 64, 3x3 conv 192,
            LRN, 3x3/2 max-pool; 224x224 input) or "cifar" (one 3x3/1 conv 192, no pooling;
            32x32 input; see `googlenet_cifar`).
        aux_logits: add the two auxiliary classifiers on 4a and 4d (Sec. 5); the model then has
            three outputs `[predictions, aux1_predictions, aux2_predictions]`. Needs
            include_top=True and an input of at least 65x65 (ImageNet stem) / 9x9 (CIFAR stem).
        lrn: the local response normalizations of the stem (AlexNet settings).
        dropout: dropout rate in front of the classifier, in [0, 1) (paper: 0.4).
        naive: every module the naive one of Fig. 2a (no 1x1 reductions, no pool projection;
            `inception_module(..., naive=True)`), so each module passes all its input
            channels on and the later ones get wider inputs.
        width: CIFAR stem only: multiply every channel count (stem conv, all Table 1 columns,
            the aux heads' conv and FC) by `width` (> 0), rounded as `scaled_filters`.
    """
    # Validate everything before building any layer.
    width = _check_options(stem, width, aux_logits, lrn, naive, dropout, name, include_top)
    min_size = _check_aux_size(stem, aux_logits, input_shape, input_tensor)
    default_name = "googlenet" if stem == "imagenet" else "googlenet_cifar"
    inp = resolve_inputs(
        include_top=include_top, weights=weights, input_tensor=input_tensor,
        input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation,
        default_size=224 if stem == "imagenet" else 32, min_size=min_size,
        imagenet_available=False, model_name=name or default_name,
    )

    x = _stem(inp.tensor, stem, lrn, width)
    x, aux_outputs = _body(x, naive, width, aux_logits, classes, classifier_activation)

    # The paper's 7x7 average pool is global average pooling at 224x224 (any size here),
    # then dropout 0.4 and the linear classifier.
    return finish_model(
        x, inp, include_top=include_top, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, weights=weights,
        name=name or default_name, head_dropout=dropout, extra_outputs=aux_outputs,
    )


def _check_options(stem, width, aux_logits, lrn, naive, dropout, name, include_top):
    """inception_v1()'s architecture options; returns `width` as a number."""
    check_choice("stem", stem, STEMS)
    width = check_number("width", width, low=0, low_open=True)
    if stem != "cifar" and width != 1.0:
        fail("`width` applies to the CIFAR stem only (the ImageNet GoogLeNet is unscaled).",
             width=width)
    check_bool("aux_logits", aux_logits)
    check_bool("lrn", lrn)
    check_bool("naive", naive)
    check_rate("dropout", dropout)
    check_name(name)
    if aux_logits and include_top is not True:
        raise ValueError("aux_logits=True needs include_top=True (the auxiliary classifiers are "
                         "classification heads). Received: aux_logits=True with "
                         f"include_top={include_top!r}")
    return width


def _check_aux_size(stem, aux_logits, input_shape, input_tensor):
    """The smallest input the net takes (`min_input_size`), with the auxiliary heads' reason
    given here, where it is known, rather than resolve_inputs' generic message."""
    min_size = min_input_size(stem, aux_logits)
    shape = input_shape
    if shape is None and keras.backend.is_keras_tensor(input_tensor) \
            and len(input_tensor.shape) == 4:
        shape = tuple(input_tensor.shape[1:])
    if aux_logits and isinstance(shape, (tuple, list)) and len(shape) == 3 and any(
            isinstance(d, int) and d < min_size for d in shape[:2]):
        raise ValueError(
            f"With aux_logits=True the input must be at least {min_size}x{min_size}: the "
            f"auxiliary heads' 5x5/3 average pool needs the 4a / 4d maps (input / "
            f"{2 * STEM_STRIDE[stem]}) to be at least 5x5. Received: input_shape={tuple(shape)!r}")
    return min_size


def _stem(x, stem, lrn, width):
    """Table 1's stem up to inception (3a), or the CIFAR stem's single 3x3 conv."""
    if stem == "imagenet":
        x = _conv(x, 64, 7, "conv1_7x7_s2", strides=2)
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_3x3_s2")(x)
        if lrn:
            x = _lrn(x, "pool1_norm1")
        x = _conv(x, 64, 1, "conv2_3x3_reduce")
        x = _conv(x, 192, 3, "conv2_3x3")
        if lrn:
            x = _lrn(x, "conv2_norm2")
        return keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2_3x3_s2")(x)
    x = _conv(x, scaled_filters(192, width), 3, "conv1_3x3")
    if lrn:
        x = _lrn(x, "conv1_norm1")
    return x


def _body(x, naive, width, aux_logits, classes, classifier_activation):
    """Inception stages 3, 4 and 5 with a 3x3/2 max-pool between them, and the auxiliary
    heads after 4a and 4d; returns the last map and the aux outputs."""
    aux_outputs = []
    for i, stage in enumerate(STAGES):
        if i > 0:
            x = keras.layers.MaxPooling2D(3, strides=2, padding="same",
                                          name=f"pool{i + 2}_3x3_s2")(x)
        for key in stage:
            x = inception_module(x, scaled_row(key, width), f"inception_{key}", naive=naive)
            if aux_logits and key in AUX_AFTER:
                prefix = f"aux{AUX_AFTER.index(key) + 1}"
                aux_outputs.append(_aux_head(x, prefix, classes, classifier_activation, width))
    return x, aux_outputs


# --- Training with the auxiliary classifiers ------------------------------------------------
def _check_aux_model(model, arg):
    if not isinstance(model, keras.Model):
        raise ValueError(f"`{arg}` must be a Keras model. Received: {arg}={model!r}")
    names = tuple(getattr(model, "output_names", None) or ())
    if names != OUTPUT_NAMES:
        raise ValueError(
            f"`{arg}` must be a GoogLeNet built with aux_logits=True (outputs {list(OUTPUT_NAMES)}"
            f"). Received: {arg}={model.name!r} with outputs {list(names)}")


def compile_with_aux(model, optimizer, loss, metrics=None, **compile_kwargs):
    """Compile a GoogLeNet built with aux_logits=True with the paper's loss weights.

    Sec. 5: "their loss gets added to the total loss of the network with a discount weight (the
    losses of the auxiliary classifiers were weighted by 0.3)". `loss` (one loss) is used for the
    three outputs with weights `AUX_LOSS_WEIGHTS` = (1.0, 0.3, 0.3); a list or dict of three is
    passed on as is. `metrics` (a list) applies to the main output only; a dict keyed by output
    name is passed on as is. Train on `(x, (y, y, y))`.
    """
    _check_aux_model(model, "model")
    if not isinstance(loss, (list, tuple, dict)):
        loss = {out: loss for out in OUTPUT_NAMES}
    if metrics is not None and not isinstance(metrics, dict):
        metrics = {OUTPUT_NAMES[0]: list(metrics) if isinstance(metrics, (list, tuple))
                   else [metrics]}
    model.compile(optimizer=optimizer, loss=loss,
                  loss_weights=dict(zip(OUTPUT_NAMES, AUX_LOSS_WEIGHTS)), metrics=metrics,
                  **compile_kwargs)
    return model


def strip_aux(train_model):
    """The inference model of a GoogLeNet trained with aux_logits=True: the main head only.

    Sec. 5: "at inference time, these auxiliary networks are discarded". The returned model
    shares the layers (and so the weights) of `train_model`; its output is `predictions`.
    """
    _check_aux_model(train_model, "train_model")
    return keras.Model(train_model.inputs, train_model.outputs[0], name=train_model.name)


# --- The registered variants ----------------------------------------------------------------
_googlenet_doc = args_doc("Reference: https://arxiv.org/abs/1409.4842", plain_input_doc(), """\
    The paper's network at 224x224x3: 22 weight layers, nine inception modules with true
    5x5 branches, conv biases + ReLU, no BN, LRN in the stem, 7x7 average pool, dropout 0.4
    and a linear classifier. 6,998,552 trainable parameters (13,378,280 with the auxiliary
    classifiers), 1.583G multiply-adds.""", """\
    Architecture options (keyword-only):
        aux_logits: add the auxiliary classifiers on 4a and 4d (Sec. 5); three outputs
            [predictions, aux1_predictions, aux2_predictions]; needs include_top=True and
            an input of at least 65x65. Train with `compile_with_aux`, infer with
            `strip_aux`.
        lrn: the two local response normalizations of the stem (AlexNet settings).
        dropout: dropout rate in front of the classifier, in [0, 1) (paper: 0.4).""")


@register_model
@_googlenet_doc
def googlenet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None, *,
              aux_logits=False, lrn=True, dropout=0.4):
    """GoogLeNet / Inception v1 for ImageNet (Szegedy et al. 2014, Table 1, Fig. 3)."""
    return inception_v1(include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name, stem="imagenet", aux_logits=aux_logits,
                        lrn=lrn, dropout=dropout)


@register_model
@args_doc(CIFAR_INPUT_DOC)
def googlenet_cifar(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    *,
    aux_logits=False,
    lrn=False,
    dropout=0.4,
    naive=False,
    width=1.0,
):
    """GoogLeNet / Inception v1 for CIFAR-10: the paper's nine modules behind a 32x32 stem.

    Reference: https://arxiv.org/abs/1409.4842

    The common "GoogLeNet for CIFAR" layout. What changed from the paper, and why:
      * Stem: the paper's stem (7x7/2 conv, max-pool, LRN, 1x1 conv 64, 3x3 conv 192, LRN,
        max-pool) divides the input by 8, which would leave 4x4 maps for stage 3 and 1x1 maps
        for stage 5 at 32x32. It is replaced by one 3x3 conv with 192 filters at stride 1 and no
        pooling, so module 3a gets the 192 channels it expects (as in the paper) on 32x32 maps.
      * Maps: stage 3 runs at 32x32, stage 4 at 16x16, stage 5 at 8x8 (paper: 28, 14, 7),
        so the compute per image is close to the paper's at 224x224 (1.447G vs 1.583G
        multiply-adds).
      * LRN: off by default (the one stem conv replaces both LRN'd stem layers);
        `lrn=True` puts one LRN after the stem conv.
      * Head: global average pooling (8x8), dropout, a `classes`-way (10) linear layer.
      * Unchanged: the inception modules of Table 1 (true 5x5 branches), conv biases + ReLU,
        no BN, the 3x3/2 max-pools after 3b and 4e, dropout 0.4.
      * Auxiliary classifiers (`aux_logits=True`) work as in the paper: on the 16x16 maps of 4a
        and 4d the 5x5/3 average pool gives 4x4x128 = 2048 features, as at 224 on ImageNet
        (4x4 from 14x14), so the aux heads have the paper's shapes. Minimum input 9x9.
    5,864,762 trainable parameters at 32x32, 10 classes (10,214,990 with the aux heads);
    1.447G multiply-adds.

    Architecture options (keyword-only):
        aux_logits: add the auxiliary classifiers on 4a and 4d (three outputs, see
            `googlenet`); needs include_top=True.
        lrn: an LRN after the stem conv (default False).
        dropout: dropout rate in front of the classifier, in [0, 1) (default 0.4).
        naive: the naive modules of Fig. 2a in all nine places (no 1x1 reductions, no pool
            projection): the ablation of Sec. 4's dimension reductions. Works with
            aux_logits (the aux heads' 1x1 conv takes the wider 4a / 4d outputs).
        width: channel multiplier (> 0, default 1.0) of the stem conv, every Table 1 column and
            the aux heads' conv and FC; each count max(1, floor(c * width + 0.5)). width=0.25:
            about 1/16 of the multiply-adds (91.4M), for CPU experiments.
    """
    return inception_v1(
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name or "googlenet_cifar",
        stem="cifar", aux_logits=aux_logits, lrn=lrn, dropout=dropout, naive=naive, width=width,
    )

__all__ = [
    "INCEPTION_V1", "InceptionRow", "STAGES", "AUX_AFTER", "AUX_LOSS_WEIGHTS", "inception_v1",
    "inception_module", "inception_module_cost", "scaled_row", "min_input_size",
    "compile_with_aux", "strip_aux", "googlenet", "googlenet_cifar",
]
