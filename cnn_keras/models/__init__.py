"""One module per paper. Importing this package imports all of them, which registers every
builder (`cnn_keras.registry` does it on first use); `_common` holds what they share."""

from cnn_keras.models import (  # noqa: F401
    airbench,
    alexnet,
    densenet,
    efficientnet,
    googlenet,
    mobilenet,
    resnet,
    vgg,
)
