"""cnn_keras: the landmark CNN papers as exact Keras 3 functional-API builders.

    import cnn_keras
    cnn_keras.list_models()
    model = cnn_keras.build("resnet20")          # or cnn_keras.resnet20()
"""

from cnn_keras import models  # noqa: F401  (fills the registry)
from cnn_keras.models.resnet import *  # noqa: F401,F403
from cnn_keras.models.resnet import resnet, resnet_cifar, resnet_imagenet  # noqa: F401
from cnn_keras.registry import build, get_builder, list_models
from cnn_keras.transfer import transfer_weights

__version__ = "0.1.0"

__all__ = ["build", "get_builder", "list_models", "transfer_weights", "resnet",
           "resnet_cifar", "resnet_imagenet"] + list_models()
