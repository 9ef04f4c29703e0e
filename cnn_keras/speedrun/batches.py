"""The speedrun's data, as the reference prepares it (numpy, the same on every backend).

Images are normalised per channel with the training images' mean and standard deviation.
Training epochs: with alternating flips, a random half of the images is flipped once (from the
seed), and on every odd epoch all of them are flipped, so each image is seen both ways in turn
(Jordan 2024, Sec. 3.6: fewer repeats of the same view than independent flips); each image is
shifted by up to `translate` pixels in each direction (reflect padding), independently each
epoch. Epoch e depends only on (seed, e), so a resumed run sees what it would have seen.
"""

from __future__ import annotations

import numpy as np


def channel_stats(x_uint8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of [0, 1] images."""
    x = x_uint8.reshape(-1, x_uint8.shape[-1]).astype("float64") / 255.0
    return x.mean(axis=0).astype("float32"), x.std(axis=0).astype("float32")


def normalise(x_uint8: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((x_uint8.astype("float32") / 255.0 - mean) / std).astype("float32")


def _flip(x: np.ndarray) -> np.ndarray:
    return x[:, :, ::-1]


class EpochImages:
    """The training images of each epoch, augmented as the recipe says (uint8)."""

    def __init__(self, x_uint8: np.ndarray, seed: int, flip: str, translate: int):
        self.seed, self.flip, self.translate = int(seed), flip, int(translate)
        x = x_uint8
        if flip == "alternating":
            flipped = np.random.default_rng([self.seed, 1]).random(len(x)) < 0.5
            x = np.where(flipped[:, None, None, None], _flip(x), x)
        p = self.translate
        self.padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect") if p else x
        self.size = x_uint8.shape[1:3]

    def epoch(self, e: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 2, e])
        x = self._translated(rng) if self.translate else self.padded
        if self.flip == "alternating" and e % 2 == 1:
            x = _flip(x)
        elif self.flip == "random":
            flipped = rng.random(len(x)) < 0.5
            x = np.where(flipped[:, None, None, None], _flip(x), x)
        return np.ascontiguousarray(x)

    def _translated(self, rng) -> np.ndarray:
        r, (h, w) = self.translate, self.size
        shifts = rng.integers(-r, r + 1, size=(len(self.padded), 2))
        out = np.empty((len(self.padded), h, w, self.padded.shape[-1]), self.padded.dtype)
        for dy in range(-r, r + 1):  # one slice per shift: (2r+1)^2 copies, not one per image
            for dx in range(-r, r + 1):
                sel = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
                out[sel] = self.padded[sel, r + dy:r + dy + h, r + dx:r + dx + w]
        return out


def whitening_sample(x_uint8: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` training images drawn at random (from `seed`) for the whitening statistics. The
    reference takes its loader's first 5,000, a mix of all classes in torchvision's order; a
    copy stored class by class (as the JPEG copy is) would give one class's patches."""
    rng = np.random.default_rng([int(seed), 5])
    return x_uint8[np.sort(rng.choice(len(x_uint8), min(n, len(x_uint8)), replace=False))]


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which epoch `epoch` visits the `n` training images."""
    return np.random.default_rng([int(seed), 3, int(epoch)]).permutation(n)
