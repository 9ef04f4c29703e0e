"""Training augmentation of the papers.

    cifar.py     the ResNet paper's pad-crop-flip, three ways: tf.data (`pad_crop_flip`),
                 numpy (`pad_crop_flip_numpy`) and a Keras layer (`PadCropFlip`); no TensorFlow
                 needed but for `pad_crop_flip`
    imagenet.py  VGG's scale jittering (`scale_jitter`, `resize_shorter_side`) and AlexNet's
                 PCA colour shift (`rgb_pca`, `rgb_color_shift`), as tf ops

Importing this package does not need TensorFlow; the tf ops need it when called.
"""

from cnn_keras.augment.cifar import PadCropFlip, pad_crop_flip, pad_crop_flip_numpy
from cnn_keras.augment.imagenet import (
    resize_shorter_side,
    rgb_color_shift,
    rgb_pca,
    scale_jitter,
)

__all__ = ["PadCropFlip", "pad_crop_flip", "pad_crop_flip_numpy", "resize_shorter_side",
           "rgb_color_shift", "rgb_pca", "scale_jitter"]
