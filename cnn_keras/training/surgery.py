"""Model surgery: the same layers and weights re-wired onto a new input (an augmentation layer
in front, an input of any image size). Both use a functional model's `call` on a new tensor,
which runs its graph layer by layer, so the result is one flat model, not `model` nested as a
single layer, and it keeps the layer names that checkpoints and weight files refer to."""

from __future__ import annotations

import re

import keras
import numpy as np

from cnn_keras.models._common import deep_graph_recursion_limit

def any_image_size(model, shape=(None, None), *, try_size: int | None = None):
    """`model` re-wired onto an input of height and width `shape` (default: any): the same
    layers and weights, under the same name. With `try_size`, the result is first run on one
    blank `try_size` x `try_size` image, and a model whose layers fix the image size (a Flatten
    before Dense layers, as in AlexNet; pooling past 1x1, as in VGG) is a ValueError naming it.
    """
    channels = model.inputs[0].shape[-1]
    inputs = keras.Input((*shape, channels), name=model.inputs[0].name)
    rewired = _rewire(model, inputs, inputs)
    if try_size:
        try:
            rewired(np.zeros((1, try_size, try_size, channels), "float32"), training=False)
        except Exception as e:  # Keras' shape checks, or the backend's kernels
            lines = [ln for ln in re.sub(r"\x1b\[[0-9;]*m", "", str(e)).splitlines()
                     if ln.strip() and not ln.startswith("Exception encountered")]
            raise ValueError(
                f"Progressive resizing needs a model that takes {try_size}x{try_size} images "
                f"(global pooling before its classifier); {model.name!r} fails on them "
                f"({type(e).__name__}: {(lines or [''])[0].strip()[:300]}). "
                f"Received: low_res_size={try_size}") from None
    return rewired


def augment_in_model(model, seed: int | None = None):
    """`model` with `augment.PadCropFlip(seed=seed)` in front: the same layers and weights,
    re-wired behind the augmentation, under the same name. The layer is the identity at
    inference, so the result predicts like `model`; in ``fit`` it augments each batch on the
    device (the ``pipeline="layer"`` of `train`)."""
    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        raise ValueError(f"`model` must be a Keras model with one input. Received: model={model!r}")
    from cnn_keras.augment import PadCropFlip

    inputs = keras.Input(model.inputs[0].shape[1:], name=model.inputs[0].name)
    augmented = PadCropFlip(seed=seed, name="pad_crop_flip")(inputs)
    return _rewire(model, inputs, augmented)


def _rewire(model, inputs, x):
    """`model`'s graph applied to the tensor `x` (computed from `inputs`), under its name."""
    with deep_graph_recursion_limit():  # a functional model's graph is walked recursively
        return keras.Model(inputs, model.call(x), name=model.name)
