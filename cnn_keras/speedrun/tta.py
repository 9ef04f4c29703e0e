"""airbench's test-time augmentation: the logits of an image averaged over views.

Level 0: the image. Level 1: the image and its mirror image. Level 2: half of level 1, plus
a quarter each of level 1 on the image shifted one pixel up-left and one pixel down-right
(reflect padding): six views.
"""

from __future__ import annotations

import numpy as np


def tta_logits(model, x: np.ndarray, level: int = 2, batch_size: int = 2000) -> np.ndarray:
    def logits(z):
        return np.asarray(model.predict(np.ascontiguousarray(z), batch_size=batch_size,
                                        verbose=0), dtype="float32")

    def mirrored(z):
        return 0.5 * logits(z) + 0.5 * logits(z[:, :, ::-1])

    if level == 0:
        return logits(x)
    if level == 1:
        return mirrored(x)
    h, w = x.shape[1:3]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    shifted = 0.5 * (mirrored(padded[:, :h, :w]) + mirrored(padded[:, 2:, 2:]))
    return 0.5 * mirrored(x) + 0.5 * shifted


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(labels).reshape(-1)))
