"""Datasets held in memory as numpy arrays, and the CIFAR-10 input pipeline of the ResNet paper.

    dataset.py         ImageData (+ class-balanced subsets), synthetic_dataset,
                       DataNotFoundError
    cifar10.py         load_cifar10 (the lookup order over its four sources), cifar10_subset
    folders.py         load_image_folder; decoding images (tf.data, or Pillow without TF)
    cache.py           the .npz cache of decoded datasets (keys, atomic writes, its directory)
    arrays.py          what both pipelines share: per_pixel_mean, steps_per_epoch, input checks
    tf_pipeline.py     train_dataset, eval_dataset (tf.data)
    numpy_pipeline.py  NumpyTrainBatches, eval_arrays (numpy, for backends without TensorFlow)
    streaming.py       image folders of any size streamed from their files with the papers'
                       ImageNet augmentations (tf.data): list_folder, train_dataset, ...
    tfds_images.py     TFDS image datasets (imagenette, imagenet2012) as streamed sources

The augmentation itself (`pad_crop_flip`, `pad_crop_flip_numpy`, `PadCropFlip`) lives in
`cnn_keras.augment.cifar` and is re-exported here. Importing this package does not need
TensorFlow (`tf` is then None): the numpy pipeline and the layer work without it.
"""

from cnn_keras.augment.cifar import PadCropFlip, pad_crop_flip, pad_crop_flip_numpy
from cnn_keras.checks import check_low_res  # noqa: F401  (importable from here, as before)
from cnn_keras.data.arrays import per_pixel_mean, steps_per_epoch
from cnn_keras.data.cifar10 import (
    CIFAR10_CLASSES,
    CIFAR10_HOST,  # noqa: F401
    CIFAR10_ZIP_NAME,  # noqa: F401
    SOURCES,  # noqa: F401
    cifar10_subset,
    load_cifar10,
)
from cnn_keras.data.dataset import DataNotFoundError, ImageData, synthetic_dataset
from cnn_keras.data.folders import IMAGE_EXTENSIONS, load_image_folder  # noqa: F401
from cnn_keras.data.numpy_pipeline import NumpyTrainBatches, eval_arrays
from cnn_keras.data.tf_pipeline import eval_dataset, tf, train_dataset  # noqa: F401  (tf)

__all__ = [
    "CIFAR10_CLASSES",
    "DataNotFoundError",
    "ImageData",
    "NumpyTrainBatches",
    "PadCropFlip",
    "cifar10_subset",
    "eval_arrays",
    "eval_dataset",
    "load_cifar10",
    "load_image_folder",
    "pad_crop_flip",
    "pad_crop_flip_numpy",
    "per_pixel_mean",
    "steps_per_epoch",
    "synthetic_dataset",
    "train_dataset",
]
