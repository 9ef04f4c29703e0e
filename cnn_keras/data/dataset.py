"""`ImageData`, a whole image-classification dataset held in memory as numpy arrays, with its
class-balanced subsets; `synthetic_dataset`, a generated stand-in for CIFAR-10; and
`DataNotFoundError`, raised when no source of data can be found. numpy only: every other
module of `cnn_keras.data` builds on this one."""

from __future__ import annotations

import dataclasses

import numpy as np

from cnn_keras.checks import check_int, fail, is_int

__all__ = ["DataNotFoundError", "ImageData", "synthetic_dataset"]


class DataNotFoundError(FileNotFoundError):
    """No data source could be found (no local copy, and no TFDS copy or network to fetch one)."""


def _log(verbose: bool, message: str) -> None:
    """One short progress line for a slow step (finding, unpacking, decoding data)."""
    if verbose:
        print(f"[cnn_keras.data] {message}", flush=True)


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

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The shape a model takes these images in: (H, W, C)."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_train(self) -> int:
        return len(self.x_train)

    def sample(self):
        """(images, labels) of one training example, to build a model's training state."""
        return self.x_train[:1], self.y_train[:1]

    def random_batch(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) of `n` training examples drawn at random with `seed`: the first `n`
        are no sample, since a split may list its images class by class (the CIFAR-10 JPEG copy
        and every subset of it do)."""
        if not is_int(n) or not 1 <= n <= len(self.x_train):
            fail(f"`n` must be an integer between 1 and the number of training images "
                 f"({len(self.x_train)}).", n=n)
        idx = np.sort(np.random.default_rng([seed, 2]).choice(len(self.x_train), n,
                                                              replace=False))
        return self.x_train[idx], self.y_train[idx]

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
        check_int("seed", seed, minimum=0)
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
    if not is_int(num):
        raise TypeError(f"`{arg}` must be a positive integer or None. Received: {arg}={num!r}")
    if num <= 0 or num > total:
        fail(f"`{arg}` must be between 1 and the size of the split ({total}).", **{arg: num})
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


def synthetic_dataset(
    num_train: int = 512, num_test: int = 256, *, num_classes: int = 10, seed: int = 0,
    image_shape=(32, 32, 3),
) -> ImageData:
    """A generated stand-in for CIFAR-10 (for smoke runs where no copy of it exists).

    Class ``c`` is a noisy image whose brightest channel and stripe frequency depend on ``c``,
    so a CNN can learn it, but nothing measured on it says anything about CIFAR-10.
    """
    for arg, value in (("num_train", num_train), ("num_test", num_test),
                       ("num_classes", num_classes)):
        check_int(arg, value)
    check_int("seed", seed, minimum=0)
    if (not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3
            or not all(is_int(v) and v > 0 for v in image_shape)):
        fail("`image_shape` must be (height, width, channels), three positive integers.",
             image_shape=image_shape)
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
