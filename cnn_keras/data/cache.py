"""The ``.npz`` cache of decoded datasets: where it lives, how an entry is keyed, and how it is
written and read.

The cache directory is ``cache_dir``, else ``CNN_KERAS_CACHE``, else ``~/.cache/cnn_keras``. An
entry is keyed by its source (a zip's path, size and modification time; an image folder's file
names, sizes and modification times), so a changed source is decoded again. It is written
atomically (temporary file + ``os.replace``), so an interrupted write never leaves a broken
entry, and an unreadable entry counts as missing and is rebuilt. numpy only.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from cnn_keras.data.dataset import ImageData, _log

# Part of every key: raising it invalidates every entry written before.
_CACHE_VERSION = 1
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test", "class_names", "source")


def _resolve_cache_dir(cache_dir) -> Path:
    """`cache_dir`, else ``CNN_KERAS_CACHE``, else ``~/.cache/cnn_keras``; created if missing."""
    if cache_dir is None:
        cache_dir = os.environ.get("CNN_KERAS_CACHE") or Path.home() / ".cache" / "cnn_keras"
    path = Path(cache_dir).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file_key(*parts) -> str:
    """A short hex key of the cache version and `parts` (joined as text)."""
    text = "|".join(str(p) for p in (_CACHE_VERSION, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _listing_key(root: Path, image_size, seed, splits) -> str:
    """The key of an image folder: its path, the decoding settings, and every file's path
    relative to `root`, size and modification time, split by split ({class: [paths]} each)."""
    h = hashlib.sha256(f"{_CACHE_VERSION}|{root.resolve()}|{image_size}|{seed}".encode())
    for split in splits:
        h.update(b"--\n")
        for path in (p for files in split.values() for p in files):
            st = os.stat(path)
            h.update(f"{os.path.relpath(path, root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


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


def cached_data(npz: Path | None, *, source: str, name: str, verbose: bool, what: str,
                build) -> ImageData:
    """The dataset cached in `npz`, or `build()`'s, which is then cached there.

    `npz` None: no cache, always `build()`. A hit is an `ImageData` with `source` and `name`;
    `what` names the data in the log line.
    """
    arrays = None if npz is None else _read_npz_cache(npz)
    if arrays is not None:
        _log(verbose, f"{what} from {source}")
        return ImageData(
            x_train=arrays["x_train"],
            y_train=arrays["y_train"],
            x_test=arrays["x_test"],
            y_test=arrays["y_test"],
            class_names=tuple(str(c) for c in arrays["class_names"]),
            source=source,
            name=name,
        )
    data = build()
    if npz is not None:
        _write_npz_atomic(npz, {
            "x_train": data.x_train,
            "y_train": data.y_train,
            "x_test": data.x_test,
            "y_test": data.y_test,
            "class_names": np.array(data.class_names, dtype=str),
            "source": np.array(data.source, dtype=str),
        })
    return data
