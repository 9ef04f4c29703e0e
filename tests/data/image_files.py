"""Small generated images, image folders and zips for the tests of cnn_keras.data's sources."""

import io
import zipfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from cnn_keras.data import cifar10, folders

CLASSES = cifar10.CIFAR10_CLASSES


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
    """Wraps folders._decode_images to count how often images are actually decoded."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self._real = folders._decode_images
        monkeypatch.setattr(folders, "_decode_images", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._real(*args, **kwargs)

