"""Folders of class-labelled images (cnn_keras.data.folders): splits, formats, hold-out,
resizing and the errors that name the file."""

import json
import os
import re

import numpy as np
import pytest

from cnn_keras import data as D

from image_files import encode, image_of, make_folder

pytestmark = pytest.mark.usefixtures("isolated")


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


