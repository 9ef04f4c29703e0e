"""A TFDS dataset as the streamed pipeline's source (`streaming.open_tfds`,
`tfds_images.TfdsSplit`): a small image dataset prepared here, offline, by a TFDS builder of
our own, read through the same `tfds.builder(name, data_dir)` path as imagenette or
imagenet2012; downloading is the real TFDS call, checked with a stand-in."""

import numpy as np
import pytest
import tensorflow as tf

from cnn_keras.data import streaming
from cnn_keras.data.dataset import DataNotFoundError
from cnn_keras.data.tfds_images import TfdsSplit, tfds_split

tfds = pytest.importorskip("tensorflow_datasets")

MEAN, STD = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)


class CnnKerasFakeImages(tfds.core.GeneratorBasedBuilder):
    """12 training and 5 validation JPEGs of 3 classes; image k's red value is 20 * k, so a
    crop of it says which record it was."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(None, None, 3), encoding_format="png"),
            "label": tfds.features.ClassLabel(names=["cat", "dog", "fox"])}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(12, 0),
                "validation": self._generate_examples(5, 12)}

    def _generate_examples(self, n, first):
        for k in range(first, first + n):
            image = np.zeros((40 + k % 3 * 8, 48, 3), np.uint8)
            image[..., 0] = 20 * (k % 12)
            yield k, {"image": image, "label": k % 3}


NAME = "cnn_keras_fake_images"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfds")
    CnnKerasFakeImages(data_dir=str(root)).download_and_prepare()
    return str(root)


def _red(batch) -> list[int]:
    return [int(round(float(np.mean(im[..., 0])) * 255 / 20)) for im in batch[0].numpy()]


def _train(split, **kw):
    kw = {"batch_size": 4, "seed": 0, "epochs": 2, "size": 32, "mean": MEAN, "std": STD,
          "augmentation": "inception_crop", **kw}
    return streaming.train_dataset(split, **kw)


def test_open_tfds_reads_the_splits_and_their_classes(data_dir):
    data = streaming.open_tfds(NAME, size=32, data_dir=data_dir, mean=MEAN, std=STD)
    assert isinstance(data.train, TfdsSplit) and (len(data.train), len(data.test)) == (12, 5)
    assert data.class_names == ("cat", "dog", "fox") and data.test.split == "validation"
    assert data.describe()["name"] == "TFDS (streamed)"
    assert data.describe()["source"] == f"tfds:{NAME}"


def test_an_epoch_visits_every_record_once_seeded_and_resumable(data_dir):
    tf.random.set_seed(0)  # as keras.utils.set_random_seed(0) leaves it: must not matter
    split = tfds_split(NAME, "train", data_dir=data_dir)
    batches = list(_train(split))
    assert len(batches) == 2 * 3 and batches[0][0].shape == (4, 32, 32, 3)
    first, second = ([i for b in batches[e * 3:(e + 1) * 3] for i in _red(b)] for e in (0, 1))
    assert sorted(first) == sorted(second) == list(range(12))  # none twice, none skipped
    assert first != second
    labels = np.concatenate([b[1].numpy() for b in batches[:3]])
    assert labels.tolist() == [k % 3 for k in first]
    again = [b[0].numpy() for b in _train(split)]
    resumed = [b[0].numpy() for b in _train(split, initial_epoch=1)]
    other = [b[0].numpy() for b in _train(split, seed=1)]
    assert all(np.array_equal(a, b[0].numpy()) for a, b in zip(again, batches))
    assert all(np.array_equal(a, b) for a, b in zip(again[3:], resumed))
    assert not all(np.array_equal(a, b) for a, b in zip(again, other))


def test_process_shares_and_evaluation_in_order(data_dir):
    split = tfds_split(NAME, "train", data_dir=data_dir)
    whole = [b[0].numpy() for b in _train(split)]
    halves = [[b[0].numpy() for b in _train(split, shard=(i, 2))] for i in (0, 1)]
    for step, batch in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([halves[0][step], halves[1][step]]),
                                      batch[[0, 2, 1, 3]])
    val = tfds_split(NAME, "val", data_dir=data_dir)  # "val" is TFDS's "validation"
    ds = streaming.eval_dataset(val, batch_size=4, size=32, resize=36, mean=MEAN, std=STD)
    assert [len(b[1]) for b in ds] == [4, 1]
    mean, std = streaming.channel_stats(val)
    assert mean[1] == mean[2] == 0.0 and std[1] == 0.0


def test_missing_or_wrong_datasets_are_one_line_errors(data_dir, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"`name` must be a TensorFlow Datasets.*no_such"):
        tfds_split("no_such_dataset_here", "train")
    with pytest.raises(ValueError, match=r"`split` must be one of \['train', 'validation'\]"):
        tfds_split(NAME, "test", data_dir=data_dir)
    with pytest.raises(DataNotFoundError, match="not prepared.*download=True"):
        tfds_split(NAME, "train", data_dir=str(tmp_path))
    prepared = []  # download=True calls TFDS's download_and_prepare (stood in for here)
    monkeypatch.setattr(CnnKerasFakeImages, "download_and_prepare",
                        lambda self: prepared.append(self.data_dir))
    with pytest.raises(ValueError, match=r"`split` must be one of \[\]"):  # it made nothing
        tfds_split(NAME, "train", data_dir=str(tmp_path), download=True)
    assert len(prepared) == 1 and prepared[0].startswith(str(tmp_path))

    def manual(self):
        raise AssertionError("Manual directory /x/manual does not exist. Download ...")
    monkeypatch.setattr(CnnKerasFakeImages, "download_and_prepare", manual)
    with pytest.raises(DataNotFoundError, match="downloaded by hand.*Manual directory"):
        tfds_split(NAME, "train", data_dir=str(tmp_path), download=True)


def test_the_pipeline_rejects_other_sources():
    with pytest.raises(ValueError, match="FileList.*TfdsSplit.*Received"):
        streaming.train_dataset(tf.data.Dataset.range(3), batch_size=1, seed=0, epochs=1)
