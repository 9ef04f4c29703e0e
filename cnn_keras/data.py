"""Datasets held in memory as numpy arrays, and the CIFAR-10 input pipeline of the ResNet paper.

Finding CIFAR-10
----------------
`load_cifar10()` (``source="auto"``) looks, in this order, for:

1. an explicit ``data_dir`` argument;
2. the directory named by the environment variable ``CNN_KERAS_DATA``;
3. ``./data`` (in the current working directory), then ``data/`` beside the package;
4. otherwise TensorFlow Datasets (``tfds.load("cifar10")``), which downloads on first use.

Each local location (1-3) may have one of three forms: a directory with ``train/<class>/`` (and
``test/<class>/``) image folders, a directory holding ``cifar10-jpeg.zip`` (that layout zipped),
or the path of such a zip itself. ``source="local"`` only looks at 1-3, ``source="tfds"`` only
at 4. An explicit ``data_dir`` (or ``CNN_KERAS_DATA``) that does not have one of the forms is an
error, never silently skipped. When TFDS has no prepared copy and the CIFAR host cannot be
reached, loading fails at once with a `DataNotFoundError` that names the local options, rather
than letting TFDS retry a download for minutes.

The images of a zip are decoded straight from the archive (read once; unpacking 60,000 small
files can take much longer than decoding them) and the decoded arrays are cached as ``.npz`` in a
cache directory (``cache_dir``, else ``CNN_KERAS_CACHE``, else ``~/.cache/cnn_keras``), keyed by
the source's path, size and modification time and written atomically (temporary file +
``os.replace``), so a later load takes a fraction of a second and an interrupted one never
leaves a broken cache. A ``train/<class>/`` folder is cached the same way (keyed by its files'
names, sizes and modification times). Class folders are mapped to labels in sorted name order
(for CIFAR-10 that is the TFDS order, `CIFAR10_CLASSES`).

The pipeline (He et al., 2016, "Deep Residual Learning for Image Recognition", section 4.2)
-------------------------------------------------------------------------------------------
Images are scaled to [0, 1] and the per-pixel mean of the training set is subtracted
(`per_pixel_mean`). For training, "4 pixels are padded on each side, and a 32x32 crop is
randomly sampled from the padded image or its horizontal flip" (`pad_crop_flip`); the padding is
zero *after* mean subtraction, i.e. the mean pixel. Testing uses the single original view.
`train_dataset` draws the order and augmentation of epoch ``e`` from ``(seed, e)`` alone with
stateless random ops, so a run resumed at ``initial_epoch=k`` sees exactly the batches an
uninterrupted run would have seen from epoch ``k`` on. The whole dataset stays in memory as a
uint8 tensor; batches are gathered by index and augmented per batch, vectorised, in parallel.
`NumpyTrainBatches` is the same pipeline without TensorFlow (for Keras on JAX or PyTorch), and
`PadCropFlip` the same augmentation as a Keras layer that runs inside the model, on the device.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import socket
import tempfile
import threading
import zipfile
from pathlib import Path

import keras
import numpy as np
from keras import ops

try:  # the tf.data pipelines need TensorFlow; the numpy ones (for JAX/PyTorch) do not
    import tensorflow as tf
except ImportError:  # pragma: no cover - exercised on machines without TensorFlow
    tf = None

__all__ = [
    "CIFAR10_CLASSES",
    "DataNotFoundError",
    "ImageData",
    "NumpyTrainBatches",
    "PadCropFlip",
    "cifar10_subset",
    "eval_arrays",
    "eval_dataset",
    "load_cifar10",
    "load_image_folder",
    "pad_crop_flip",
    "pad_crop_flip_numpy",
    "per_pixel_mean",
    "steps_per_epoch",
    "synthetic_dataset",
    "train_dataset",
]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

CIFAR10_ZIP_NAME = "cifar10-jpeg.zip"
# Where TFDS downloads CIFAR-10 from; probed before a download is attempted.
CIFAR10_HOST = ("www.cs.toronto.edu", 443)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SOURCES = ("auto", "local", "tfds")

# `data/` beside the package (the repository's data folder in a source checkout).
_PACKAGE_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
_CACHE_VERSION = 1
_HOLDOUT_FRACTION = 0.1
_LAYOUT = "<root>/train/<class>/*.jpg|png|... and <root>/test/<class>/* (or <root>/val/<class>/*)"
_LOCAL_OPTIONS = (
    "pass data_dir=... (a folder with train/<class>/ and test/<class>/ images, a folder holding "
    f"{CIFAR10_ZIP_NAME}, or the path of that zip), set the environment variable CNN_KERAS_DATA "
    f"to such a folder, or put the images or {CIFAR10_ZIP_NAME} in ./data"
)


class DataNotFoundError(FileNotFoundError):
    """No data source could be found (no local copy, and no TFDS copy or network to fetch one)."""


@dataclasses.dataclass
class ImageData:
    """A whole image-classification dataset held in memory as numpy arrays.

    ``x_*`` are uint8 arrays of shape (N, H, W, 3); ``y_*`` int32 labels of shape (N,), indices
    into ``class_names``. ``source`` says in words where the data came from.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    name: str = "images"

    def describe(self) -> dict:
        """A JSON-able summary: name, source, num_train, num_test, image_shape and classes."""
        return {
            "name": self.name,
            "source": self.source,
            "num_train": len(self.x_train),
            "num_test": len(self.x_test),
            "image_shape": [int(d) for d in self.x_train.shape[1:]],
            "classes": list(self.class_names),
        }

    def subset(
        self, num_train: int | None, seed: int = 0, num_test: int | None = None
    ) -> ImageData:
        """A class-balanced random subset: ``num_train`` training and ``num_test`` test examples.

        ``None`` keeps the whole split. Each class gets an equal share (the remainder going to
        randomly chosen classes; a class with too few examples gives its share to the others),
        drawn at random with ``seed``: the same seed gives the same subset. Examples keep their
        original order. Raises ValueError when a number is not positive or exceeds the split.
        """
        rng_train = np.random.default_rng([seed, 0])
        rng_test = np.random.default_rng([seed, 1])
        train_idx = _balanced_indices(self.y_train, num_train, rng_train, "num_train")
        test_idx = _balanced_indices(self.y_test, num_test, rng_test, "num_test")
        parts = []
        if num_train is not None:
            parts.append(f"{len(train_idx)}/{len(self.y_train)} train")
        if num_test is not None:
            parts.append(f"{len(test_idx)}/{len(self.y_test)} test")
        source = self.source
        if parts:
            source = f"{source}; balanced subset {', '.join(parts)}, seed {seed}"
        return ImageData(
            x_train=self.x_train[train_idx],
            y_train=self.y_train[train_idx],
            x_test=self.x_test[test_idx],
            y_test=self.y_test[test_idx],
            class_names=self.class_names,
            source=source,
            name=self.name,
        )


def _balanced_indices(
    y: np.ndarray, num: int | None, rng: np.random.Generator, arg: str
) -> np.ndarray:
    total = len(y)
    if num is None:
        return np.arange(total)
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)):
        raise TypeError(f"`{arg}` must be a positive integer or None. Received: {arg}={num!r}")
    if num <= 0 or num > total:
        raise ValueError(
            f"`{arg}` must be between 1 and the size of the split ({total}). Received: {arg}={num}"
        )
    classes, counts = np.unique(y, return_counts=True)
    # As equal as possible: every class gets min(count, level), the largest level that fits, and
    # what is left goes one each to randomly chosen classes that have more.
    lo, hi = 0, int(counts.max())
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if np.minimum(counts, mid).sum() <= num:
            lo = mid
        else:
            hi = mid - 1
    quota = np.minimum(counts, lo)
    bigger = np.flatnonzero(counts > lo)
    quota[rng.permutation(bigger)[: int(num - quota.sum())]] += 1
    chosen = []
    for cls, q in zip(classes, quota):
        members = np.flatnonzero(y == cls)
        chosen.append(rng.permutation(members)[:q])
    return np.sort(np.concatenate(chosen))


# --------------------------------------------------------------------------------------------
# Finding and loading CIFAR-10
# --------------------------------------------------------------------------------------------


def _log(verbose: bool, message: str) -> None:
    if verbose:
        print(f"[cnn_keras.data] {message}", flush=True)


def _local_form(path: Path) -> tuple[str, Path] | None:
    """("folder", dir) or ("zip", file) when ``path`` has one of the local forms, else None."""
    if path.is_file():
        return ("zip", path) if path.suffix.lower() == ".zip" else None
    if not path.is_dir():
        return None
    train = path / "train"
    if train.is_dir() and any(p.is_dir() for p in train.iterdir()):
        return ("folder", path)
    if (path / CIFAR10_ZIP_NAME).is_file():
        return ("zip", path / CIFAR10_ZIP_NAME)
    return None


_FORMS = (
    "a directory with train/<class>/ (and test/<class>/) image folders, a directory containing "
    f"{CIFAR10_ZIP_NAME}, or the path of that zip"
)


def _find_local_cifar10(data_dir) -> tuple[tuple[str, Path] | None, list[str]]:
    """The first local form in lookup order, and the list of places looked at."""
    searched = []
    if data_dir is not None:
        path = Path(data_dir).expanduser()
        form = _local_form(path)
        if form is None:
            why = "does not exist" if not path.exists() else "has none of these forms"
            raise ValueError(
                f"`data_dir` must be {_FORMS}; it {why}. Received: data_dir={data_dir}"
            )
        return form, searched
    env = os.environ.get("CNN_KERAS_DATA", "")
    if env:
        path = Path(env).expanduser()
        form = _local_form(path)
        if form is None:
            why = "does not exist" if not path.exists() else "has none of these forms"
            raise ValueError(
                f"The environment variable CNN_KERAS_DATA must name {_FORMS}; it {why}. "
                f"Received: CNN_KERAS_DATA={env}"
            )
        return form, searched
    searched.append("CNN_KERAS_DATA (unset)")
    candidates = []
    for path in (Path.cwd() / "data", _PACKAGE_DATA_DIR):
        if path.resolve() not in [c.resolve() for c in candidates]:
            candidates.append(path)
    for path in candidates:
        searched.append(str(path))
        form = _local_form(path)
        if form is not None:
            return form, searched
    return None, searched


def _resolve_cache_dir(cache_dir) -> Path:
    if cache_dir is None:
        cache_dir = os.environ.get("CNN_KERAS_CACHE") or Path.home() / ".cache" / "cnn_keras"
    path = Path(cache_dir).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_cifar10(
    data_dir=None, *, source: str = "auto", cache_dir=None, verbose: bool = True
) -> ImageData:
    """Load CIFAR-10 (50,000 training and 10,000 test 32x32 RGB images) into memory.

    Args:
        data_dir: a directory with ``train/<class>/`` and ``test/<class>/`` images, a directory
            containing ``cifar10-jpeg.zip``, or the path of that zip. ``None`` searches
            ``CNN_KERAS_DATA``, ``./data`` and ``data/`` beside the package, then TFDS.
        source: ``"auto"`` (local, then TFDS), ``"local"`` (local only) or ``"tfds"``.
        cache_dir: where a zip is unpacked and decoded arrays are cached; default
            ``CNN_KERAS_CACHE`` or ``~/.cache/cnn_keras``.
        verbose: print one short line for each slow step (unpacking, decoding).

    Returns:
        An `ImageData` with labels in `CIFAR10_CLASSES` order.

    Raises:
        ValueError: bad ``source``, a ``data_dir`` without any of the forms, or class folders
            that are not the CIFAR-10 classes.
        DataNotFoundError: no source could be found (``source="local"``), or TFDS has no
            prepared copy and the download host cannot be reached.
    """
    if source not in SOURCES:
        raise ValueError(
            f"`source` must be one of {', '.join(repr(s) for s in SOURCES)}. "
            f"Received: source={source!r}"
        )
    if source == "tfds":
        if data_dir is not None:
            raise ValueError(
                "`data_dir` is only used with source='auto' or source='local'. "
                f"Received: data_dir={data_dir}"
            )
        return _load_tfds_cifar10(verbose, searched=None)
    form, searched = _find_local_cifar10(data_dir)
    if form is None:
        if source == "local":
            raise DataNotFoundError(
                f"No local copy of CIFAR-10 was found (looked at: {', '.join(searched)}). "
                f"To use one, {_LOCAL_OPTIONS}."
            )
        return _load_tfds_cifar10(verbose, searched=searched)
    kind, path = form
    cache = _resolve_cache_dir(cache_dir)
    if kind == "zip":
        return _load_cifar10_zip(path, cache, verbose)
    data = _load_folder(
        path, image_size=None, cache_dir=cache, verbose=verbose, seed=0, require_test=True
    )
    _check_cifar10_classes(data.class_names, path)
    data.name = "cifar10"
    return data


def cifar10_subset(num_train, num_test, *, data_dir=None, seed: int = 0, verbose: bool = True,
                   synthetic_fallback: bool = False) -> ImageData:
    """`load_cifar10` reduced to a class-balanced subset (None: all images). With
    `synthetic_fallback` (the experiments' quick smoke runs), a generated stand-in is used, and
    said so, where no CIFAR-10 copy can be found, so they run on any clone."""
    try:
        data = load_cifar10(data_dir, verbose=verbose)
    except DataNotFoundError as exc:
        if not synthetic_fallback:
            raise
        if verbose:
            print(f"No CIFAR-10 found ({str(exc).splitlines()[0]}); using synthetic data.")
        data = synthetic_dataset(num_train or 512, num_test or 256, seed=seed)
    return data.subset(num_train, seed=seed, num_test=num_test)


def _check_cifar10_classes(class_names, where) -> None:
    if tuple(class_names) != CIFAR10_CLASSES:
        raise ValueError(
            f"The class folders in {where} are not the CIFAR-10 classes "
            f"({', '.join(CIFAR10_CLASSES)}). Received: class folders={list(class_names)}"
        )


def _file_key(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _load_cifar10_zip(zip_path: Path, cache: Path, verbose: bool) -> ImageData:
    zip_path = zip_path.resolve()
    st = zip_path.stat()
    # Pillow's JPEG decoder differs from TensorFlow's by a few levels: cache them apart.
    decoder = () if tf is not None else ("pillow",)
    key = _file_key(_CACHE_VERSION, zip_path, st.st_size, st.st_mtime_ns, *decoder)
    npz = cache / f"cifar10-{key}.npz"
    source = f"{zip_path.name} in {zip_path.parent} (cache {cache})"
    arrays = _read_npz_cache(npz)
    if arrays is not None:
        _log(verbose, f"CIFAR-10 from {source}")
        return _data_from_arrays(arrays, source=source, name="cifar10")
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as e:
        raise ValueError(
            f"{zip_path} is not a readable zip file ({e}). Received: {zip_path}"
        ) from None
    with zf:
        train, test = _zip_listing(zf, zip_path)
        _check_cifar10_classes(tuple(train), zip_path)
        if tuple(test) != tuple(train):
            raise ValueError(
                f"The test class folders in {zip_path} must be those of train/ "
                f"({', '.join(train)}). Received: test classes={list(test)}"
            )
        x_train, y_train, x_test, y_test = _decode_listing(
            train,
            test,
            image_size=None,
            seed=0,
            read=zf.read,
            display=lambda member: f"{zip_path}:{member}",
            verbose=verbose,
            what=str(zip_path),
        )
    data = ImageData(x_train, y_train, x_test, y_test, CIFAR10_CLASSES, source, "cifar10")
    _write_npz_atomic(npz, _arrays_of(data))
    return data


def _zip_listing(zf: zipfile.ZipFile, zip_path: Path) -> tuple[dict, dict]:
    """The train and test {class: sorted member names} of a zip with the cifar10-jpeg layout.

    The layout may sit at the top level of the zip or inside one top-level folder; test/ may be
    called val/. Hidden files and folders (``.*``, ``__MACOSX``) are ignored.
    """
    splits: dict[str, dict[str, list[str]]] = {"train": {}, "test": {}, "val": {}}
    prefixes = set()
    for member in zf.namelist():
        parts = member.split("/")
        if member.endswith("/") or parts[0] == "__MACOSX" or len(parts) not in (3, 4):
            continue
        if any(p.startswith(".") for p in parts):
            continue
        if os.path.splitext(parts[-1])[1].lower() not in IMAGE_EXTENSIONS:
            continue
        split, cls = parts[-3], parts[-2]
        if split in splits:
            splits[split].setdefault(cls, []).append(member)
            prefixes.add("/".join(parts[:-3]))
    layout = "train/<class>/*.jpg and test/<class>/*.jpg (at its top level or in one folder)"
    if len(prefixes) > 1:
        raise ValueError(
            f"{zip_path} holds more than one dataset; expected the layout {layout}. "
            f"Received: folders={sorted(prefixes)}"
        )
    train = splits["train"]
    test = splits["test"] or splits["val"]
    if not train or not test:
        raise ValueError(
            f"{zip_path} does not have the expected layout {layout}. "
            f"Received: train classes={sorted(train)}, test classes={sorted(test)}"
        )
    return (
        {c: sorted(train[c]) for c in sorted(train)},
        {c: sorted(test[c]) for c in sorted(test)},
    )


def _arrays_of(data: ImageData) -> dict:
    return {
        "x_train": data.x_train,
        "y_train": data.y_train,
        "x_test": data.x_test,
        "y_test": data.y_test,
        "class_names": np.array(data.class_names, dtype=str),
        "source": np.array(data.source, dtype=str),
    }


def _data_from_arrays(arrays: dict, *, source: str, name: str) -> ImageData:
    return ImageData(
        x_train=arrays["x_train"],
        y_train=arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        class_names=tuple(str(c) for c in arrays["class_names"]),
        source=source,
        name=name,
    )


_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test", "class_names", "source")


def _read_npz_cache(path: Path) -> dict | None:
    """The arrays of a cache file, or None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in _NPZ_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return arrays


def _write_npz_atomic(path: Path, arrays: dict) -> None:
    """Write ``arrays`` to ``path`` via a temporary file in the same directory + os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache may be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _cifar10_host_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the CIFAR-10 download host opens within ``timeout`` seconds.

    Tests monkeypatch this function; it bounds name resolution too by running in a thread.
    """
    result: list[bool] = []

    def attempt():
        try:
            with socket.create_connection(CIFAR10_HOST, timeout=timeout):
                result.append(True)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            result.append(False)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _load_tfds_cifar10(verbose: bool, searched: list[str] | None) -> ImageData:
    import tensorflow_datasets as tfds

    # Read at call time (TFDS reads TFDS_DATA_DIR only once, at import).
    tfds_dir = os.environ.get("TFDS_DATA_DIR") or None
    builder = tfds.builder("cifar10", data_dir=tfds_dir)
    if not builder.is_prepared() and not _cifar10_host_reachable():
        looked = (
            f"No local copy was found (looked at: {', '.join(searched)}), and " if searched else ""
        )
        raise DataNotFoundError(
            f"{looked}TensorFlow Datasets has no prepared cifar10 in {builder.data_dir_root}, and "
            f"the download host {CIFAR10_HOST[0]}:{CIFAR10_HOST[1]} cannot be reached (offline?). "
            f"To use a local copy of CIFAR-10 instead, {_LOCAL_OPTIONS}."
        )
    _log(verbose, "CIFAR-10 from tensorflow_datasets (tfds:cifar10)")
    # Batched here rather than with batch_size=-1, which aborts the process under
    # tfds.testing.mock_data (TF 2.21 / TFDS 4.9.10); the result is the same arrays.
    splits = tfds.load(
        "cifar10",
        split=["train", "test"],
        as_supervised=True,
        shuffle_files=False,
        data_dir=tfds_dir,
    )
    (x_train, y_train), (x_test, y_test) = (_tfds_to_numpy(tfds, ds) for ds in splits)
    return ImageData(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=CIFAR10_CLASSES,
        source="tfds:cifar10",
        name="cifar10",
    )


def _tfds_to_numpy(tfds, ds) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for x, y in tfds.as_numpy(ds.batch(10_000)):
        images.append(x)
        labels.append(y)
    return (
        np.concatenate(images).astype(np.uint8, copy=False),
        np.concatenate(labels).astype(np.int32),
    )


# --------------------------------------------------------------------------------------------
# Image folders
# --------------------------------------------------------------------------------------------


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
    cache = None if cache_dir is None else _resolve_cache_dir(cache_dir)
    return _load_folder(
        Path(root).expanduser(),
        image_size=image_size,
        cache_dir=cache,
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
        h = hashlib.sha256(f"{_CACHE_VERSION}|{root.resolve()}|{image_size}|{seed}".encode())
        for split in (train, test or {}):
            h.update(b"--\n")
            for path in (p for files in split.values() for p in files):
                st = os.stat(path)
                h.update(f"{os.path.relpath(path, root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        npz = cache_dir / f"images-{name}-{h.hexdigest()[:16]}.npz"
        where = f"{where} (cache {cache_dir})"
        arrays = _read_npz_cache(npz)
        if arrays is not None:
            _log(verbose, f"images from {where}")
            return _data_from_arrays(arrays, source=where, name=name)

    arrays = _decode_listing(
        train,
        test,
        image_size=image_size,
        seed=seed,
        read=None,
        display=str,
        verbose=verbose,
        what=str(root),
    )
    data = ImageData(*arrays, class_names=class_names, source=where, name=name)
    if npz is not None:
        _write_npz_atomic(npz, _arrays_of(data))
    return data


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


def _decode_one(name: str, content=None, display=str) -> tf.Tensor:
    try:
        data = tf.io.read_file(name) if content is None else tf.constant(content)
        return tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.OpError, ValueError) as e:
        message = getattr(e, "message", str(e)).strip().splitlines()[0]
        raise ValueError(
            f"Could not read the image file {display(name)} (unreadable or corrupt): {message}. "
            f"Received: file={display(name)}"
        ) from None


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
        found = collections.Counter(f"{h}x{w}" for h, w in sizes)
        bad = int(np.flatnonzero(~ok)[0])
        raise ValueError(
            "The images do not all have the same size; pass image_size=(height, width) to resize "
            f"them. Sizes found (HxW: count): {dict(found.most_common(10))}; e.g. "
            f"{display(names[bad])} is {sizes[bad][0]}x{sizes[bad][1]}, {display(names[0])} is "
            f"{expected[0]}x{expected[1]}. Received: image_size=None"
        )
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
            raise ValueError(
                f"Could not read the image file {display(names[i])} (unreadable or corrupt): "
                f"{e}. Received: file={display(names[i])}"
            ) from None

    with ThreadPoolExecutor(min(16, os.cpu_count() or 1)) as pool:
        images = list(pool.map(load, range(len(names)), chunksize=256))
    sizes = collections.Counter(f"{im.shape[0]}x{im.shape[1]}" for im in images)
    if len(sizes) > 1:
        raise ValueError(
            "The images do not all have the same size; pass image_size=(height, width) to resize "
            f"them. Sizes found (HxW: count): {dict(sizes.most_common(10))}. "
            "Received: image_size=None"
        )
    return np.stack(images) if images else np.zeros((0, 1, 1, 3), np.uint8)


# --------------------------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------------------------


def synthetic_dataset(
    num_train: int = 512, num_test: int = 256, *, num_classes: int = 10, seed: int = 0,
    image_shape=(32, 32, 3),
) -> ImageData:
    """A generated stand-in for CIFAR-10 (for smoke runs where no copy of it exists).

    Class ``c`` is a noisy image whose brightest channel and stripe frequency depend on ``c``,
    so a CNN can learn it, but nothing measured on it says anything about CIFAR-10.
    """
    rng = np.random.default_rng(seed)
    h, w, ch = image_shape

    def make(n):
        y = (np.arange(n) % num_classes).astype("int32")
        rng.shuffle(y)
        x = rng.normal(96, 40, (n, h, w, ch))
        rows = np.arange(h)[None, :, None]
        stripes = 50 * np.sin(rows * (1 + y[:, None, None] // ch) * np.pi / 8)
        x[np.arange(n), :, :, y % ch] += 60 + stripes
        return np.clip(x, 0, 255).astype("uint8"), y

    x_train, y_train = make(num_train)
    x_test, y_test = make(num_test)
    return ImageData(x_train, y_train, x_test, y_test,
                     tuple(f"class{i}" for i in range(num_classes)),
                     source=f"synthetic (generated, seed {seed}); not CIFAR-10", name="synthetic")


def per_pixel_mean(x_uint8) -> np.ndarray:
    """The per-pixel mean image of uint8 images, float32 (H, W, C) in [0, 1] units."""
    x = np.asarray(x_uint8)
    _check_images(x, "x_uint8")
    if len(x) == 0:
        raise ValueError(
            f"`x_uint8` must hold at least one image. Received: x_uint8.shape={x.shape}"
        )
    return (x.mean(axis=0, dtype=np.float64) / 255.0).astype(np.float32)


def _check_images(x: np.ndarray, arg: str) -> None:
    if x.dtype != np.uint8:
        raise ValueError(
            f"`{arg}` must be a uint8 array of images. Received: {arg}.dtype={x.dtype}"
        )
    if x.ndim != 4:
        raise ValueError(
            f"`{arg}` must have rank 4, (N, height, width, channels). "
            f"Received: {arg}.shape={x.shape}"
        )


_PHILOX = "philox"  # fixed algorithm: the same numbers on every device


def pad_crop_flip(images, seed, pad: int = 4):
    """Zero-pad, randomly crop back to the input size, and randomly flip left-right.

    The ResNet paper's CIFAR augmentation, vectorised over the batch: every image gets its own
    offset in ``[0, 2 * pad]`` along each axis and a flip with probability 1/2, drawn with
    stateless random ops from ``seed`` (a shape-[2] integer tensor), so the same seed always
    gives the same output.

    Args:
        images: float tensor (B, H, W, C).
        seed: shape-[2] int32/int64 tensor (or list).
        pad: pixels of zero padding on each side.

    Returns:
        A tensor of the same shape and dtype as ``images``.
    """
    images = tf.convert_to_tensor(images)
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer:
        raise ValueError(f"`seed` must be a shape-[2] integer tensor. Received: seed={seed}")
    seed = tf.cast(seed, tf.int64)
    if images.shape.rank is not None and images.shape.rank != 4:
        raise ValueError(
            f"`images` must have rank 4, (B, H, W, C). Received: images.shape={images.shape}"
        )
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(f"`pad` must be a non-negative integer. Received: pad={pad!r}")
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(seed, 3, alg=_PHILOX)
    offset_y = tf.random.stateless_uniform(
        [batch], seeds[0], minval=0, maxval=2 * pad + 1, dtype=tf.int32, alg=_PHILOX
    )
    offset_x = tf.random.stateless_uniform(
        [batch], seeds[1], minval=0, maxval=2 * pad + 1, dtype=tf.int32, alg=_PHILOX
    )
    flip = tf.random.stateless_uniform([batch], seeds[2], alg=_PHILOX) < 0.5
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    rows = offset_y[:, None] + tf.range(height)[None, :]  # (B, H)
    cols = tf.where(
        flip[:, None],
        offset_x[:, None] + (width - 1 - tf.range(width))[None, :],
        offset_x[:, None] + tf.range(width)[None, :],
    )  # (B, W)
    out = tf.gather(padded, rows, axis=1, batch_dims=1)  # (B, H, W + 2 pad, C)
    out = tf.gather(out, cols, axis=2, batch_dims=1)  # (B, H, W, C)
    return tf.ensure_shape(out, images.shape)


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Full batches per epoch, ``num_examples // batch_size`` (the remainder is dropped).

    Raises ValueError when that is 0 or ``batch_size`` < 1.
    """
    _check_positive_int(batch_size, "batch_size")
    steps = int(num_examples) // int(batch_size)
    if steps < 1:
        raise ValueError(
            f"`batch_size` must not exceed the number of examples ({num_examples}), or an epoch "
            f"has no full batch. Received: batch_size={batch_size}"
        )
    return steps


def _check_positive_int(value, arg: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value!r}")


def _check_xy_mean(x, y, mean):
    x = np.asarray(x)
    y = np.asarray(y)
    _check_images(x, "x")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"`y` must be an integer array of labels. Received: y.dtype={y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"`y` must have rank 1, (N,). Received: y.shape={y.shape}")
    if len(x) != len(y):
        raise ValueError(
            f"`x` and `y` must have the same length. Received: len(x)={len(x)}, len(y)={len(y)}"
        )
    if mean is None:
        mean = np.zeros((), np.float32)
    mean = np.asarray(mean, dtype=np.float32)
    try:
        ok = np.broadcast_shapes(mean.shape, x.shape[1:]) == x.shape[1:]
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"`mean` must broadcast to the image shape {x.shape[1:]} (use per_pixel_mean). "
            f"Received: mean.shape={mean.shape}"
        )
    return x, y, mean


def _normalise(xb, mean):
    return tf.cast(xb, tf.float32) / 255.0 - mean


def train_dataset(
    x,
    y,
    *,
    batch_size: int,
    mean,
    seed: int,
    epochs: int,
    initial_epoch: int = 0,
    augment: bool = True,
    low_res_size: int = 0,
    low_res_epochs: int = 0,
) -> tf.data.Dataset:
    """Training batches for epochs ``initial_epoch .. epochs - 1``, reproducible and resumable.

    Yields ``(images, labels)``: float32 (B, H, W, C) images scaled to [0, 1] minus ``mean``
    (augmented with `pad_crop_flip` when ``augment``) and int32 (B,) labels, exactly
    ``(epochs - initial_epoch) * steps_per_epoch(len(x), batch_size)`` batches (the last partial
    batch of each epoch is dropped). Epoch ``e``'s order and augmentation depend only on
    ``(seed, e)``, so a resumed run sees the same batches as an uninterrupted one. With Keras,
    pass ``epochs``, ``initial_epoch`` and ``steps_per_epoch=steps_per_epoch(len(x), batch_size)``
    to ``fit``.

    Args:
        x: uint8 images (N, H, W, C); kept in memory as a tensor.
        y: integer labels (N,).
        batch_size: examples per batch, 1 .. N.
        mean: per-pixel mean in [0, 1] units (see `per_pixel_mean`), broadcastable to (H, W, C).
        seed: integer seed.
        epochs: index of the epoch to stop before (as in Keras ``fit``).
        initial_epoch: first epoch to produce.
        augment: apply the pad-crop-flip augmentation.
        low_res_size, low_res_epochs: progressive resizing. Epochs ``0 .. low_res_epochs - 1``
            yield their (augmented) images resized to ``low_res_size`` x ``low_res_size``
            (bilinear, antialiased); the later epochs keep the full size. 0, 0: never.
    """
    x, y, mean = _check_xy_mean(x, y, mean)
    n = len(x)
    _check_positive_int(batch_size, "batch_size")
    if batch_size > n:
        raise ValueError(
            f"`batch_size` must be at most the number of examples ({n}). "
            f"Received: batch_size={batch_size}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"`seed` must be an integer. Received: seed={seed!r}")
    for value, arg in ((epochs, "epochs"), (initial_epoch, "initial_epoch")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{arg}` must be a non-negative integer. Received: {arg}={value!r}")
    if epochs <= initial_epoch:
        raise ValueError(
            f"`epochs` must be greater than `initial_epoch` ({initial_epoch}). "
            f"Received: epochs={epochs}"
        )
    check_low_res(low_res_size, low_res_epochs, x.shape[1:3])
    steps = steps_per_epoch(n, batch_size)
    x_t = tf.constant(x)
    y_t = tf.constant(y.astype(np.int32))
    mean_t = tf.constant(mean)
    base_seed = tf.constant([int(seed), 0], dtype=tf.int64)

    def epoch_batches(epoch):
        epoch_seed = tf.random.experimental.stateless_fold_in(base_seed, epoch, alg=_PHILOX)
        order_seed = tf.random.experimental.stateless_fold_in(epoch_seed, 0, alg=_PHILOX)
        order = tf.argsort(tf.random.stateless_uniform([n], order_seed, alg=_PHILOX))
        idx = tf.reshape(order[: steps * batch_size], [steps, batch_size])
        batches = tf.data.Dataset.from_tensor_slices(idx).enumerate()
        return batches.map(lambda b, i: (epoch_seed, b, i))

    def make_batch(epoch_seed, b, idx):
        images = _normalise(tf.gather(x_t, idx), mean_t)
        if augment:
            batch_seed = tf.random.experimental.stateless_fold_in(epoch_seed, b + 1, alg=_PHILOX)
            images = pad_crop_flip(images, batch_seed)
        return images, tf.gather(y_t, idx)

    def batches(first, last, size=None):
        ds = (tf.data.Dataset.range(int(first), int(last)).flat_map(epoch_batches)
              .map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))
        if size:
            ds = ds.map(lambda im, lab: (tf.image.resize(im, (size, size), antialias=True), lab),
                        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds

    switch = min(max(int(low_res_epochs), int(initial_epoch)), int(epochs))
    ds = batches(switch, epochs)
    if switch > initial_epoch:  # the low-resolution epochs first
        ds = batches(initial_epoch, switch, low_res_size).concatenate(ds)
    return (ds.apply(tf.data.experimental.assert_cardinality((epochs - initial_epoch) * steps))
            .prefetch(tf.data.AUTOTUNE))


def check_low_res(low_res_size, low_res_epochs, image_size=None) -> None:
    """ValueError unless (`low_res_size`, `low_res_epochs`) is (0, 0) or a size from 8 up to
    below `image_size` (height, width) with at least one epoch."""
    for value, arg in ((low_res_size, "low_res_size"), (low_res_epochs, "low_res_epochs")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{arg}` must be a non-negative integer. Received: {arg}={value!r}")
    if bool(low_res_size) != bool(low_res_epochs):
        raise ValueError(f"`low_res_size` and `low_res_epochs` must both be 0 (no progressive "
                         f"resizing) or both positive. Received: low_res_size={low_res_size}, "
                         f"low_res_epochs={low_res_epochs}")
    if low_res_size and (low_res_size < 8 or (image_size is not None
                                              and low_res_size >= min(image_size))):
        than = "" if image_size is None else (f" and smaller than the images "
                                              f"({'x'.join(map(str, image_size))})")
        raise ValueError(f"`low_res_size` must be at least 8{than}. "
                         f"Received: low_res_size={low_res_size}")


def eval_dataset(x, y, *, batch_size: int, mean) -> tf.data.Dataset:
    """Evaluation batches in order, without augmentation, keeping the last partial batch.

    Yields float32 images scaled to [0, 1] minus ``mean`` and int32 labels.
    """
    x, y, mean = _check_xy_mean(x, y, mean)
    n = len(x)
    _check_positive_int(batch_size, "batch_size")
    if n == 0:
        raise ValueError(f"`x` must hold at least one image. Received: x.shape={x.shape}")
    x_t = tf.constant(x)
    y_t = tf.constant(y.astype(np.int32))
    mean_t = tf.constant(mean)

    def make_batch(start):
        end = tf.minimum(start + batch_size, n)
        return _normalise(x_t[start:end], mean_t), y_t[start:end]

    return (
        tf.data.Dataset.range(0, n, int(batch_size))
        .map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


# --------------------------------------------------------------------------------------------
# The same pipeline in numpy, for backends without TensorFlow (JAX on a GPU machine)
# --------------------------------------------------------------------------------------------


def _crop_windows(b, h, w, rng, pad):
    """Random pad-crop-flip windows: for each of `b` images, the source row and column of every
    output pixel (in unpadded coordinates, so -pad .. h-1+pad), drawn as `pad_crop_flip` does."""
    oy = rng.integers(0, 2 * pad + 1, b) - pad
    ox = rng.integers(0, 2 * pad + 1, b) - pad
    flip = rng.random(b) < 0.5
    rows = oy[:, None] + np.arange(h)[None, :]
    cols = ox[:, None] + np.where(flip[:, None], np.arange(w)[::-1][None, :],
                                  np.arange(w)[None, :])
    return rows, cols


def pad_crop_flip_numpy(images: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """`pad_crop_flip` in numpy: zero-pad by `pad`, crop back at a random offset, flip half.

    ``images`` is a float (B, H, W, C) batch (already mean-subtracted); ``rng`` a numpy Generator.
    """
    b, h, w, _ = images.shape
    rows, cols = _crop_windows(b, h, w, rng, pad)
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    return padded[np.arange(b)[:, None, None], rows[:, :, None] + pad, cols[:, None, :] + pad]


def _normalised_crops(x: np.ndarray, idx: np.ndarray, mean: np.ndarray,
                      rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """``pad_crop_flip_numpy(x[idx] / 255 - mean, rng)`` without the float copy and the padding:
    one gather of the uint8 source pixels, then scale, subtract their means and zero the pixels
    that fell in the padding. The same numbers, about twice as fast (benchmarks: `cnn-keras bench
    resnet20 --what data --pipeline numpy`)."""
    b, (h, w) = len(idx), x.shape[1:3]
    rows, cols = _crop_windows(b, h, w, rng, pad)
    inside = (((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :])
    r = np.clip(rows, 0, h - 1)[:, :, None]
    c = np.clip(cols, 0, w - 1)[:, None, :]
    out = x[idx[:, None, None], r, c].astype(np.float32)
    out /= np.float32(255.0)
    out -= np.broadcast_to(mean, x.shape[1:])[r, c]
    out *= inside[..., None]
    return out


def eval_arrays(x, y, *, mean) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation inputs as numpy: float32 images in [0, 1] minus ``mean``, int32 labels."""
    x, y, mean = _check_xy_mean(x, y, mean)
    return (x.astype(np.float32) / 255.0 - mean), y.astype(np.int32)


class NumpyTrainBatches(keras.utils.PyDataset):
    """`train_dataset` without TensorFlow: a ``keras.utils.PyDataset`` of augmented batches.

    Same contract as `train_dataset` — images scaled to [0, 1] minus ``mean``, pad-crop-flip,
    ``steps_per_epoch(len(x), batch_size)`` batches per epoch, epoch ``e``'s order and
    augmentation drawn from ``(seed, e)`` alone (numpy's PCG64, so the numbers differ from the
    tf.data pipeline's Philox ones), which makes resumed runs see the batches an uninterrupted
    run would. Keras calls ``on_epoch_end`` after each epoch; start it at ``initial_epoch``.
    Batches are built in ``workers`` threads (numpy releases the GIL while copying).
    ``label_copies`` > 1 repeats the labels (one copy per output of a multi-head model).
    """

    def __init__(self, x, y, *, batch_size: int, mean, seed: int, initial_epoch: int = 0,
                 augment: bool = True, workers: int = 4, label_copies: int = 1):
        x, y, mean = _check_xy_mean(x, y, mean)
        _check_positive_int(batch_size, "batch_size")
        if batch_size > len(x):
            raise ValueError(
                f"`batch_size` must be at most the number of examples ({len(x)}). "
                f"Received: batch_size={batch_size}"
            )
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=16)
        self.x, self.y, self.mean = x, y.astype(np.int32), mean
        self.batch_size, self.seed, self.augment = int(batch_size), int(seed), augment
        self.label_copies = int(label_copies)  # a model with auxiliary heads wants (y, y, y)
        self.steps = steps_per_epoch(len(x), batch_size)
        self.epoch = int(initial_epoch)
        self._order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.epoch, 0])
        return rng.permutation(len(self.x))[: self.steps * self.batch_size]

    def __len__(self):
        return self.steps

    def __getitem__(self, i):
        idx = self._order[i * self.batch_size : (i + 1) * self.batch_size]
        if self.augment:
            images = _normalised_crops(self.x, idx, self.mean,
                                       np.random.default_rng([self.seed, self.epoch, i + 1]))
        else:
            images = self.x[idx].astype(np.float32) / 255.0 - self.mean
        labels = self.y[idx]
        return images, labels if self.label_copies == 1 else (labels,) * self.label_copies

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._epoch_order()


def _gather_windows(images, rows, cols):
    """Backend-agnostic crop-and-flip gather: output pixel (i, j) of image k is source pixel
    (rows[k, i], cols[k, j]) of `images` (B, H, W, C), or 0 where that falls outside the image
    (the zero padding). `rows` (B, h) and `cols` (B, w) are integer tensors, as `_crop_windows`
    draws them."""
    b, h, w, c = ops.shape(images)
    rows, cols = ops.cast(rows, "int32"), ops.cast(cols, "int32")
    r = ops.clip(rows, 0, h - 1)
    col = ops.clip(cols, 0, w - 1)
    out = ops.take_along_axis(images, ops.broadcast_to(r[:, :, None, None], (b, h, w, c)), 1)
    out = ops.take_along_axis(out, ops.broadcast_to(col[:, None, :, None], (b, h, w, c)), 2)
    inside = ops.logical_and(
        ops.logical_and(rows >= 0, rows < h)[:, :, None],
        ops.logical_and(cols >= 0, cols < w)[:, None, :])
    return out * ops.cast(inside, out.dtype)[..., None]


@keras.saving.register_keras_serializable(package="cnn_keras")
class PadCropFlip(keras.layers.Layer):
    """The ResNet paper's CIFAR augmentation as a Keras layer, on any backend and on the device.

    In training (``training=True``, as inside ``fit``) every image of the batch gets its own
    offset in ``[-pad, pad]`` along each axis, with zeros where the window leaves the image, and
    a left-right flip with probability 1/2, drawn from the layer's
    ``keras.random.SeedGenerator(seed)``; at inference it returns its input unchanged. This is
    what `pad_crop_flip` (tf.data) and `NumpyTrainBatches` (numpy) do in the input pipeline,
    moved into the model, so a GPU run needs no CPU augmentation at all: feed batches that are
    only scaled and mean-subtracted (`eval_arrays`, or ``NumpyTrainBatches(augment=False)``).
    As in the pipelines, the padding is zero *after* mean subtraction (the mean pixel)::

        augmented = keras.Sequential([keras.Input((32, 32, 3)), data.PadCropFlip(seed=0),
                                      cnn_keras.resnet20()])

    (`keras.layers.RandomCrop` draws one offset for the whole batch; this layer draws one per
    image, as the paper's per-image augmentation does.)

    Args:
        pad: pixels of zero padding on each side (the paper's 4), an integer >= 0.
        seed: integer seed of the layer's random draws, or None.
    """

    def __init__(self, pad: int = 4, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
            raise ValueError(f"`pad` must be an integer >= 0. Received: pad={pad!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.pad, self.seed = int(pad), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        b, h, w = ops.shape(inputs)[0], ops.shape(inputs)[1], ops.shape(inputs)[2]
        p = self.pad
        oy = keras.random.randint((b,), 0, 2 * p + 1, seed=self.seed_generator) - p
        ox = keras.random.randint((b,), 0, 2 * p + 1, seed=self.seed_generator) - p
        flip = keras.random.uniform((b,), seed=self.seed_generator) < 0.5
        forward, backward = ops.arange(w)[None, :], ops.arange(w - 1, -1, -1)[None, :]
        rows = oy[:, None] + ops.arange(h)[None, :]
        cols = ox[:, None] + ops.where(flip[:, None], backward, forward)
        return _gather_windows(inputs, rows, cols)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pad": self.pad, "seed": self.seed}

    # The random state is saved with the model (Keras saves no seed-generator state by itself),
    # so a training run resumed from a checkpoint draws what an uninterrupted one would.
    def save_own_variables(self, store):
        store["seed_generator_state"] = ops.convert_to_numpy(self.seed_generator.state.value)

    def load_own_variables(self, store):
        if "seed_generator_state" in store:  # absent in files saved before it was
            self.seed_generator.state.assign(store["seed_generator_state"])
