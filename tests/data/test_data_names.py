"""The packages cnn_keras.data and cnn_keras.augment keep every name of the modules they were,
load layers saved under the old module path, and keep TensorFlow out of the numpy-only parts."""

import ast
import importlib
from pathlib import Path

import keras
import numpy as np
import pytest

from cnn_keras import augment, checks, data
from cnn_keras.augment import cifar

OLD_DATA_NAMES = (
    "CIFAR10_CLASSES", "DataNotFoundError", "ImageData", "NumpyTrainBatches", "PadCropFlip",
    "cifar10_subset", "eval_arrays", "eval_dataset", "load_cifar10", "load_image_folder",
    "pad_crop_flip", "pad_crop_flip_numpy", "per_pixel_mean", "steps_per_epoch",
    "synthetic_dataset", "train_dataset", "CIFAR10_ZIP_NAME", "CIFAR10_HOST", "SOURCES",
    "IMAGE_EXTENSIONS", "tf", "check_low_res",
)
OLD_AUGMENT_NAMES = ("resize_shorter_side", "rgb_color_shift", "rgb_pca", "scale_jitter")


@pytest.mark.parametrize("module, names", [(data, OLD_DATA_NAMES),
                                           (augment, OLD_AUGMENT_NAMES)])
def test_every_old_name_is_still_there(module, names):
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing, f"{module.__name__} lost {missing}"
    assert set(module.__all__) <= set(dir(module))


def test_one_pad_crop_flip_and_one_check_low_res():
    assert data.PadCropFlip is augment.PadCropFlip is cifar.PadCropFlip
    assert data.pad_crop_flip is augment.pad_crop_flip
    assert data.pad_crop_flip_numpy is augment.pad_crop_flip_numpy
    assert data.check_low_res is checks.check_low_res
    assert data.CIFAR10_ZIP_NAME == "cifar10-jpeg.zip" and data.SOURCES == ("auto", "local", "tfds")


def test_a_layer_saved_from_the_old_module_loads():
    """Files saved before the move name the module cnn_keras.data; the registered name is the
    same, so they load, seed included."""
    assert keras.saving.get_registered_object("cnn_keras>PadCropFlip") is cifar.PadCropFlip
    config = {"module": "cnn_keras.data", "class_name": "PadCropFlip",
              "registered_name": "cnn_keras>PadCropFlip",
              "config": {"name": "pad_crop_flip", "pad": 3, "seed": 7, "trainable": True}}
    layer = keras.saving.deserialize_keras_object(config)
    assert isinstance(layer, cifar.PadCropFlip) and (layer.pad, layer.seed) == (3, 7)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)


NUMPY_ONLY = ("cnn_keras.data.dataset", "cnn_keras.data.cache", "cnn_keras.data.arrays",
              "cnn_keras.data.numpy_pipeline", "cnn_keras.augment.cifar")
GUARDED = ("cnn_keras.data.folders", "cnn_keras.data.tf_pipeline", "cnn_keras.augment.imagenet")


def _module_level_tf_imports(name):
    """The module-level imports of tensorflow in `name`, and whether each is in a try block."""
    tree = ast.parse(Path(importlib.import_module(name).__file__).read_text())
    found = []

    def visit(nodes, guarded):
        for node in nodes:
            if isinstance(node, ast.Try):
                visit(node.body, True)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    node.module or ""]
                found.extend(guarded for n in names if n.split(".")[0] == "tensorflow")

    visit(tree.body, False)
    return found


@pytest.mark.parametrize("name", NUMPY_ONLY + GUARDED)
def test_tensorflow_is_optional(name):
    """The numpy pipeline and the layer import no TensorFlow; the tf.data modules import it in
    a try block, so `import cnn_keras.data` works on a machine without it."""
    imports = _module_level_tf_imports(name)
    if name in NUMPY_ONLY:
        assert imports == []
    else:
        assert imports == [True]
