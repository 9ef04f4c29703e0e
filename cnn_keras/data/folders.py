"""Folders of class-labelled images: `load_image_folder`, and the two decoders every local
source goes through (tf.data in parallel, or Pillow in threads where TensorFlow is missing).

Layout: ``root/train/<class>/*`` and ``root/test/<class>/*`` (or ``root/val/<class>/*``).
Class folders are mapped to labels in sorted name order (for CIFAR-10 that is the TFDS order,
`CIFAR10_CLASSES`). Without a test split, 10% of each training class is held out.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path

import numpy as np

from cnn_keras.data import cache
from cnn_keras.data.dataset import DataNotFoundError, ImageData, _log

try:  # decoding uses tf.data where TensorFlow is installed, Pillow otherwise
    import tensorflow as tf
except ImportError:  # pragma: no cover - exercised on machines without TensorFlow
    tf = None

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

_HOLDOUT_FRACTION = 0.1
_LAYOUT = "<root>/train/<class>/*.jpg|png|... and <root>/test/<class>/* (or <root>/val/<class>/*)"


def load_image_folder(
    root, *, image_size=None, cache_dir=None, verbose: bool = True, seed: int = 0
) -> ImageData:
    """Load a folder of class-labelled images into memory.

    Layout: ``root/train/<class>/*`` (jpg, jpeg, png, bmp or gif) and ``root/test/<class>/*``
    or ``root/val/<class>/*`` with the same class folders. Without test/ or val/, 10% of each
    training class is held out as the test split (chosen with ``seed``; ``source`` says so).
    Labels are class-folder indices in sorted name order; grayscale images become 3-channel.

    Args:
        root: the dataset folder.
        image_size: ``(height, width)`` to resize every image to; required when the images do
            not all have the same size.
        cache_dir: if given, the decoded arrays are cached there (keyed by the files' names,
            sizes and modification times); ``None`` decodes every time.
        verbose: print one short line when decoding.
        seed: seed of the 10% hold-out.

    Raises:
        DataNotFoundError: ``root`` or ``root/train`` is missing.
        ValueError: an empty class folder, an unreadable image, mixed sizes without
            ``image_size``, or test/val class folders that differ from train's.
    """
    return _load_folder(
        Path(root).expanduser(),
        image_size=image_size,
        cache_dir=None if cache_dir is None else cache._resolve_cache_dir(cache_dir),
        verbose=verbose,
        seed=seed,
        require_test=False,
    )


def _list_classes(split_dir: Path) -> dict[str, list[str]]:
    """{class name: sorted image paths} for the class folders of ``split_dir``."""
    classes = sorted(
        e.name for e in os.scandir(split_dir) if e.is_dir() and not e.name.startswith(".")
    )
    if not classes:
        raise ValueError(
            f"{split_dir} has no class folders; expected the layout {_LAYOUT}. "
            f"Received: root={split_dir.parent}"
        )
    listing = {}
    for name in classes:
        folder = split_dir / name
        files = sorted(
            e.name
            for e in os.scandir(folder)
            if e.is_file()
            and not e.name.startswith(".")
            and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS
        )
        if not files:
            raise ValueError(
                f"The class folder {folder} has no images (expected files ending in "
                f"{', '.join(IMAGE_EXTENSIONS)}). Received: class folder={folder}"
            )
        listing[name] = [str(folder / f) for f in files]
    return listing


def _check_image_size(image_size):
    if image_size is None:
        return None
    try:
        h, w = (int(v) for v in image_size)
        ok = h > 0 and w > 0 and len(tuple(image_size)) == 2
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "`image_size` must be None or a pair of positive integers (height, width). "
            f"Received: image_size={image_size!r}"
        )
    return (h, w)


def _load_folder(
    root: Path,
    *,
    image_size,
    cache_dir: Path | None,
    verbose: bool,
    seed: int,
    require_test: bool,
) -> ImageData:
    """`load_image_folder` with a resolved `cache_dir` (None: no cache); `require_test`: a
    missing test/ (or val/) folder is an error instead of a 10% hold-out (CIFAR-10's case)."""
    image_size = _check_image_size(image_size)
    if not root.is_dir():
        raise DataNotFoundError(
            f"The image folder does not exist; expected the layout {_LAYOUT}. Received: root={root}"
        )
    train_dir = root / "train"
    if not train_dir.is_dir():
        raise DataNotFoundError(
            f"{root} has no train/ folder; expected the layout {_LAYOUT}. Received: root={root}"
        )
    train = _list_classes(train_dir)
    class_names = tuple(train)
    eval_dir = next((root / s for s in ("test", "val") if (root / s).is_dir()), None)
    if eval_dir is None and require_test:
        raise DataNotFoundError(
            f"{root} has no test/ (or val/) folder; expected the layout {_LAYOUT}. "
            f"Received: root={root}"
        )
    test = None
    if eval_dir is not None:
        test = _list_classes(eval_dir)
        if tuple(test) != class_names:
            raise ValueError(
                f"The class folders of {eval_dir} must be those of {train_dir} "
                f"({list(class_names)}). Received: {eval_dir.name} classes={list(test)}"
            )
    name = root.resolve().name or "images"
    if eval_dir is not None:
        where = f"{root} (train/, {eval_dir.name}/)"
    else:
        where = f"{root} (train/; test = 10% of train held out per class, seed {seed})"
    npz = None
    if cache_dir is not None:
        key = cache._listing_key(root, image_size, seed, (train, test or {}))
        npz = cache_dir / f"images-{name}-{key}.npz"
        where = f"{where} (cache {cache_dir})"

    def build():
        arrays = _decode_listing(train, test, image_size=image_size, seed=seed, read=None,
                                 display=str, verbose=verbose, what=str(root))
        return ImageData(*arrays, class_names=class_names, source=where, name=name)

    return cache.cached_data(npz, source=where, name=name, verbose=verbose, what="images",
                             build=build)


def _decode_listing(
    train: dict, test: dict | None, *, image_size, seed, read, display, verbose, what
):
    """Decode {class: [files]} listings into (x_train, y_train, x_test, y_test).

    Labels are the classes' positions in ``train``. Without ``test``, 10% of each training class
    (at least one image of a class with two or more) is held out at random with ``seed``.
    ``read`` maps a name to its bytes (None: names are file paths); ``display`` turns a name into
    the text used in error messages.
    """

    def flatten(listing):
        names = [f for files in listing.values() for f in files]
        labels = [np.full(len(files), i, np.int32) for i, files in enumerate(listing.values())]
        return names, np.concatenate(labels) if labels else np.zeros(0, np.int32)

    train_names, y_train = flatten(train)
    test_names, y_test = flatten(test or {})
    names = train_names + test_names
    _log(verbose, f"decoding {len(names):,} images from {what}")
    contents = None if read is None else [read(n) for n in names]
    images = _decode_images(names, image_size, contents=contents, display=display)
    x_train, x_test = images[: len(train_names)], images[len(train_names) :]
    if test is None:
        rng = np.random.default_rng(seed)
        held = []
        for label in range(len(train)):
            members = np.flatnonzero(y_train == label)
            k = max(1, round(_HOLDOUT_FRACTION * len(members))) if len(members) > 1 else 0
            held.append(np.sort(rng.permutation(members)[:k]))
        held_idx = np.concatenate(held).astype(np.int64)
        keep = np.ones(len(y_train), dtype=bool)
        keep[held_idx] = False
        x_test, y_test = x_train[held_idx], y_train[held_idx]
        x_train, y_train = x_train[keep], y_train[keep]
    return x_train, y_train, x_test, y_test


def _unreadable(display, name, why) -> ValueError:
    return ValueError(f"Could not read the image file {display(name)} (unreadable or corrupt): "
                      f"{why}. Received: file={display(name)}")


def _mixed_sizes(found: collections.Counter, example: str = "") -> ValueError:
    return ValueError(
        "The images do not all have the same size; pass image_size=(height, width) to resize "
        f"them. Sizes found (HxW: count): {dict(found.most_common(10))}{example}. "
        "Received: image_size=None")


def _decode_one(name: str, content=None, display=str) -> tf.Tensor:
    try:
        data = tf.io.read_file(name) if content is None else tf.constant(content)
        return tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.OpError, ValueError) as e:
        message = getattr(e, "message", str(e)).strip().splitlines()[0]
        raise _unreadable(display, name, message) from None


def _decode_images(names: list[str], image_size, *, contents=None, display=str) -> np.ndarray:
    """Decode images into one uint8 (N, H, W, 3) array, in parallel with tf.data.

    ``names`` are file paths, or just labels for error messages when ``contents`` (the encoded
    bytes of each image) is given.
    """
    if tf is None:
        return _decode_images_pil(names, image_size, contents=contents, display=display)
    n = len(names)
    first = None if contents is None else contents[0]
    if image_size is None:
        expected = tuple(int(d) for d in _decode_one(names[0], first, display).shape[:2])
    else:
        expected = image_size
    shape = (*expected, 3)

    def load(i, item):
        data = tf.io.read_file(item) if contents is None else item
        img = tf.io.decode_image(data, channels=3, expand_animations=False)
        hw = tf.shape(img)[:2]
        same = tf.reduce_all(tf.equal(hw, expected))
        if image_size is None:
            ok = same
            img = tf.cond(same, lambda: img, lambda: tf.zeros(shape, tf.uint8))
        else:
            ok = tf.constant(True)

            def resize():
                out = tf.image.resize(img, expected, antialias=True)
                return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)

            img = tf.cond(same, lambda: img, resize)
        return i, tf.ensure_shape(img, shape), hw, ok

    items = names if contents is None else contents
    ds = (
        tf.data.Dataset.from_tensor_slices((tf.range(n, dtype=tf.int64), items))
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .ignore_errors()
        .batch(2048)
        .prefetch(1)
    )
    out = np.zeros((n, *shape), dtype=np.uint8)
    seen = np.zeros(n, dtype=bool)
    sizes = np.zeros((n, 2), dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    for idx, img, hw, good in ds.as_numpy_iterator():
        out[idx] = img
        seen[idx] = True
        sizes[idx] = hw
        ok[idx] = good
    if not seen.all():
        bad = int(np.flatnonzero(~seen)[0])
        # Raises with the file's name and TF's message.
        _decode_one(names[bad], None if contents is None else contents[bad], display)
        raise ValueError(  # decodes alone but failed in the pipeline: still name it
            f"Could not read the image file {display(names[bad])} ({int((~seen).sum())} "
            f"unreadable file(s) in total). Received: file={display(names[bad])}"
        )
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise _mixed_sizes(
            collections.Counter(f"{h}x{w}" for h, w in sizes),
            f"; e.g. {display(names[bad])} is {sizes[bad][0]}x{sizes[bad][1]}, "
            f"{display(names[0])} is {expected[0]}x{expected[1]}")
    return out


def _decode_images_pil(names, image_size, *, contents=None, display=str) -> np.ndarray:
    """`_decode_images` without TensorFlow (Pillow, in threads): for machines with JAX only."""
    import io
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    def load(i):
        try:
            src = names[i] if contents is None else io.BytesIO(contents[i])
            with Image.open(src) as im:
                im = im.convert("RGB")
                if image_size is not None and im.size != (image_size[1], image_size[0]):
                    im = im.resize((image_size[1], image_size[0]), Image.Resampling.LANCZOS)
                return np.asarray(im, dtype=np.uint8)
        except OSError as e:
            raise _unreadable(display, names[i], e) from None

    with ThreadPoolExecutor(min(16, os.cpu_count() or 1)) as pool:
        images = list(pool.map(load, range(len(names)), chunksize=256))
    sizes = collections.Counter(f"{im.shape[0]}x{im.shape[1]}" for im in images)
    if len(sizes) > 1:
        raise _mixed_sizes(sizes)
    return np.stack(images) if images else np.zeros((0, 1, 1, 3), np.uint8)
