"""Finding and loading CIFAR-10 (cnn_keras.data.cifar10): the lookup order, zips, TFDS, and
the real copy.

Everything runs on small generated images, except `test_real_cifar10` and the JPEG check, which
need the real CIFAR-10 zip through CNN_KERAS_DATA and are skipped without it. No test touches
the network.
"""

import io
import os
import socket
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnn_keras import data as D
from cnn_keras.data import cifar10

from image_files import CLASSES, encode, image_of, make_folder, make_zip

# Read before the `isolated` fixture hides the environment from each test.
REAL_DATA = os.environ.get("CNN_KERAS_DATA")
HAS_REAL_DATA = bool(REAL_DATA) and (
    (Path(REAL_DATA) / D.CIFAR10_ZIP_NAME).is_file() or (Path(REAL_DATA) / "train").is_dir()
)

REAL_PROBE = cifar10._cifar10_host_reachable
pytestmark = pytest.mark.usefixtures("isolated")


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
    make_zip(cifar10._PACKAGE_DATA_DIR / D.CIFAR10_ZIP_NAME, 4, 1)
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
    os.rename(cifar10._PACKAGE_DATA_DIR, isolated / "moved")
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
# TFDS
# --------------------------------------------------------------------------------------------


def test_tfds_mock(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(cifar10, "_cifar10_host_reachable", lambda timeout=3.0: True)
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
    from cnn_keras.data import folders

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again: the cache was not used")

    monkeypatch.setattr(folders, "_decode_images", no_decoding)  # the second load: the cache
    again = D.load_cifar10(source="local", cache_dir=isolated / "real-cache", verbose=False)
    assert np.array_equal(again.x_train, data.x_train)
    assert np.array_equal(again.y_test, data.y_test)



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
