"""TensorFlow Datasets image-classification splits (``imagenet2012``, ``imagenette``, ...) as a
source for the streamed pipeline (`data.streaming`), beside image folders.

    data = streaming.open_tfds("imagenette", size=224, download=True)

The records are read as TFDS stores them, the images still encoded (``SkipDecoding``), and
decoded only in the pipeline, so memory stays bounded as for a folder. An image folder is
shuffled by a full permutation of its file list; a TFDS split is a sequence of records, so
epoch ``e`` starts it at a random offset and permutes it within windows of ``shuffle_buffer``
records, both drawn from ``(seed, e)``: the same seed gives the same batches, a resumed run
sees the same epochs, and memory holds one window. TFDS writes a split's records in a shuffled
order already, so the windows need not span it.
ImageNet needs its archives downloaded by hand into TFDS's ``manual_dir`` first (TFDS's
`imagenet2012` page says how); imagenette downloads by itself.
"""

from __future__ import annotations

import dataclasses

from cnn_keras.checks import check_int, fail
from cnn_keras.data.dataset import DataNotFoundError

# the folder names of a split, as TFDS names it
_SPLIT_ALIASES = {"val": "validation"}


@dataclasses.dataclass(frozen=True)
class TfdsSplit:
    """One split of a TFDS image-classification dataset with ``image`` and ``label``
    features: what `streaming.train_dataset` and `eval_dataset` read (the interface of
    `streaming.FileList`: records of (key, label), `read(key)` the encoded image)."""

    name: str
    split: str
    data_dir: str | None
    num_examples: int
    class_names: tuple[str, ...]
    shuffle_buffer: int = 10_000

    def __len__(self) -> int:
        return self.num_examples

    @property
    def root(self) -> str:
        return f"tfds:{self.name}"

    def _records(self):
        import tensorflow as tf
        import tensorflow_datasets as tfds

        ds = tfds.builder(self.name, data_dir=self.data_dir).as_dataset(
            self.split, shuffle_files=False, decoders={"image": tfds.decode.SkipDecoding()})
        return ds.map(lambda r: (r["image"], tf.cast(r["label"], tf.int32)))

    def epoch_records(self, order_seed, take: int):
        """The epoch's first `take` records: the split started at an offset drawn from
        `order_seed` (wrapping round), then permuted within windows of `shuffle_buffer`
        records, each window's permutation drawn from `order_seed` too. (Stateless: tf.data's
        own shuffle cannot take a seed computed inside the pipeline once a global seed is 0.)"""
        import tensorflow as tf

        offset = tf.random.stateless_uniform([], order_seed, minval=0, maxval=len(self),
                                             dtype=tf.int64)
        records = self._records()
        rotated = records.skip(offset).concatenate(records.take(offset))

        def permuted(window_index, window):
            seed = tf.random.experimental.stateless_fold_in(order_seed, window_index + 1)
            order = tf.argsort(tf.random.stateless_uniform(tf.shape(window[1]), seed))
            return tf.data.Dataset.from_tensor_slices(
                (tf.gather(window[0], order), tf.gather(window[1], order)))

        return (rotated.batch(self.shuffle_buffer).enumerate().flat_map(permuted).take(take))

    def records_in_order(self):
        return self._records()

    def sample_records(self, images: int, seed: int = 0):
        """The first `images` records (TFDS stores a split shuffled)."""
        return self._records().take(images)

    @staticmethod
    def read(key):
        return key  # the record holds the encoded image itself


def tfds_split(name: str, split: str, *, data_dir=None, download: bool = False,
               shuffle_buffer: int = 10_000) -> TfdsSplit:
    """`split` of TFDS dataset `name` (``"val"`` means ``"validation"``), prepared under
    `data_dir` (TFDS's default when None); ``download=True`` downloads and prepares it first
    where it is missing."""
    import tensorflow_datasets as tfds

    check_int("shuffle_buffer", shuffle_buffer)
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        fail("`name` must be a TensorFlow Datasets image dataset (e.g. 'imagenette', "
             "'imagenet2012').", name=name)
    if not builder.is_prepared():
        _prepare(builder, name, download)
    features = builder.info.features
    if "image" not in features.keys() or not isinstance(
            features["label"] if "label" in features.keys() else None, tfds.features.ClassLabel):
        fail("The TFDS dataset must have `image` and class `label` features.", name=name,
             features=sorted(features.keys()))
    split = _SPLIT_ALIASES.get(split, split)
    if split not in builder.info.splits:
        fail(f"`split` must be one of {sorted(builder.info.splits)} of tfds:{name}.",
             split=split)
    return TfdsSplit(name, split, None if data_dir is None else str(data_dir),
                     builder.info.splits[split].num_examples,
                     tuple(features["label"].names), shuffle_buffer)


def _prepare(builder, name: str, download: bool) -> None:
    if not download:
        raise DataNotFoundError(
            f"tfds:{name} is not prepared in {builder.data_dir}: pass download=True (the CLI "
            f"downloads it), or run `tfds build {name}`. Received: name={name!r}")
    try:
        builder.download_and_prepare()
    except AssertionError as exc:  # TFDS's way of saying the manual download is missing
        raise DataNotFoundError(
            f"tfds:{name} needs its files downloaded by hand first (TFDS's catalogue page of "
            f"{name} says which, and into which manual_dir). TFDS said: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
            ) from None
