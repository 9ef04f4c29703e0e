"""CIFAR-10: where it is found, and how each of its four sources is loaded into memory.

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

The images of a zip are decoded straight from the archive (read once, never unpacked into
60,000 small files) and the decoded arrays are cached as ``.npz`` (`cnn_keras.data.cache`:
``cache_dir``, else ``CNN_KERAS_CACHE``, else ``~/.cache/cnn_keras``, keyed by the zip's path,
size and modification time), so a later load only reads the arrays back. A
``train/<class>/`` folder is loaded by `cnn_keras.data.folders` and cached the same way. Class
folders are mapped to labels in sorted name order, which for CIFAR-10 is the TFDS order,
`CIFAR10_CLASSES`.
"""

from __future__ import annotations

import os
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np

from cnn_keras.data import cache, folders
from cnn_keras.data.dataset import DataNotFoundError, ImageData, _log, synthetic_dataset

__all__ = ["CIFAR10_CLASSES", "cifar10_subset", "load_cifar10"]

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
SOURCES = ("auto", "local", "tfds")

# `data/` beside the package (the repository's data folder in a source checkout).
_PACKAGE_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
_LOCAL_OPTIONS = (
    "pass data_dir=... (a folder with train/<class>/ and test/<class>/ images, a folder holding "
    f"{CIFAR10_ZIP_NAME}, or the path of that zip), set the environment variable CNN_KERAS_DATA "
    f"to such a folder, or put the images or {CIFAR10_ZIP_NAME} in ./data"
)
_FORMS = (
    "a directory with train/<class>/ (and test/<class>/) image folders, a directory containing "
    f"{CIFAR10_ZIP_NAME}, or the path of that zip"
)


def load_cifar10(
    data_dir=None, *, source: str = "auto", cache_dir=None, verbose: bool = True
) -> ImageData:
    """Load CIFAR-10 (50,000 training and 10,000 test 32x32 RGB images) into memory.

    Args:
        data_dir: a directory with ``train/<class>/`` and ``test/<class>/`` images, a directory
            containing ``cifar10-jpeg.zip``, or the path of that zip. ``None`` searches
            ``CNN_KERAS_DATA``, ``./data`` and ``data/`` beside the package, then TFDS.
        source: ``"auto"`` (local, then TFDS), ``"local"`` (local only) or ``"tfds"``.
        cache_dir: where decoded arrays are cached; default ``CNN_KERAS_CACHE`` or
            ``~/.cache/cnn_keras``.
        verbose: print one short line for each slow step (decoding).

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
    cache_dir = cache._resolve_cache_dir(cache_dir)
    if kind == "zip":
        return _load_cifar10_zip(path, cache_dir, verbose)
    data = folders._load_folder(
        path, image_size=None, cache_dir=cache_dir, verbose=verbose, seed=0, require_test=True
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


# --- The local copies (lookup steps 1-3) ------------------------------------------------------


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


def _named_form(path: Path, must: str, received: str):
    """The local form of a path the user named (`data_dir`, ``CNN_KERAS_DATA``): an error,
    never skipped, when it has none. `must` starts the message, `received` ends it."""
    form = _local_form(path)
    if form is None:
        why = "does not exist" if not path.exists() else "has none of these forms"
        raise ValueError(f"{must} {_FORMS}; it {why}. Received: {received}")
    return form


def _find_local_cifar10(data_dir) -> tuple[tuple[str, Path] | None, list[str]]:
    """The first local form in lookup order, and the list of places looked at."""
    searched = []
    if data_dir is not None:
        form = _named_form(Path(data_dir).expanduser(), "`data_dir` must be",
                           f"data_dir={data_dir}")
        return form, searched
    env = os.environ.get("CNN_KERAS_DATA", "")
    if env:
        form = _named_form(Path(env).expanduser(),
                           "The environment variable CNN_KERAS_DATA must name",
                           f"CNN_KERAS_DATA={env}")
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


def _check_cifar10_classes(class_names, where) -> None:
    if tuple(class_names) != CIFAR10_CLASSES:
        raise ValueError(
            f"The class folders in {where} are not the CIFAR-10 classes "
            f"({', '.join(CIFAR10_CLASSES)}). Received: class folders={list(class_names)}"
        )


def _load_cifar10_zip(zip_path: Path, cache_dir: Path, verbose: bool) -> ImageData:
    zip_path = zip_path.resolve()
    st = zip_path.stat()
    # Pillow's JPEG decoder differs from TensorFlow's by a few levels: cache them apart.
    decoder = () if folders.tf is not None else ("pillow",)
    key = cache._file_key(zip_path, st.st_size, st.st_mtime_ns, *decoder)
    source = f"{zip_path.name} in {zip_path.parent} (cache {cache_dir})"

    def build():
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
            arrays = folders._decode_listing(
                train, test, image_size=None, seed=0, read=zf.read,
                display=lambda member: f"{zip_path}:{member}", verbose=verbose,
                what=str(zip_path))
        return ImageData(*arrays, CIFAR10_CLASSES, source, "cifar10")

    return cache.cached_data(cache_dir / f"cifar10-{key}.npz", source=source, name="cifar10",
                             verbose=verbose, what="CIFAR-10", build=build)


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
        if os.path.splitext(parts[-1])[1].lower() not in folders.IMAGE_EXTENSIONS:
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


# --- TensorFlow Datasets (lookup step 4) -------------------------------------------------------


def _cifar10_host_reachable(timeout: float = 3.0) -> bool:
    """Whether the CIFAR-10 download host answers (`host_reachable`); tests monkeypatch this."""
    return host_reachable(CIFAR10_HOST, timeout)


def host_reachable(host: tuple[str, int], timeout: float = 3.0) -> bool:
    """Whether a TCP connection to ``(name, port)`` opens within ``timeout`` seconds, name
    resolution included (it runs in a thread, which a slow resolver cannot hold up longer), so
    that a download can be skipped offline instead of retried for minutes."""
    result: list[bool] = []

    def attempt():
        try:
            with socket.create_connection(host, timeout=timeout):
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
    return ImageData(x_train, y_train, x_test, y_test, CIFAR10_CLASSES, "tfds:cifar10",
                     "cifar10")


def _tfds_to_numpy(tfds, ds) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for x, y in tfds.as_numpy(ds.batch(10_000)):
        images.append(x)
        labels.append(y)
    return (
        np.concatenate(images).astype(np.uint8, copy=False),
        np.concatenate(labels).astype(np.int32),
    )
