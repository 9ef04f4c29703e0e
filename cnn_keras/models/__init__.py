"""One module per paper; importing them fills the registry."""

from cnn_keras.models import resnet  # noqa: F401
