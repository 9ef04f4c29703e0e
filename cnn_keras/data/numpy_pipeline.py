"""The CIFAR-10 input pipeline of `cnn_keras.data.tf_pipeline` in numpy, for backends without
TensorFlow (Keras on JAX or PyTorch): `NumpyTrainBatches` for training, `eval_arrays` for
evaluation. Imports Keras and numpy only."""

from __future__ import annotations

import keras
import numpy as np

from cnn_keras.augment.cifar import _normalised_crops
from cnn_keras.data.arrays import _check_batch_size, _check_xy_mean, steps_per_epoch

__all__ = ["NumpyTrainBatches", "eval_arrays"]


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
        _check_batch_size(batch_size, len(x))
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
