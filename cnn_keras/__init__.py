"""cnn_keras: the landmark CNN papers as exact Keras 3 functional-API builders.

    import cnn_keras
    cnn_keras.list_models()
    model = cnn_keras.build("resnet20")          # or cnn_keras.resnet20()

Where things are:
    cnn_keras.models.<paper>   one module per paper (alexnet, vgg, googlenet, resnet, densenet,
                               mobilenet, efficientnet; airbench for the speed chapter): the
                               architecture tables, a family builder and one registered
                               function per variant.
    cnn_keras.speedrun         airbench94's speedrun recipe and its training loop.
    cnn_keras.registry         name -> builder: build, list_models, get_builder, model_info.
    cnn_keras.layers           the custom layers (LRN, ResNet's option-A shortcut, patch
                               whitening).
    cnn_keras.analysis         parameter counts, multiply-adds, receptive fields.
    cnn_keras.transfer         weight copies between architectures (keras.applications -> ours).
    cnn_keras.load_model       keras.models.load_model for files that hold this package's layers.

`import cnn_keras` is light and changes nothing: it imports neither Keras nor TensorFlow and sets
no environment variable. The builders below are loaded on first access (PEP 562), and the
registry imports the model modules the first time it is asked for a name.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from cnn_keras.registry import build, get_builder, list_models, model_info

__version__ = "0.1.0"

if TYPE_CHECKING:  # what the lazy attributes below resolve to, for type checkers and IDEs
    from cnn_keras.models.airbench import airbench94
    from cnn_keras.models.alexnet import alexnet, alexnet_cifar, alexnet_fig1
    from cnn_keras.models.densenet import (
        densenet,
        densenet40,
        densenet121,
        densenet161,
        densenet169,
        densenet201,
        densenet264,
        densenet_bc,
        densenet_cifar,
        densenet_imagenet,
    )
    from cnn_keras.models.efficientnet import (
        compound_coefficients,
        efficientnet,
        efficientnet_b0,
        efficientnet_b1,
        efficientnet_b2,
        efficientnet_b3,
        efficientnet_b4,
        efficientnet_b5,
        efficientnet_b6,
        efficientnet_b7,
        efficientnet_cifar,
        efficientnet_imagenet,
    )
    from cnn_keras.models.googlenet import (
        compile_with_aux,
        googlenet,
        googlenet_cifar,
        inception_module_cost,
        inception_v1,
        strip_aux,
    )
    from cnn_keras.models.mobilenet import mobilenet, mobilenet_cifar
    from cnn_keras.models.resnet import (
        plain20,
        plain32,
        plain44,
        plain56,
        plain110,
        resnet,
        resnet18,
        resnet20,
        resnet32,
        resnet34,
        resnet44,
        resnet50,
        resnet50v2,
        resnet56,
        resnet101,
        resnet101v2,
        resnet110,
        resnet152,
        resnet152v2,
        resnet1202,
        resnet_cifar,
        resnet_imagenet,
    )
    from cnn_keras.models.vgg import (
        preinitialize,
        vgg,
        vgg11,
        vgg11_lrn,
        vgg13,
        vgg16,
        vgg16_c,
        vgg19,
        vgg_cifar,
    )
    from cnn_keras.saving import load_model
    from cnn_keras.transfer import transfer_weights

# The exported helpers that are not registered models, and the module each lives in. Every
# other lazy name of __all__ is a registered model, found through the registry.
_HELPERS = {
    "resnet": "cnn_keras.models.resnet",
    "resnet_cifar": "cnn_keras.models.resnet",
    "resnet_imagenet": "cnn_keras.models.resnet",
    "inception_v1": "cnn_keras.models.googlenet",
    "compile_with_aux": "cnn_keras.models.googlenet",
    "strip_aux": "cnn_keras.models.googlenet",
    "inception_module_cost": "cnn_keras.models.googlenet",
    "vgg": "cnn_keras.models.vgg",
    "preinitialize": "cnn_keras.models.vgg",
    "densenet": "cnn_keras.models.densenet",
    "densenet_cifar": "cnn_keras.models.densenet",
    "densenet_imagenet": "cnn_keras.models.densenet",
    "efficientnet_imagenet": "cnn_keras.models.efficientnet",
    "compound_coefficients": "cnn_keras.models.efficientnet",
    "transfer_weights": "cnn_keras.transfer",
    "load_model": "cnn_keras.saving",
}

__all__ = [
    # the registry
    "build", "get_builder", "list_models", "model_info",
    # family builders and helpers
    "resnet", "resnet_cifar", "resnet_imagenet", "inception_v1", "compile_with_aux", "strip_aux",
    "inception_module_cost", "vgg", "preinitialize", "densenet", "densenet_cifar",
    "densenet_imagenet", "efficientnet_imagenet", "compound_coefficients", "transfer_weights",
    "load_model",
    # the registered models (cnn_keras.list_models())
    "airbench94",
    "alexnet", "alexnet_cifar", "alexnet_fig1",
    "densenet40", "densenet121", "densenet161", "densenet169", "densenet201", "densenet264",
    "densenet_bc",
    "efficientnet", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_cifar",
    "googlenet", "googlenet_cifar",
    "mobilenet", "mobilenet_cifar",
    "plain20", "plain32", "plain44", "plain56", "plain110",
    "resnet18", "resnet20", "resnet32", "resnet34", "resnet44", "resnet50", "resnet50v2",
    "resnet56", "resnet101", "resnet101v2", "resnet110", "resnet152", "resnet152v2",
    "resnet1202",
    "vgg11", "vgg11_lrn", "vgg13", "vgg16", "vgg16_c", "vgg19", "vgg_cifar",
]


def __getattr__(name: str):
    """Load an exported builder (or a submodule such as `cnn_keras.models`) on first access."""
    if name in _HELPERS:
        value = getattr(importlib.import_module(_HELPERS[name]), name)
    elif name in __all__:
        value = get_builder(name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
        return importlib.import_module(f"{__name__}.{name}")  # a submodule: cnn_keras.analysis
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
