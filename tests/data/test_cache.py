"""The .npz cache of decoded datasets (cnn_keras.data.cache): one decode, rebuilt when broken,
never left half-written."""

import os
import time

import numpy as np
import pytest

from cnn_keras import data as D
from cnn_keras.data import cache

from image_files import CLASSES, DecodeCounter, encode, image_of, make_folder, make_zip

pytestmark = pytest.mark.usefixtures("isolated")


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
    assert cache._read_npz_cache(npz) is not None


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


