"""The recipes' losses on the pipelines' integer labels."""

from __future__ import annotations

import keras
from keras import ops

from cnn_keras.checks import check_rate


@keras.saving.register_keras_serializable(package="cnn_keras")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing ε (Szegedy et al. 2016, Sec. 7):
    the target is ``(1 - ε)·one_hot(y) + ε / K``. Keras' sparse loss has no smoothing and its
    smoothed loss wants one-hot labels; this keeps the pipelines' integer labels.
    `from_logits`: the model outputs logits (``classifier_activation=None``), not probabilities.
    """

    def __init__(self, label_smoothing=0.1, from_logits=False,
                 name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = check_rate("label_smoothing", label_smoothing)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        y_true = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), classes,
                             dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits,
                                                     label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing,
                "from_logits": self.from_logits}


def loss_for(recipe, from_logits: bool = False) -> keras.losses.Loss:
    """`recipe`'s loss: smoothed cross-entropy when it smooths labels, else Keras' sparse one."""
    if recipe.label_smoothing:
        return SmoothedSparseCrossentropy(recipe.label_smoothing, from_logits=from_logits)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)



def from_logits(model_kwargs: dict) -> bool:
    """Whether a registry model built with `model_kwargs` outputs logits
    (``classifier_activation=None`` or "linear"), so that its loss must apply the softmax."""
    return model_kwargs.get("classifier_activation", "softmax") in (None, "linear")
