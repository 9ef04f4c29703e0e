"""The `cnn-keras` command: `parser` (the options and what one value must be), `validate` (how
options relate, checked before any data is loaded), `commands` (`main` and one function per
subcommand). Importing it loads neither Keras nor TensorFlow."""

from cnn_keras.cli.commands import main
from cnn_keras.cli.parser import ABLATION_NAMES

__all__ = ["ABLATION_NAMES", "main"]
