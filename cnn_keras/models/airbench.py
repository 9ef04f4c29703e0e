"""airbench94 (Keller Jordan 2024): the network of the fastest known CIFAR-10 training recipe.

Reference: 94% on CIFAR-10 in 3.29 Seconds on a Single GPU, https://arxiv.org/abs/2404.00498
(code: https://github.com/KellerJordan/cifar10-airbench, `airbench94.py`; descended from
tysam-code's hlb-CIFAR10 and David Page's "How to train your ResNet").

Not one of the course's seven papers: the speed chapter trains it to show how far a recipe
built for speed goes on a CPU (`cnn_keras.training.speedrun`). The net, as the reference builds
it, at CIFAR-10's 32x32:

* ``whiten``: a frozen 2x2 "valid" conv whose 24 filters whiten the image's 2x2 patches
  (`layers.PatchWhitening`, set from training images with ``adapt``), with a trainable bias,
  then GELU;
* three conv groups (widths 64, 256, 256): 3x3 conv (no bias) -> 2x2 max-pool -> batch norm ->
  GELU -> 3x3 conv -> batch norm -> GELU. Batch norm without scales (only its biases learn),
  momentum 0.6 (PyTorch's 0.4), epsilon 1e-12; every conv's first filters start as the
  identity (`layers.PartialDirac`), the rest as PyTorch's default init;
* the head: a max-pool over what is left (3x3), a linear layer without bias, and the logits
  multiplied by 1/9.

1,971,352 trainable parameters (plus the 288 frozen whitening weights), 118.1M multiply-adds.
"""

from __future__ import annotations

import keras

from cnn_keras.checks import check_bool, check_int, check_number
from cnn_keras.layers import PartialDirac, PatchWhitening, torch_default_init
from cnn_keras.models._common import (
    args_doc,
    check_name,
    finish_model,
    resolve_inputs,
)
from cnn_keras.registry import register_model

PAPER_URL = "https://arxiv.org/abs/2404.00498"

# airbench94.py, hyp['net']: the conv groups' widths, batch norm momentum (Keras' convention:
# the weight of the old moving average) and the logit scale.
WIDTHS = (64, 256, 256)
BN_MOMENTUM = 0.6
BN_EPSILON = 1e-12
LOGIT_SCALE = 1 / 9
WHITEN_KERNEL = 2

INPUT_DOC = (
    "Input: CIFAR-10 images scaled to [0, 1] and normalised per channel (minus the training "
    "images' channel means, divided by their standard deviations), as "
    "`cnn_keras.training.speedrun` feeds them; the `whiten` layer must be adapted to such "
    "images (`model.get_layer('whiten').adapt(x)`) before training, which the speedrun recipe "
    "does. There are no ImageNet weights, so there is no `preprocess_input`."
)


def _conv(filters, name, dirac):
    init = PartialDirac() if dirac else torch_default_init()
    return keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                               kernel_initializer=init, name=name)


def _norm(name, momentum):
    return keras.layers.BatchNormalization(momentum=momentum, epsilon=BN_EPSILON, scale=False,
                                           name=name)


def _conv_group(x, filters, momentum, dirac, prefix):
    x = _conv(filters, f"{prefix}_conv1", dirac)(x)
    x = keras.layers.MaxPooling2D(2, name=f"{prefix}_pool")(x)
    x = _norm(f"{prefix}_bn1", momentum)(x)
    x = keras.layers.Activation("gelu", name=f"{prefix}_gelu1")(x)
    x = _conv(filters, f"{prefix}_conv2", dirac)(x)
    x = _norm(f"{prefix}_bn2", momentum)(x)
    return keras.layers.Activation("gelu", name=f"{prefix}_gelu2")(x)


@register_model
@args_doc(f"Reference: {PAPER_URL}", INPUT_DOC, """
    Architecture options (keyword-only): `widths` (the three conv groups' filters, default
    (64, 256, 256)), `batchnorm_momentum` (0.6), `logit_scale` (1/9; 1 turns it off),
    `whiten_eps` (5e-4: added to the patch covariance's eigenvalues in `adapt`); for the
    speedrun's ablations, `whiten=False` (the first layer an ordinary trainable 2x2 conv) and
    `dirac=False` (every conv from PyTorch's default init).
""")
def airbench94(include_top=True, weights=None, input_tensor=None, input_shape=None,
               pooling=None, classes=10, classifier_activation="softmax", name=None, *,
               widths=WIDTHS, batchnorm_momentum=BN_MOMENTUM, logit_scale=LOGIT_SCALE,
               whiten_eps=5e-4, whiten=True, dirac=True):
    """airbench94's network (Jordan 2024) for 32x32 images."""
    if not isinstance(widths, (list, tuple)) or len(widths) != 3:
        raise ValueError(f"`widths` must be three integers (the conv groups' filters). "
                         f"Received: widths={widths!r}")
    for w in widths:
        check_int("widths", w)
    check_number("batchnorm_momentum", batchnorm_momentum, low=0, high=1, high_open=True)
    check_number("logit_scale", logit_scale, low=0, low_open=True)
    check_number("whiten_eps", whiten_eps, low=0)
    check_bool("whiten", whiten)
    check_bool("dirac", dirac)
    check_name(name)
    mi = resolve_inputs(include_top=include_top, weights=weights, input_tensor=input_tensor,
                        input_shape=input_shape, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, default_size=32,
                        min_size=9, model_name="airbench94")
    if whiten:
        first = PatchWhitening(WHITEN_KERNEL, input_channels=mi.shape[-1], eps=whiten_eps,
                               bias_initializer="zeros", name="whiten")
    else:
        first = keras.layers.Conv2D(2 * mi.shape[-1] * WHITEN_KERNEL ** 2, WHITEN_KERNEL,
                                    kernel_initializer=torch_default_init(), name="whiten")
    x = first(mi.tensor)
    x = keras.layers.Activation("gelu", name="whiten_gelu")(x)
    for i, filters in enumerate(widths, start=1):
        x = _conv_group(x, int(filters), batchnorm_momentum, dirac, f"block{i}")
    if include_top:
        # the reference's MaxPool2d(3) on the 3x3 map that is left at 32x32: a global max-pool
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
        x = keras.layers.Dense(int(classes), use_bias=False,
                               kernel_initializer=torch_default_init(), name="predictions")(x)
        x = keras.layers.Rescaling(logit_scale, name="logit_scale")(x)
        x = keras.layers.Activation(classifier_activation, name="classifier_activation")(x)
    return finish_model(x, mi, include_top=include_top, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, weights=weights,
                        name=name or "airbench94", head_built=True)
