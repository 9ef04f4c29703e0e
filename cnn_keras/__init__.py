"""cnn_keras: the landmark CNN papers as exact Keras 3 functional-API builders.

    import cnn_keras
    cnn_keras.list_models()
    model = cnn_keras.build("resnet20")          # or cnn_keras.resnet20()
"""

import os

# TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX-512 VNNI/BF16 or AMX.
# Elsewhere (AVX2-only CPUs: most laptops, AMD Zen 2/3 servers) its own kernels train ResNet-20
# at about half the speed: 132 vs 248 images/s for `cnn-keras train` on 2 AMD EPYC (Zen 3)
# cores, results/bench/cpu_compare-resnet20-2core-avx2.log. It must be set before TensorFlow is
# imported; an explicit TF_ENABLE_ONEDNN_OPTS=0 is respected.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from cnn_keras import models  # noqa: F401  (imports every model module: fills the registry)
from cnn_keras.models.densenet import densenet, densenet_cifar, densenet_imagenet
from cnn_keras.models.efficientnet import compound_coefficients, efficientnet_imagenet
from cnn_keras.models.googlenet import (
    compile_with_aux,
    inception_module_cost,
    inception_v1,
    strip_aux,
)
from cnn_keras.models.resnet import resnet, resnet_cifar, resnet_imagenet
from cnn_keras.models.vgg import preinitialize, vgg
from cnn_keras.registry import build, get_builder, list_models
from cnn_keras.transfer import transfer_weights

__version__ = "0.1.0"

# Every registered variant is also a function of the package: cnn_keras.resnet20(), ...
globals().update({_name: get_builder(_name) for _name in list_models()})

__all__ = ["build", "get_builder", "list_models", "transfer_weights", "resnet", "resnet_cifar",
           "resnet_imagenet", "inception_v1", "compile_with_aux", "strip_aux",
           "inception_module_cost", "vgg", "preinitialize", "densenet", "densenet_cifar",
           "densenet_imagenet", "efficientnet_imagenet", "compound_coefficients", *list_models()]
