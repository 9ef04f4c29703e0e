"""Loading saved models that hold this package's layers, optimizer, schedules or losses.

Keras finds a custom class of a `.keras` file only once the module that registers it has been
imported, and `import cnn_keras` imports nothing (it must not load TensorFlow before the
applications have set its environment). `load_model` imports them first.
"""

from __future__ import annotations

import importlib

# every module that registers a class with `keras.saving.register_keras_serializable`
SERIALIZABLE_MODULES = ("cnn_keras.layers", "cnn_keras.augment.cifar",
                        "cnn_keras.training.optim", "cnn_keras.training.schedules",
                        "cnn_keras.training.losses")


def register_custom_objects() -> None:
    """Register the package's serializable classes with Keras (importing their modules)."""
    for module in SERIALIZABLE_MODULES:
        importlib.import_module(module)


def load_model(path, **kwargs):
    """`keras.models.load_model(path, **kwargs)` for a model saved with cnn_keras' layers (a
    ResNet's option-A shortcut, LRN, the PadCropFlip augmentation) or compiled with its
    optimizer, schedules or losses, e.g. a checkpoint of `training.train`."""
    import keras

    from cnn_keras.models._common import deep_graph_recursion_limit

    register_custom_objects()
    with deep_graph_recursion_limit():  # rebuilding a deep graph (ResNet-1202) recurses
        return keras.models.load_model(path, **kwargs)
