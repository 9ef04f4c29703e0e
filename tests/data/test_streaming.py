"""The streaming image-folder pipeline: listing without decoding, the papers' augmentations,
the epoch guarantees (every file once, same seed same batches, resumable) and bounded memory."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from cnn_keras.data import streaming
from cnn_keras.data.dataset import DataNotFoundError

CLASSES = ("cat", "dog", "fox")
MEAN, STD = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)  # identity normalisation: pixels stay in [0, 1]


def _write(path, image, fmt="png"):
    path.parent.mkdir(parents=True, exist_ok=True)
    encode = tf.io.encode_png if fmt == "png" else tf.io.encode_jpeg
    path.write_bytes(encode(image).numpy())


def _folder(root, per_class=4, val=2):
    """Constant-colour images of mixed sizes: image k of the train split has red value 10 * k,
    so a crop of it still says which file it came from."""
    k = 0
    for split, n in (("train", per_class), ("val", val)):
        for c in CLASSES:
            for i in range(n):
                h, w = (40, 56) if i % 2 else (64, 48)
                image = np.zeros((h, w, 3), np.uint8)
                image[..., 0] = 10 * k if split == "train" else 5
                _write(root / split / c / f"{i:03d}.png", image)
                k += split == "train"
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _folder(tmp_path_factory.mktemp("streaming"))


def _train(files, **kw):
    kw = {"batch_size": 4, "seed": 0, "epochs": 2, "size": 32, "scale_range": (36, 48),
          "mean": MEAN, "std": STD, **kw}
    return streaming.train_dataset(files, **kw)


def _red(batch) -> list[int]:
    """The file index (red / 10) of each image of a batch."""
    return [int(round(float(np.mean(im[..., 0])) * 255 / 10)) for im in batch[0].numpy()]


def test_list_folder_lists_paths_and_labels_without_decoding(folder):
    files = streaming.list_folder(folder, "train")
    assert len(files) == 12 and files.class_names == CLASSES
    assert files.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert files.paths[0].endswith("train/cat/000.png")
    val = streaming.list_folder(folder, "val", class_names=files.class_names)
    assert len(val) == 6


def test_list_folder_errors_name_the_problem(folder, tmp_path):
    with pytest.raises(DataNotFoundError, match="has no test/ folder.*split='test'"):
        streaming.list_folder(folder, "test")
    with pytest.raises(ValueError, match=r"must be the training split's \['cat', 'cow'\]"):
        streaming.list_folder(folder, "val", class_names=("cat", "cow"))
    bad = _folder(tmp_path / "bad")
    (bad / "train" / "dog" / "broken.jpg").write_text("not an image")
    with pytest.raises(ValueError, match="JPEG, PNG, GIF or BMP.*broken.jpg"):
        streaming.list_folder(bad, "train")


def test_an_epoch_visits_every_file_once_in_a_seeded_order(folder):
    files = streaming.list_folder(folder, "train")
    batches = list(_train(files, augmentation="inception_crop", epochs=2))
    assert len(batches) == 2 * 3 and batches[0][0].shape == (4, 32, 32, 3)
    first, second = ([i for b in batches[e * 3:(e + 1) * 3] for i in _red(b)] for e in (0, 1))
    assert sorted(first) == sorted(second) == list(range(12))  # none twice, none skipped
    assert first != second  # a new order each epoch
    labels = np.concatenate([b[1].numpy() for b in batches[:3]])
    assert labels.tolist() == [files.labels[i] for i in first]


@pytest.mark.parametrize("augmentation", streaming.AUGMENTATIONS)
def test_same_seed_same_batches_and_resume_sees_the_same_epoch(folder, augmentation):
    files = streaming.list_folder(folder, "train")
    a = [b[0].numpy() for b in _train(files, augmentation=augmentation, colour="jitter_pca")]
    b = [b[0].numpy() for b in _train(files, augmentation=augmentation, colour="jitter_pca")]
    resumed = [b[0].numpy() for b in _train(files, augmentation=augmentation,
                                            colour="jitter_pca", initial_epoch=1)]
    other = [b[0].numpy() for b in _train(files, augmentation=augmentation, seed=1,
                                          colour="jitter_pca")]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(np.array_equal(x, y) for x, y in zip(a[3:], resumed))
    assert not all(np.array_equal(x, y) for x, y in zip(a, other))


@pytest.mark.parametrize("colour", streaming.COLOURS)
def test_every_colour_distortion_gives_finite_images(folder, colour):
    files = streaming.list_folder(folder, "train")
    images = next(iter(_train(files, colour=colour, epochs=1)))[0].numpy()
    assert images.shape == (4, 32, 32, 3) and np.isfinite(images).all()
    if colour == "none":  # constant images stay constant through crops and flips
        assert np.allclose(images.std(axis=(1, 2)), 0.0, atol=1e-5)


def test_normalisation_is_per_channel_mean_and_std(folder):
    files = streaming.list_folder(folder, "val")
    raw = next(iter(streaming.eval_dataset(files, batch_size=6, resize=36, size=32,
                                           mean=MEAN, std=STD)))[0].numpy()
    norm = next(iter(streaming.eval_dataset(files, batch_size=6, resize=36, size=32)))[0].numpy()
    expected = (raw - np.array(streaming.IMAGENET_MEAN)) / np.array(streaming.IMAGENET_STD)
    np.testing.assert_allclose(norm, expected, atol=1e-5)


def test_eval_is_resize_then_centre_crop_in_file_order(tmp_path):
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 30:50] = 255  # a white band in the middle of a wide image
    for c in CLASSES:
        _write(tmp_path / "val" / c / "0.png", image)
    files = streaming.list_folder(tmp_path, "val")
    x, y = next(iter(streaming.eval_dataset(files, batch_size=8, resize=20, size=20,
                                            mean=MEAN, std=STD)))
    assert x.shape == (3, 20, 20, 3) and y.numpy().tolist() == [0, 1, 2]
    row = x.numpy()[0, 10, :, 0]  # 40x80 -> 20x40, centre 20 columns = columns 10..29
    assert row[10] > 0.99 and row[0] < 0.01 and row[-1] < 0.01


@pytest.mark.parametrize("kw, arg", [
    ({"augmentation": "random_crop"}, "augmentation"),
    ({"colour": "sepia"}, "colour"),
    ({"scale_range": (20, 48)}, "scale_range"),
    ({"area_range": (0.0, 1.0)}, "area_range"),
    ({"batch_size": 13}, "batch_size"),
    ({"epochs": 1, "initial_epoch": 1}, "epochs"),
    ({"std": (1.0, 0.0, 1.0)}, "std"),
    ({"shard": (2, 2)}, "shard"),
    ({"shard": (0, 3)}, "shard"),  # 3 processes cannot share batches of 4
])
def test_bad_arguments_are_one_line_errors(folder, kw, arg):
    files = streaming.list_folder(folder, "train")
    with pytest.raises(ValueError, match=f"`?{arg}`?.*Received"):
        _train(files, **kw)


def test_process_shares_are_the_one_process_batches_and_images(folder):
    """Two processes of a data-parallel run: each decodes only its half of every batch, and
    the halves together are the one-process batch, image for image."""
    files = streaming.list_folder(folder, "train")
    whole = [b[0].numpy() for b in _train(files, augmentation="inception_crop")]
    halves = [[b[0].numpy() for b in _train(files, augmentation="inception_crop",
                                            shard=(i, 2))] for i in (0, 1)]
    assert [h[0].shape for h in halves] == [(2, 32, 32, 3)] * 2
    for step, batch in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([halves[0][step], halves[1][step]]),
                                      batch[[0, 2, 1, 3]])  # every 2nd image from the i-th
    val = streaming.list_folder(folder, "val")  # 6 files: 3 for each process
    shares = [list(streaming.eval_dataset(val, batch_size=4, size=32, resize=36, mean=MEAN,
                                          std=STD, shard=(i, 2))) for i in (0, 1)]
    assert [[len(b[1]) for b in s] for s in shares] == [[2, 1], [2, 1]]


def test_channel_stats_of_constant_images(folder):
    files = streaming.list_folder(folder, "val")
    mean, std = streaming.channel_stats(files)
    assert mean == (round(5 / 255, 4), 0.0, 0.0) and std == (0.0, 0.0, 0.0)


_MEMORY = textwrap.dedent("""
    import json, resource, sys
    import numpy as np, tensorflow as tf
    from cnn_keras.data import streaming
    files = streaming.list_folder(sys.argv[1], "train")
    ds = streaming.train_dataset(files, batch_size=8, seed=0, epochs=1, size=224,
                                 augmentation="scale_jitter", scale_range=(256, 320))
    it = iter(ds)
    next(it)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    batches = 1 + sum(1 for _ in it)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"batches": batches, "growth_mb": (peak - start) / 1024}))
""")


@pytest.mark.slow
def test_memory_stays_bounded_on_a_folder_far_larger_than_a_batch(tmp_path):
    """400 noisy 320x320 JPEGs: one epoch as float32 224x224 batches is 241 MB; streaming
    them holds a few batches, so the peak memory may grow by a small part of that."""
    rng = np.random.default_rng(0)
    for i in range(400):
        image = rng.integers(0, 256, (320, 320, 3), dtype=np.uint8)
        _write(tmp_path / "big" / "train" / f"c{i % 4}" / f"{i:04d}.jpg", image, fmt="jpg")
    out = subprocess.run([sys.executable, "-c", _MEMORY, str(tmp_path / "big")],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    epoch_mb = 400 * 224 * 224 * 3 * 4 / 2**20
    assert result["batches"] == 50
    assert result["growth_mb"] < epoch_mb / 4, result


def test_square_eval_batches_feed_the_papers_multi_crop_test(folder):
    import keras

    from cnn_keras import evaluation

    files = streaming.list_folder(folder, "val")
    ds = streaming.eval_dataset(files, batch_size=4, resize=36, size=32, square=True)
    x, y = next(iter(ds))
    assert x.shape == (4, 36, 36, 3)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    views = {"flip": True, "crops": 5, "crop_size": 32}
    acc = evaluation.tta_accuracy(model, ds, **views)
    probs = np.concatenate([evaluation.predict_tta(model, b[0].numpy(), **views) for b in ds])
    labels = np.concatenate([b[1].numpy() for b in ds])
    assert acc == pytest.approx(evaluation.accuracy(probs, labels))
