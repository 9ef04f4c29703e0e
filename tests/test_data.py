"""Tests of cnn_keras.data: finding and caching data, image folders, subsets and the pipelines.

Everything runs on small generated images, except `test_real_cifar10`, which needs the real
CIFAR-10 zip through CNN_KERAS_DATA and is skipped without it. No test touches the network.
"""

import io
import json
import os
import re
import socket
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from cnn_keras import data as D

# Read before the autouse fixture below hides the environment from each test.
REAL_DATA = os.environ.get("CNN_KERAS_DATA")
HAS_REAL_DATA = bool(REAL_DATA) and (
    (Path(REAL_DATA) / D.CIFAR10_ZIP_NAME).is_file() or (Path(REAL_DATA) / "train").is_dir()
)

CLASSES = D.CIFAR10_CLASSES
REAL_PROBE = D._cifar10_host_reachable


# --------------------------------------------------------------------------------------------
# Helpers and fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real data, cache, TFDS copy or network: every test starts from an empty world."""
    monkeypatch.delenv("CNN_KERAS_DATA", raising=False)
    monkeypatch.setenv("CNN_KERAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(D, "_PACKAGE_DATA_DIR", tmp_path / "package" / "data")
    monkeypatch.setattr(D, "_cifar10_host_reachable", lambda timeout=3.0: False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return tmp_path


def encode(image: np.ndarray, fmt: str) -> bytes:
    if fmt == "png":
        return tf.io.encode_png(image).numpy()
    if fmt in ("jpg", "jpeg"):
        return tf.io.encode_jpeg(image, quality=95).numpy()
    from PIL import Image

    buf = io.BytesIO()
    pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    pil.save(buf, format={"bmp": "BMP", "gif": "GIF"}[fmt])
    return buf.getvalue()


def image_of(value: int, size=(4, 4), channels=3) -> np.ndarray:
    """A recognisable image: every pixel (value, value + 1, value + 2) (or gray ``value``)."""
    pixel = [value % 256, (value + 1) % 256, (value + 2) % 256][:channels]
    return np.broadcast_to(np.array(pixel, np.uint8), (*size, channels)).copy()


def make_folder(root: Path, splits: dict, classes=CLASSES, size=(4, 4), fmt="png") -> dict:
    """root/<split>/<class>/NNNN.<fmt> with ``splits[split]`` images per class.

    Returns {split: (images, labels)} in sorted class/file order.
    """
    out = {}
    for split, per_class in splits.items():
        images, labels = [], []
        for label, cls in enumerate(sorted(classes)):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(per_class):
                img = image_of(10 * label + i + (100 if split != "train" else 0), size)
                (folder / f"{i:04d}.{fmt}").write_bytes(encode(img, fmt))
                images.append(img)
                labels.append(label)
        out[split] = (np.stack(images), np.array(labels, np.int32))
    return out


def make_zip(path: Path, n_train: int, n_test: int, classes=CLASSES, prefix="") -> Path:
    """A zip with the cifar10-jpeg.zip layout (stored, not compressed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for split, n in (("train", n_train), ("test", n_test)):
            zf.writestr(f"{prefix}{split}/", b"")
            for label, cls in enumerate(classes):
                zf.writestr(f"{prefix}{split}/{cls}/", b"")
                for i in range(n):
                    img = image_of(10 * label + i, (4, 4))
                    zf.writestr(f"{prefix}{split}/{cls}/{i:04d}.jpg", encode(img, "jpg"))
    return path


class DecodeCounter:
    """Wraps D._decode_images to count how often images are actually decoded."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self._real = D._decode_images
        monkeypatch.setattr(D, "_decode_images", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._real(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# Finding CIFAR-10
# --------------------------------------------------------------------------------------------


def test_cifar10_classes_are_the_tfds_order():
    assert len(CLASSES) == 10
    assert list(CLASSES) == sorted(CLASSES)
    assert CLASSES[0] == "airplane" and CLASSES[-1] == "truck"


@pytest.mark.parametrize("form", ["folder", "dir_with_zip", "zip_path"])
def test_explicit_data_dir_forms(isolated, form):
    if form == "folder":
        make_folder(isolated / "d", {"train": 2, "test": 1})
        arg = isolated / "d"
    else:
        zip_path = make_zip(isolated / "d" / D.CIFAR10_ZIP_NAME, 2, 1)
        arg = zip_path if form == "zip_path" else zip_path.parent
    data = D.load_cifar10(str(arg), verbose=False)
    assert data.x_train.shape == (20, 4, 4, 3) and data.x_test.shape == (10, 4, 4, 3)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int32
    assert np.array_equal(np.bincount(data.y_train), [2] * 10)
    assert data.class_names == CLASSES
    assert data.name == "cifar10"
    assert str(isolated / "d") in data.source
    # Labels follow the sorted class folders: class k's images were made from value 10 k.
    assert np.all(np.abs(data.x_train[:, 0, 0, 0].astype(int) - 10 * data.y_train) <= 3)


def test_lookup_order(isolated, monkeypatch):
    """data_dir, then CNN_KERAS_DATA, then ./data, then data/ beside the package, then TFDS."""
    explicit = make_zip(isolated / "explicit" / D.CIFAR10_ZIP_NAME, 1, 1).parent
    env = make_zip(isolated / "env.zip", 2, 1)
    cwd_data = Path.cwd() / "data"
    make_folder(cwd_data, {"train": 3, "test": 1})
    make_zip(D._PACKAGE_DATA_DIR / D.CIFAR10_ZIP_NAME, 4, 1)
    monkeypatch.setenv("CNN_KERAS_DATA", str(env))

    def per_class(**kwargs):
        return len(D.load_cifar10(verbose=False, **kwargs).y_train) // 10

    assert per_class(data_dir=explicit) == 1
    assert per_class() == 2
    assert per_class(source="local") == 2
    monkeypatch.delenv("CNN_KERAS_DATA")
    assert per_class() == 3
    os.rename(cwd_data, Path.cwd() / "moved")
    assert per_class() == 4
    os.rename(D._PACKAGE_DATA_DIR, isolated / "moved")
    with pytest.raises(D.DataNotFoundError, match="No local copy"):
        D.load_cifar10(source="local", verbose=False)
    # "auto" falls through to TFDS, which is offline here (the probe is patched to False).
    with pytest.raises(D.DataNotFoundError, match="CNN_KERAS_DATA"):
        D.load_cifar10(verbose=False)


def test_folder_is_preferred_to_zip_in_the_same_dir(isolated):
    make_folder(isolated / "d", {"train": 1, "test": 1})
    make_zip(isolated / "d" / D.CIFAR10_ZIP_NAME, 2, 1)
    assert len(D.load_cifar10(isolated / "d", verbose=False).y_train) == 10


def test_zip_with_layout_inside_one_folder(isolated):
    path = make_zip(isolated / "nested.zip", 1, 1, prefix="cifar10/")
    assert len(D.load_cifar10(path, verbose=False).y_test) == 10


def test_bad_data_dir_and_source(isolated, monkeypatch):
    missing = isolated / "nope"
    with pytest.raises(ValueError, match=rf"data_dir.*Received: data_dir={missing}$") as e:
        D.load_cifar10(missing, verbose=False)
    assert "does not exist" in str(e.value) and D.CIFAR10_ZIP_NAME in str(e.value)
    (isolated / "empty").mkdir()
    with pytest.raises(ValueError, match="has none of these forms"):
        D.load_cifar10(isolated / "empty", verbose=False)
    monkeypatch.setenv("CNN_KERAS_DATA", str(isolated / "empty"))
    with pytest.raises(ValueError, match="Received: CNN_KERAS_DATA="):
        D.load_cifar10(verbose=False)
    with pytest.raises(ValueError, match=r"'auto', 'local', 'tfds'.*Received: source='web'"):
        D.load_cifar10(source="web")
    with pytest.raises(ValueError, match="data_dir"):
        D.load_cifar10(isolated, source="tfds")


def test_wrong_cifar10_classes(isolated):
    make_folder(isolated / "d", {"train": 1, "test": 1}, classes=("cat", "dog"))
    with pytest.raises(ValueError, match="not the CIFAR-10 classes"):
        D.load_cifar10(isolated / "d", verbose=False)
    path = make_zip(isolated / "z.zip", 1, 1, classes=CLASSES[:9])
    with pytest.raises(ValueError, match="not the CIFAR-10 classes"):
        D.load_cifar10(path, verbose=False)


def test_zip_without_the_layout(isolated):
    path = isolated / "flat.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("images/0001.jpg", encode(image_of(1), "jpg"))
    with pytest.raises(ValueError, match="expected layout"):
        D.load_cifar10(path, verbose=False)


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def test_zip_is_decoded_once_and_cached(isolated, monkeypatch, capsys):
    zip_path = make_zip(isolated / "d" / D.CIFAR10_ZIP_NAME, 3, 2)
    counter = DecodeCounter(monkeypatch)
    first = D.load_cifar10(zip_path.parent)
    out = capsys.readouterr().out
    assert "decoding 50 images" in out
    assert counter.calls == 1
    cache = isolated / "cache"  # CNN_KERAS_CACHE
    assert [p.suffix for p in cache.iterdir()] == [".npz"]  # no temp files, nothing unpacked

    start = time.perf_counter()
    second = D.load_cifar10(zip_path.parent)
    assert time.perf_counter() - start < 2.0
    assert counter.calls == 1
    assert len(capsys.readouterr().out.strip().splitlines()) <= 1
    for field in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(first, field), getattr(second, field))
        assert getattr(first, field).dtype == getattr(second, field).dtype
    assert second.class_names == CLASSES and str(cache) in second.source

    # A changed zip (new modification time) is decoded again.
    os.utime(zip_path, ns=(time.time_ns(), time.time_ns() + 10**9))
    D.load_cifar10(zip_path, verbose=False)
    assert counter.calls == 2


def test_cache_dir_argument_wins_over_env(isolated):
    zip_path = make_zip(isolated / "z.zip", 1, 1)
    D.load_cifar10(zip_path, cache_dir=isolated / "mine", verbose=False)
    assert len(list((isolated / "mine").glob("*.npz"))) == 1
    assert not (isolated / "cache").exists()


def test_broken_cache_is_rebuilt(isolated, monkeypatch):
    zip_path = make_zip(isolated / "z.zip", 1, 1)
    D.load_cifar10(zip_path, verbose=False)
    (npz,) = (isolated / "cache").glob("*.npz")
    npz.write_bytes(b"truncated")
    counter = DecodeCounter(monkeypatch)
    data = D.load_cifar10(zip_path, verbose=False)
    assert counter.calls == 1 and data.x_train.shape == (10, 4, 4, 3)
    assert D._read_npz_cache(npz) is not None


def test_interrupted_cache_write_leaves_nothing(isolated, monkeypatch):
    zip_path = make_zip(isolated / "z.zip", 1, 1)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        D.load_cifar10(zip_path, verbose=False)
    assert list((isolated / "cache").iterdir()) == []


def test_image_folder_cache(isolated, monkeypatch):
    make_folder(isolated / "imgs", {"train": 2, "test": 1}, classes=("a", "b"))
    counter = DecodeCounter(monkeypatch)
    first = D.load_image_folder(isolated / "imgs", cache_dir=isolated / "c", verbose=False)
    second = D.load_image_folder(isolated / "imgs", cache_dir=isolated / "c", verbose=False)
    assert counter.calls == 1
    assert np.array_equal(first.x_train, second.x_train) and second.class_names == ("a", "b")
    (isolated / "imgs" / "train" / "a" / "0099.png").write_bytes(encode(image_of(7), "png"))
    third = D.load_image_folder(isolated / "imgs", cache_dir=isolated / "c", verbose=False)
    assert counter.calls == 2 and len(third.y_train) == 5
    D.load_image_folder(isolated / "imgs", verbose=False)  # no cache_dir: always decodes
    assert counter.calls == 3


# --------------------------------------------------------------------------------------------
# TFDS
# --------------------------------------------------------------------------------------------


def test_tfds_mock(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(D, "_cifar10_host_reachable", lambda timeout=3.0: True)
    with tfds.testing.mock_data(num_examples=12):
        data = D.load_cifar10(source="tfds", verbose=False)
        auto = D.load_cifar10(verbose=False)  # nothing local: falls through to TFDS
    for d in (data, auto):
        assert d.x_train.shape == (12, 32, 32, 3) and d.x_test.shape == (12, 32, 32, 3)
        assert d.x_train.dtype == np.uint8 and d.y_train.dtype == np.int32
        assert d.y_test.dtype == np.int32 and d.y_train.shape == (12,)
        assert d.y_train.min() >= 0 and d.y_train.max() < 10
        assert d.source == "tfds:cifar10" and d.class_names == CLASSES


def test_tfds_offline_fails_fast(isolated):
    start = time.perf_counter()
    with pytest.raises(D.DataNotFoundError) as e:
        D.load_cifar10(source="tfds", verbose=False)
    assert time.perf_counter() - start < 15
    message = str(e.value)
    assert "CNN_KERAS_DATA" in message and "data_dir=" in message and "./data" in message
    assert str(isolated / "tfds") in message and D.CIFAR10_HOST[0] in message
    assert isinstance(e.value, FileNotFoundError)


def test_probe_is_bounded(monkeypatch):
    """The real probe (not the patched one), with the socket patched."""

    def refused(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(socket, "create_connection", refused)
    assert REAL_PROBE() is False

    def hangs(*args, **kwargs):
        time.sleep(2)
        raise TimeoutError

    monkeypatch.setattr(socket, "create_connection", hangs)
    start = time.perf_counter()
    assert REAL_PROBE(timeout=0.2) is False
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------------------------
# Image folders
# --------------------------------------------------------------------------------------------


def test_image_folder_with_test_split(isolated):
    made = make_folder(isolated / "pets", {"train": 3, "test": 2}, classes=("dog", "cat"))
    data = D.load_image_folder(isolated / "pets", verbose=False)
    assert data.class_names == ("cat", "dog")
    assert np.array_equal(data.x_train, made["train"][0])
    assert np.array_equal(data.y_train, made["train"][1])
    assert np.array_equal(data.x_test, made["test"][0])
    assert np.array_equal(data.y_test, made["test"][1])
    assert data.name == "pets" and "test/" in data.source
    described = data.describe()
    assert json.loads(json.dumps(described)) == described
    assert described["num_train"] == 6 and described["image_shape"] == [4, 4, 3]
    assert described["classes"] == ["cat", "dog"]


def test_image_folder_val_split_and_formats(isolated):
    root = isolated / "mixed"
    make_folder(root, {"train": 1, "val": 1}, classes=("a", "b"))
    (root / "train" / "a" / "gray.png").write_bytes(encode(image_of(50, channels=1), "png"))
    (root / "train" / "a" / "x.JPEG").write_bytes(encode(image_of(60), "jpg"))
    (root / "train" / "b" / "y.bmp").write_bytes(encode(image_of(70), "bmp"))
    (root / "train" / "b" / "z.gif").write_bytes(encode(image_of(80, channels=1), "gif"))
    (root / "train" / "b" / "notes.txt").write_text("not an image")
    data = D.load_image_folder(root, verbose=False)
    assert "val/" in data.source
    assert data.x_train.shape == (6, 4, 4, 3) and data.x_test.shape == (2, 4, 4, 3)
    assert np.array_equal(np.bincount(data.y_train), [3, 3])
    gray = data.x_train[1]  # sorted: 0000.png, gray.png, x.JPEG
    assert np.all(gray == 50)
    assert np.array_equal(data.x_train[4], image_of(70))  # bmp is lossless


def test_image_folder_holdout(isolated):
    make_folder(isolated / "f", {"train": 20}, classes=("a", "b", "c"))
    data = D.load_image_folder(isolated / "f", verbose=False)
    assert "10% of train held out" in data.source
    assert np.array_equal(np.bincount(data.y_test), [2, 2, 2])
    assert np.array_equal(np.bincount(data.y_train), [18, 18, 18])
    # Held-out images are not in train (the images of a class are all different).
    train_keys = {(label, img.tobytes()) for img, label in zip(data.x_train, data.y_train)}
    assert not any((lab, img.tobytes()) in train_keys for img, lab in zip(data.x_test, data.y_test))
    again = D.load_image_folder(isolated / "f", verbose=False)
    assert np.array_equal(again.x_test, data.x_test)
    other = D.load_image_folder(isolated / "f", verbose=False, seed=1)
    assert not np.array_equal(other.x_test, data.x_test)


def test_image_folder_resize(isolated):
    root = isolated / "sizes"
    make_folder(root, {"train": 1, "test": 1}, classes=("a", "b"))
    (root / "train" / "a" / "big.png").write_bytes(encode(image_of(9, size=(8, 6)), "png"))
    with pytest.raises(ValueError, match=r"image_size.*4x4.*8x6.*Received: image_size=None"):
        D.load_image_folder(root, verbose=False)
    data = D.load_image_folder(root, image_size=(4, 4), verbose=False)
    assert data.x_train.shape == (3, 4, 4, 3)
    assert np.array_equal(data.x_train[1], image_of(9))  # uniform colour survives resizing
    assert np.array_equal(data.x_train[0], image_of(0))  # right size: untouched
    with pytest.raises(ValueError, match="Received: image_size"):
        D.load_image_folder(root, image_size=(4,), verbose=False)


def test_image_folder_errors(isolated):
    with pytest.raises(D.DataNotFoundError, match=r"does not exist.*train/<class>"):
        D.load_image_folder(isolated / "missing", verbose=False)
    (isolated / "no_train").mkdir()
    with pytest.raises(D.DataNotFoundError, match=r"no train/ folder"):
        D.load_image_folder(isolated / "no_train", verbose=False)

    make_folder(isolated / "empty", {"train": 1}, classes=("a", "b"))
    (isolated / "empty" / "train" / "c").mkdir()
    with pytest.raises(ValueError, match=r"empty/train/c has no images"):
        D.load_image_folder(isolated / "empty", verbose=False)

    make_folder(isolated / "corrupt", {"train": 2}, classes=("a", "b"))
    bad = isolated / "corrupt" / "train" / "b" / "0001.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        D.load_image_folder(isolated / "corrupt", verbose=False)

    make_folder(isolated / "classes", {"train": 1, "test": 1}, classes=("a", "b"))
    os.rename(isolated / "classes" / "test" / "b", isolated / "classes" / "test" / "c")
    with pytest.raises(ValueError, match=r"must be those of .*Received: test classes=\['a', 'c'\]"):
        D.load_image_folder(isolated / "classes", verbose=False)


def test_corrupt_first_image_is_named(isolated):
    make_folder(isolated / "c", {"train": 1}, classes=("a", "b"))
    bad = isolated / "c" / "train" / "a" / "0000.png"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=re.escape(f"Could not read the image file {bad}")):
        D.load_image_folder(isolated / "c", verbose=False)


# --------------------------------------------------------------------------------------------
# ImageData
# --------------------------------------------------------------------------------------------


def synthetic(n_per_class=(10, 10, 10), n_test=4, size=(4, 4), seed=0) -> D.ImageData:
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(n, i, np.int32) for i, n in enumerate(n_per_class)])
    x = rng.integers(0, 256, (len(y), *size, 3), dtype=np.uint8)
    y_test = np.repeat(np.arange(len(n_per_class), dtype=np.int32), n_test)
    x_test = rng.integers(0, 256, (len(y_test), *size, 3), dtype=np.uint8)
    names = tuple(f"c{i}" for i in range(len(n_per_class)))
    return D.ImageData(x, y, x_test, y_test, names, "synthetic")


def test_subset_is_balanced_and_deterministic():
    data = synthetic()
    sub = data.subset(12, seed=3)
    assert len(sub.y_train) == 12 and np.array_equal(np.bincount(sub.y_train), [4, 4, 4])
    assert len(sub.y_test) == 12  # num_test=None keeps the whole test split
    again = data.subset(12, seed=3)
    assert np.array_equal(sub.x_train, again.x_train)
    assert not np.array_equal(sub.x_train, data.subset(12, seed=4).x_train)
    # Every subset image comes from the same class in the full data.
    full = {img.tobytes(): label for img, label in zip(data.x_train, data.y_train)}
    assert all(full[img.tobytes()] == label for img, label in zip(sub.x_train, sub.y_train))
    assert len({img.tobytes() for img in sub.x_train}) == 12
    odd = data.subset(14, num_test=6)
    assert sorted(np.bincount(odd.y_train)) == [4, 5, 5]
    assert np.array_equal(np.bincount(odd.y_test), [2, 2, 2])
    assert "subset" in odd.source and odd.describe()["num_train"] == 14
    everything = data.subset(None)
    assert np.array_equal(everything.x_train, data.x_train)


def test_subset_of_imbalanced_classes():
    data = synthetic(n_per_class=(2, 10, 10))
    sub = data.subset(20)
    assert np.array_equal(np.bincount(sub.y_train), [2, 9, 9])


@pytest.mark.parametrize(
    "kwargs",
    [{"num_train": 0}, {"num_train": 31}, {"num_train": -1}, {"num_train": None, "num_test": 13}],
)
def test_subset_errors(kwargs):
    arg = "num_test" if "num_test" in kwargs else "num_train"
    with pytest.raises(ValueError, match=rf"Received: {arg}={kwargs[arg]}$"):
        synthetic().subset(**kwargs)


# --------------------------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------------------------


def test_per_pixel_mean():
    x = np.random.default_rng(0).integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    mean = D.per_pixel_mean(x)
    assert mean.dtype == np.float32 and mean.shape == (5, 6, 3)
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(0) / 255, rtol=1e-6)
    with pytest.raises(ValueError, match="Received: x_uint8.dtype=float32"):
        D.per_pixel_mean(x.astype(np.float32))


def test_pad_crop_flip_windows_and_flips():
    rng = np.random.default_rng(0)
    images = rng.random((400, 6, 5, 2)).astype(np.float32) + 1.0  # nonzero, unlike padding
    out = D.pad_crop_flip(tf.constant(images), tf.constant([1, 2]), pad=2).numpy()
    assert out.shape == images.shape and out.dtype == np.float32
    padded = np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)])
    flips, offsets = 0, set()
    for i in range(len(images)):
        found = [
            (dy, dx, flip)
            for dy in range(5)
            for dx in range(5)
            for flip in (False, True)
            if np.array_equal(
                out[i],
                (lambda w: w[:, ::-1] if flip else w)(padded[i, dy : dy + 6, dx : dx + 5]),
            )
        ]
        assert found, f"output {i} is not a window of the padded image"
        flips += found[0][2]
        offsets.add(found[0][:2])
    assert 0.4 < flips / len(images) < 0.6
    assert len(offsets) == 25  # every offset in [0, 2 pad] on both axes occurs
    again = D.pad_crop_flip(images, [1, 2], pad=2).numpy()
    assert np.array_equal(out, again)
    assert not np.array_equal(out, D.pad_crop_flip(images, [1, 3], pad=2).numpy())


def test_pad_crop_flip_default_pad_and_int64_seed():
    images = tf.random.stateless_uniform([8, 32, 32, 3], seed=[0, 0])
    out = D.pad_crop_flip(images, tf.constant([5, 6], tf.int64))
    assert out.shape == (8, 32, 32, 3)
    # A crop that is not the identity shows the zero padding somewhere.
    fn = tf.function(lambda x, s: D.pad_crop_flip(x, s))
    assert fn(images, tf.constant([5, 6], tf.int64)).shape == (8, 32, 32, 3)


def batches(ds):
    return [(x.numpy(), y.numpy()) for x, y in ds]


def tiny_xy(n=20, size=(4, 4), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, *size, 3), dtype=np.uint8)
    y = np.arange(n, dtype=np.int64) % 7
    return x, y


def test_train_dataset_batches_and_mean():
    x, y = tiny_xy(23)
    mean = D.per_pixel_mean(x)
    ds = D.train_dataset(x, y, batch_size=5, mean=mean, seed=0, epochs=3, augment=False)
    got = batches(ds)
    assert len(got) == 3 * 4 == len(ds) == 3 * D.steps_per_epoch(23, 5)
    lookup = {img.tobytes(): i for i, img in enumerate(x)}
    for epoch in range(3):
        seen = []
        for xb, yb in got[4 * epoch : 4 * epoch + 4]:
            assert xb.shape == (5, 4, 4, 3) and xb.dtype == np.float32 and yb.dtype == np.int32
            for img, label in zip(xb, yb):
                i = lookup[np.rint((img + mean) * 255).astype(np.uint8).tobytes()]  # x/255 - mean
                assert label == y[i]
                seen.append(i)
        assert len(set(seen)) == 20  # a permutation, last partial batch dropped
    assert not np.array_equal(got[0][0], got[4][0])  # epochs are shuffled differently


def test_train_dataset_is_reproducible_and_resumable():
    x, y = tiny_xy(24, size=(6, 6))
    mean = D.per_pixel_mean(x)
    kwargs = dict(batch_size=8, mean=mean, seed=7)
    full = batches(D.train_dataset(x, y, epochs=4, **kwargs))
    assert len(full) == 12
    repeat = batches(D.train_dataset(x, y, epochs=4, **kwargs))
    resumed = batches(D.train_dataset(x, y, epochs=4, initial_epoch=2, **kwargs))
    assert len(resumed) == 6
    for (xa, ya), (xb, yb) in zip(full, repeat):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    for (xa, ya), (xb, yb) in zip(full[6:], resumed):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    other = batches(D.train_dataset(x, y, epochs=1, batch_size=8, mean=mean, seed=8))
    assert not np.array_equal(other[0][0], full[0][0])
    # Augmentation is on: with the same order, augmented batches differ from plain ones.
    plain = batches(D.train_dataset(x, y, epochs=1, augment=False, **kwargs))
    assert np.array_equal(plain[0][1], full[0][1])
    assert not np.array_equal(plain[0][0], full[0][0])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"batch_size": 11}, "Received: batch_size=11"),
        ({"epochs": 2, "initial_epoch": 2}, "Received: epochs=2"),
        ({"epochs": 0}, "Received: epochs=0"),
        ({"y": np.zeros(9, np.int32)}, "Received: len(x)=10, len(y)=9"),
        ({"x": np.zeros((10, 4, 4, 3), np.float32)}, "Received: x.dtype=float32"),
        ({"x": np.zeros((10, 4, 4), np.uint8)}, "Received: x.shape=(10, 4, 4)"),
        ({"y": np.zeros(10, np.float32)}, "Received: y.dtype=float32"),
        ({"mean": np.zeros((5, 5, 3), np.float32)}, "Received: mean.shape=(5, 5, 3)"),
    ],
)
def test_train_dataset_validation(change, message):
    x, y = tiny_xy(10)
    kwargs = dict(x=x, y=y, batch_size=4, mean=D.per_pixel_mean(x), seed=0, epochs=2)
    kwargs.update(change)
    with pytest.raises(ValueError) as e:
        D.train_dataset(**kwargs)
    assert str(e.value).endswith(message)


def test_eval_dataset_keeps_partial_batch():
    x, y = tiny_xy(10)
    mean = D.per_pixel_mean(x)
    got = batches(D.eval_dataset(x, y, batch_size=4, mean=mean))
    assert [len(yb) for _, yb in got] == [4, 4, 2]
    images = np.concatenate([xb for xb, _ in got])
    np.testing.assert_allclose(images, x / np.float32(255.0) - mean, atol=1e-6)
    assert np.array_equal(np.concatenate([yb for _, yb in got]), y)
    assert got[0][0].dtype == np.float32 and got[0][1].dtype == np.int32
    with pytest.raises(ValueError, match="Received: batch_size=0$"):
        D.eval_dataset(x, y, batch_size=0, mean=mean)


def test_steps_per_epoch():
    assert D.steps_per_epoch(50000, 128) == 390
    assert D.steps_per_epoch(10, 10) == 1
    with pytest.raises(ValueError, match="Received: batch_size=11$"):
        D.steps_per_epoch(10, 11)
    with pytest.raises(ValueError, match="Received: batch_size=0$"):
        D.steps_per_epoch(10, 0)


# --------------------------------------------------------------------------------------------
# Real CIFAR-10
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not HAS_REAL_DATA,
    reason="needs real CIFAR-10: set CNN_KERAS_DATA to a folder with cifar10-jpeg.zip "
    "(make test does this when ../shared/data exists)",
)
def test_real_cifar10(isolated, monkeypatch):
    monkeypatch.setenv("CNN_KERAS_DATA", REAL_DATA)
    data = D.load_cifar10(source="local", cache_dir=isolated / "real-cache", verbose=False)
    assert data.x_train.shape == (50000, 32, 32, 3) and data.x_test.shape == (10000, 32, 32, 3)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int32
    assert np.array_equal(np.bincount(data.y_train), [5000] * 10)
    assert np.array_equal(np.bincount(data.y_test), [1000] * 10)
    assert data.class_names == CLASSES
    assert 0.4 < data.x_train.mean() / 255 < 0.55  # real photographs, not blank images
    start = time.perf_counter()
    again = D.load_cifar10(source="local", cache_dir=isolated / "real-cache", verbose=False)
    assert time.perf_counter() - start < 2.0
    assert np.array_equal(again.y_test, data.y_test)


def test_synthetic_dataset_is_balanced_and_deterministic():
    a = D.synthetic_dataset(100, 30, seed=2)
    b = D.synthetic_dataset(100, 30, seed=2)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape == (100, 32, 32, 3) and a.x_train.dtype == np.uint8
    assert np.bincount(a.y_train).tolist() == [10] * 10
    assert "not CIFAR-10" in a.source


# libjpeg's (IJG) base tables, JPEG standard Annex K, in natural (row-major) order
_ANNEX_K_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
                 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
                 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
_ANNEX_K_CHROMA = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                   24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32


def _ijg_table(base, quality):
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (q * scale + 50) // 100)) for q in base]


@pytest.mark.skipif(
    not HAS_REAL_DATA,
    reason="needs real CIFAR-10: set CNN_KERAS_DATA to a folder with cifar10-jpeg.zip "
    "(make test does this when ../shared/data exists)",
)
def test_the_jpeg_copy_is_quality_75_with_colour_at_half_resolution():
    """What the README says of the copy: libjpeg quality 75 and 4:2:0 chroma subsampling, so
    each image's colour is stored at 16x16 (read from the files' own headers)."""
    from PIL import Image, JpegImagePlugin

    path = Path(REAL_DATA) / "cifar10-jpeg.zip"
    if not path.is_file():
        pytest.skip(f"{REAL_DATA} holds unpacked folders, not cifar10-jpeg.zip")
    with zipfile.ZipFile(path) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".jpg"))
        assert len(names) == 60_000
        for name in names[::600]:  # 100 images, every class of both splits
            image = Image.open(io.BytesIO(zf.read(name)))
            assert image.size == (32, 32) and image.mode == "RGB"
            assert JpegImagePlugin.get_sampling(image) == 2, name  # 4:2:0
            tables = image.quantization
            assert list(tables[0]) == _ijg_table(_ANNEX_K_LUMA, 75), name
            assert list(tables[1]) == _ijg_table(_ANNEX_K_CHROMA, 75), name
    assert _ijg_table(_ANNEX_K_LUMA, 50) == _ANNEX_K_LUMA  # quality 50 is the base table
