"""Image folders of any size (or TFDS image datasets: `open_tfds`, data/tfds_images.py),
streamed: the files are listed, not loaded, and each batch is decoded and augmented on the fly
with the papers' ImageNet augmentations (tf.data).

    files = streaming.list_folder("~/imagenet", "train")        # paths and labels only
    ds = streaming.train_dataset(files, batch_size=256, seed=0, epochs=90,
                                 augmentation="scale_jitter", scale_range=(256, 480))
    val = streaming.eval_dataset(streaming.list_folder("~/imagenet", "val"), batch_size=256)

Memory holds the file list and a few batches in flight, whatever the folder's size (measured in
tests/data/test_streaming.py). Each epoch visits every file once in an order drawn from
``(seed, epoch)`` alone (a full permutation of the file indices, which costs 4 bytes a file;
no bounded shuffle buffer, so no bias towards the files listed first), and every image's
augmentation is drawn from ``(seed, epoch, position)``: the same seed gives the same batches,
and a run resumed at epoch ``e`` sees what an uninterrupted one would.

Augmentations (``augmentation``): ``alexnet_crop`` (AlexNet Sec. 4.1: the shorter side to 256,
the central 256x256, a random 224 crop), ``scale_jitter`` (VGG Sec. 3.1, ResNet Sec. 3.4: the
shorter side to a random S in ``scale_range``, a random crop) and ``inception_crop`` (GoogLeNet
Sec. 6: a patch of a random share ``area_range`` of the area and aspect ratio in [3/4, 4/3],
resized), each with a random horizontal flip; ``colour``: ``pca`` (AlexNet's colour shift),
``jitter_pca`` (fb.resnet.torch's brightness, contrast and saturation jitter, then the PCA
shift; DenseNet), ``photometric`` (Howard's distortions, as TF-Slim's Inception
preprocessing; GoogLeNet) or ``none``. Evaluation: the shorter side resized to ``resize``, the
central ``size`` crop. Images are scaled to [0, 1], then normalised per channel by ``mean`` and
``std`` (ImageNet's by default; `channel_stats` measures a folder's).

Needs TensorFlow (tf.data); without it, use the in-memory CIFAR path (`NumpyTrainBatches`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from cnn_keras.checks import check_choice, check_int, check_number, fail, is_int
from cnn_keras.data.dataset import DataNotFoundError, _log
from cnn_keras.data.folders import _LAYOUT, _list_classes
from cnn_keras.data.tfds_images import TfdsSplit

try:
    import tensorflow as tf
except ImportError:  # pragma: no cover - exercised on machines without TensorFlow
    tf = None

__all__ = ["AUGMENTATIONS", "COLOURS", "FileList", "IMAGENET_MEAN", "IMAGENET_STD",
           "StreamingData", "channel_stats", "eval_dataset", "list_folder", "open_folder",
           "open_tfds", "train_dataset"]

AUGMENTATIONS = ("alexnet_crop", "scale_jitter", "inception_crop")
COLOURS = ("none", "pca", "jitter_pca", "photometric")
# torchvision's and keras.applications' (torch mode) ImageNet statistics, in [0, 1] units
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# the PCA of ImageNet's RGB values as fb.resnet.torch uses it for AlexNet's colour shift
# (columns are the eigenvectors; the values act as standard deviations, see rgb_color_shift)
IMAGENET_PCA_EIGVALS = (0.2175, 0.0188, 0.0045)
IMAGENET_PCA_EIGVECS = ((-0.5675, 0.7192, 0.4009),
                        (-0.5808, -0.0045, -0.8140),
                        (-0.5836, -0.6948, 0.4203))
_PHILOX = "philox"
# the first bytes of the formats tf.io.decode_image reads
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")


@dataclasses.dataclass(frozen=True)
class FileList:
    """One split of an image folder: its image paths, their labels (class-folder indices in
    sorted name order) and the class names."""

    paths: tuple[str, ...]
    labels: np.ndarray
    class_names: tuple[str, ...]
    root: str
    split: str

    def __len__(self) -> int:
        return len(self.paths)

    # What the pipeline reads (`tfds_images.TfdsSplit` has the same): records of (key, label),
    # the key an index into `paths`, read only once a process has taken its share.
    def epoch_records(self, order_seed, take: int):
        """The epoch's first `take` files of a full permutation drawn from `order_seed`."""
        order = tf.argsort(tf.random.stateless_uniform([len(self)], order_seed, alg=_PHILOX))
        return tf.data.Dataset.from_tensor_slices(order[:take]).map(self._with_label)

    def records_in_order(self):
        return tf.data.Dataset.range(len(self)).map(self._with_label)

    def sample_records(self, images: int, seed: int = 0):
        """`images` files drawn at random (all of them when fewer), in file order."""
        pick = np.random.default_rng(seed).choice(len(self), size=min(images, len(self)),
                                                  replace=False)
        return tf.data.Dataset.from_tensor_slices(np.sort(pick)).map(self._with_label)

    def read(self, key):
        return tf.io.read_file(tf.constant(self.paths)[key])

    def _with_label(self, key):
        return key, tf.constant(self.labels)[key]


@dataclasses.dataclass(frozen=True)
class StreamingData:
    """An image folder (or a TFDS dataset) to stream for `training.train`: its training and
    evaluation splits, the image size the model takes, and the per-channel normalisation."""

    train: FileList | TfdsSplit
    test: FileList | TfdsSplit
    size: int = 224
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.train.class_names

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.size, self.size, 3)

    @property
    def num_train(self) -> int:
        return len(self.train)

    def sample(self):
        """(images, labels) of one example's shape, to build a model's training state."""
        return np.zeros((1, *self.input_shape), np.float32), np.zeros((1,), np.int32)

    def describe(self) -> dict:
        kind = "TFDS" if isinstance(self.train, TfdsSplit) else "image folder"
        return {"name": f"{kind} (streamed)", "source": self.train.root,
                "num_train": len(self.train), "num_test": len(self.test),
                "test_split": self.test.split, "image_shape": list(self.input_shape),
                "classes": list(self.class_names), "mean": list(self.mean),
                "std": list(self.std)}


def open_folder(root, *, size: int = 224, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                verify: bool = True) -> StreamingData:
    """`StreamingData` of ``root/train/<class>/*`` and ``root/val/`` (or ``root/test/``)."""
    root = Path(root).expanduser()
    train = list_folder(root, "train", verify=verify)
    split = next((s for s in ("val", "test") if (root / s).is_dir()), None)
    if split is None:
        raise DataNotFoundError(f"{root} has no val/ (or test/) folder to evaluate on; "
                                f"expected the layout {_LAYOUT}. Received: root={root}")
    test = list_folder(root, split, class_names=train.class_names, verify=verify)
    check_int("size", size)
    return StreamingData(train, test, int(size), tuple(mean), tuple(std))


def open_tfds(name: str, *, size: int = 224, data_dir=None, download: bool = False,
              mean=IMAGENET_MEAN, std=IMAGENET_STD, shuffle_buffer: int = 10_000
              ) -> StreamingData:
    """`StreamingData` of TFDS dataset `name`'s ``train`` and ``validation`` splits
    (`tfds_images.tfds_split`: ``download=True`` downloads and prepares it where missing)."""
    from cnn_keras.data.tfds_images import tfds_split

    _require_tensorflow()
    check_int("size", size)
    train, test = (tfds_split(name, split, data_dir=data_dir, download=download,
                              shuffle_buffer=shuffle_buffer) for split in ("train", "validation"))
    return StreamingData(train, test, int(size), tuple(mean), tuple(std))


def _require_tensorflow():
    if tf is None:
        raise ImportError("The streaming image pipeline needs TensorFlow (tf.data): pip install "
                          "tensorflow. Without it, train on CIFAR-10 in memory "
                          "(data.NumpyTrainBatches).")


def list_folder(root, split: str = "train", *, class_names=None, verify: bool = True
                ) -> FileList:
    """The images of ``root/<split>/<class>/*`` without decoding them.

    ``class_names``: the training split's, so that an evaluation split's labels match them (a
    split with other class folders is an error). ``verify`` reads each file's first bytes and
    rejects any that is not a JPEG, PNG, GIF or BMP, naming the first few, so a bad file fails
    here rather than in the middle of an epoch.
    """
    root = Path(root).expanduser()
    split_dir = root / split
    if not split_dir.is_dir():
        raise DataNotFoundError(f"{root} has no {split}/ folder; expected the layout {_LAYOUT}. "
                                f"Received: root={root}, split={split!r}")
    listing = _list_classes(split_dir)
    names = tuple(listing)
    if class_names is not None and names != tuple(class_names):
        fail(f"The class folders of {split_dir} must be the training split's "
             f"{list(class_names)}.", class_folders=list(names))
    paths = tuple(p for name in names for p in listing[name])
    labels = np.concatenate([np.full(len(listing[n]), i, np.int32)
                             for i, n in enumerate(names)])
    if verify:
        _log(len(paths) > 20_000, f"checking the first bytes of {len(paths):,} files in "
             f"{split_dir} (verify=False skips it)")
        _verify(paths)
    return FileList(paths, labels, names, str(root), split)


def _verify(paths) -> None:
    bad = []
    for p in paths:
        with open(p, "rb") as f:
            if not f.read(4).startswith(_MAGIC):
                bad.append(p)
                if len(bad) == 3:
                    break
    if bad:
        fail("Every image must be a JPEG, PNG, GIF or BMP file; these are not (first "
             f"{len(bad)} found).", files=bad)


def _check_common(files: FileList, batch_size, size, mean, std):
    _require_tensorflow()
    if not isinstance(files, (FileList, TfdsSplit)):
        fail("`files` must be a FileList (data.streaming.list_folder) or a TfdsSplit "
             "(data.tfds_images.tfds_split).", files=type(files))
    check_int("batch_size", batch_size)
    check_int("size", size)
    for arg, value in (("mean", mean), ("std", std)):
        if len(tuple(value)) != 3:
            fail(f"`{arg}` must hold one value per RGB channel.", **{arg: value})
    for s in std:
        check_number("std", s, low=0, low_open=True)


def _check_shard(shard, batch_size) -> tuple[int, int]:
    """(index, count) of a process's share of every batch."""
    try:
        index, count = shard
    except (TypeError, ValueError):
        index = count = None
    if not (is_int(index) and is_int(count) and 0 <= index < count
            and batch_size % count == 0):
        fail(f"`shard` must be (process index, process count) with 0 <= index < count and "
             f"the count dividing batch_size ({batch_size}).", shard=shard)
    return int(index), int(count)


def _decode(encoded):
    """uint8 (H, W, 3) from an encoded image (grayscale to 3 channels; a GIF's first frame)."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    return tf.ensure_shape(image, (None, None, 3))


def _normalise(image01, mean, std):
    return (image01 - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)


def _centre_crop(image, size):
    shape = tf.shape(image)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    return image[top:top + size, left:left + size]


def _inception_crop(image, seed, size, area_range):
    box_begin, box_size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), tf.zeros([1, 0, 4]), seed, min_object_covered=0.0,
        aspect_ratio_range=(3 / 4, 4 / 3), area_range=area_range, max_attempts=10,
        use_image_if_no_bounding_boxes=True)
    patch = tf.slice(image, box_begin, box_size)
    return tf.image.resize(tf.cast(patch, tf.float32), (size, size), antialias=True)


def _crop(image, seed, augmentation, size, scale_range, area_range):
    """float32 (size, size, 3) in [0, 255]: the random crop of `augmentation`."""
    from cnn_keras.augment.imagenet import resize_shorter_side, scale_jitter

    if augmentation == "inception_crop":
        return _inception_crop(image, seed, size, area_range)
    if augmentation == "alexnet_crop":
        square = _centre_crop(resize_shorter_side(image, scale_range[0]), scale_range[0])
        return tf.image.stateless_random_crop(square, (size, size, 3), seed)
    return scale_jitter(image, seed, scale_range[0], scale_range[1], crop=size)


def _colour(image01, seed, colour):
    """`colour`'s distortion of a [0, 1] image (float32)."""
    from cnn_keras.augment.imagenet import rgb_color_shift

    if colour == "none":
        return image01
    seeds = tf.random.experimental.stateless_split(seed, 5, alg=_PHILOX)
    if colour in ("jitter_pca", "photometric"):  # the ranges of fb.resnet.torch / TF-Slim
        strong = colour == "jitter_pca"
        image01 = tf.image.stateless_random_brightness(
            image01, 0.4 if strong else 32 / 255, seeds[0])
        low, high = (0.6, 1.4) if strong else (0.5, 1.5)
        image01 = tf.image.stateless_random_contrast(image01, low, high, seeds[1])
        image01 = tf.image.stateless_random_saturation(image01, low, high, seeds[2])
        if not strong:
            image01 = tf.image.stateless_random_hue(image01, 0.2, seeds[3])
        image01 = tf.clip_by_value(image01, 0.0, 1.0)
    if colour in ("pca", "jitter_pca"):
        image01 = rgb_color_shift(image01, seeds[4], np.array(IMAGENET_PCA_EIGVALS, np.float32),
                                  np.array(IMAGENET_PCA_EIGVECS, np.float32))
    return image01


def train_dataset(files: FileList, *, batch_size: int, seed: int, epochs: int,
                  initial_epoch: int = 0, size: int = 224,
                  augmentation: str = "scale_jitter", scale_range=(256, 480),
                  area_range=(0.08, 1.0), colour: str = "none",
                  mean=IMAGENET_MEAN, std=IMAGENET_STD, shard=(0, 1)):
    """Training batches for epochs ``initial_epoch .. epochs - 1``: float32 (B, size, size, 3)
    images, augmented and normalised, and int32 (B,) labels; ``len(files) // batch_size``
    batches an epoch (the last partial one dropped), epoch ``e`` drawn from ``(seed, e)``.

    ``shard=(i, n)``: process i of a run of n processes reads and decodes only its share,
    batches of B/n whose union over the processes is the one-process run's batch of B (each
    image's augmentation is drawn from its position, so it is the same image too)."""
    _check_common(files, batch_size, size, mean, std)
    index, count = _check_shard(shard, batch_size)
    check_choice("augmentation", augmentation, AUGMENTATIONS)
    check_choice("colour", colour, COLOURS)
    if not is_int(seed):
        fail("`seed` must be an integer.", seed=seed)
    check_int("initial_epoch", initial_epoch, minimum=0)
    if not is_int(epochs) or epochs <= initial_epoch:
        fail(f"`epochs` must be an integer greater than `initial_epoch` ({initial_epoch}).",
             epochs=epochs)
    lo, hi = (int(v) for v in scale_range)
    if augmentation != "inception_crop" and not size <= lo <= hi:
        fail(f"`scale_range` must be (low, high) with size ({size}) <= low <= high.",
             scale_range=scale_range)
    if not 0 < area_range[0] <= area_range[1] <= 1:
        fail("`area_range` must be (low, high) with 0 < low <= high <= 1.",
             area_range=area_range)
    n = len(files)
    steps = n // batch_size
    if steps == 0:
        fail(f"`batch_size` must be at most the {n} images of {files.split}/.",
             batch_size=batch_size)
    base_seed = tf.constant([int(seed), 0], tf.int64)

    def epoch_order(epoch):
        epoch_seed = tf.random.experimental.stateless_fold_in(base_seed, epoch, alg=_PHILOX)
        order_seed = tf.random.experimental.stateless_fold_in(epoch_seed, 0, alg=_PHILOX)
        return (files.epoch_records(order_seed, steps * batch_size).enumerate()
                .map(lambda i, record: (epoch_seed, i, *record)))

    def example(epoch_seed, i, key, label):
        image_seed = tf.random.experimental.stateless_fold_in(epoch_seed, i + 1, alg=_PHILOX)
        crop_seed, flip_seed, colour_seed = tf.unstack(
            tf.random.experimental.stateless_split(image_seed, 3, alg=_PHILOX))
        image = _crop(_decode(files.read(key)), crop_seed, augmentation, size, (lo, hi),
                      tuple(area_range))
        image = tf.image.stateless_random_flip_left_right(image / 255.0, flip_seed)
        image = _colour(image, colour_seed, colour)
        return _normalise(tf.ensure_shape(image, (size, size, 3)), mean, std), label

    ds = (tf.data.Dataset.range(int(initial_epoch), int(epochs)).flat_map(epoch_order)
          .shard(count, index)
          .map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
          .batch(batch_size // count, drop_remainder=True))
    return (ds.apply(tf.data.experimental.assert_cardinality((epochs - initial_epoch) * steps))
            .prefetch(tf.data.AUTOTUNE))


def eval_dataset(files: FileList, *, batch_size: int, resize: int = 256, size: int = 224,
                 mean=IMAGENET_MEAN, std=IMAGENET_STD, square: bool = False, shard=(0, 1)):
    """Evaluation batches in file order, the last partial one kept: the shorter side resized
    to `resize`, the central `size` x `size` crop, normalised. ``square=True`` keeps the
    central `resize` x `resize` square instead, for the papers' multi-crop tests
    (`evaluation.tta_accuracy`: AlexNet's 4 corners + centre and their flips).

    ``shard=(i, n)``: process i's share (every n-th file from the i-th, in batches of B/n),
    the last ``len(files) % n`` files left out so that every process has as many batches."""
    from cnn_keras.augment.imagenet import resize_shorter_side

    _check_common(files, batch_size, size, mean, std)
    index, count = _check_shard(shard, batch_size)
    check_int("resize", resize)
    if resize < size:
        fail(f"`resize` must be at least size ({size}).", resize=resize)
    side = resize if square else size

    def example(key, label):
        image = _centre_crop(resize_shorter_side(_decode(files.read(key)), resize), side) / 255.0
        return _normalise(tf.ensure_shape(image, (side, side, 3)), mean, std), label

    usable = len(files) - len(files) % count
    return (files.records_in_order()
            .take(usable).shard(count, index)
            .map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(batch_size // count).prefetch(tf.data.AUTOTUNE))


def channel_stats(files: FileList, *, images: int = 1000, seed: int = 0
                  ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per RGB channel in [0, 1] units over a random sample of `images` files of
    `files` (all of them when fewer): the normalisation to record with a run on a new folder."""
    _require_tensorflow()
    check_int("images", images)
    total, square, count = np.zeros(3), np.zeros(3), 0
    for key, _ in files.sample_records(images, seed):
        pixels = _decode(files.read(key)).numpy().reshape(-1, 3).astype(np.float64) / 255.0
        total += pixels.sum(0)
        square += (pixels ** 2).sum(0)
        count += len(pixels)
    mean = total / count
    std = np.sqrt(np.maximum(square / count - mean ** 2, 0.0))
    return tuple(round(float(v), 4) for v in mean), tuple(round(float(v), 4) for v in std)
