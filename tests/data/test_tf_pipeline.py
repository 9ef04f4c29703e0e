"""The tf.data pipeline (cnn_keras.data.tf_pipeline) and what it shares with the numpy one
(cnn_keras.data.arrays): the per-pixel mean, batches, resumption, validation."""

import numpy as np
import pytest

from cnn_keras import data as D


def test_per_pixel_mean():
    x = np.random.default_rng(0).integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    mean = D.per_pixel_mean(x)
    assert mean.dtype == np.float32 and mean.shape == (5, 6, 3)
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(0) / 255, rtol=1e-6)
    with pytest.raises(ValueError, match="Received: x_uint8.dtype=float32"):
        D.per_pixel_mean(x.astype(np.float32))


def batches(ds):
    return [(x.numpy(), y.numpy()) for x, y in ds]


def tiny_xy(n=20, size=(4, 4), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, *size, 3), dtype=np.uint8)
    y = np.arange(n, dtype=np.int64) % 7
    return x, y


def test_train_dataset_batches_and_mean():
    x, y = tiny_xy(23)
    mean = D.per_pixel_mean(x)
    ds = D.train_dataset(x, y, batch_size=5, mean=mean, seed=0, epochs=3, augment=False)
    got = batches(ds)
    assert len(got) == 3 * 4 == len(ds) == 3 * D.steps_per_epoch(23, 5)
    lookup = {img.tobytes(): i for i, img in enumerate(x)}
    for epoch in range(3):
        seen = []
        for xb, yb in got[4 * epoch : 4 * epoch + 4]:
            assert xb.shape == (5, 4, 4, 3) and xb.dtype == np.float32 and yb.dtype == np.int32
            for img, label in zip(xb, yb):
                i = lookup[np.rint((img + mean) * 255).astype(np.uint8).tobytes()]  # x/255 - mean
                assert label == y[i]
                seen.append(i)
        assert len(set(seen)) == 20  # a permutation, last partial batch dropped
    assert not np.array_equal(got[0][0], got[4][0])  # epochs are shuffled differently


def test_train_dataset_is_reproducible_and_resumable():
    x, y = tiny_xy(24, size=(6, 6))
    mean = D.per_pixel_mean(x)
    kwargs = dict(batch_size=8, mean=mean, seed=7)
    full = batches(D.train_dataset(x, y, epochs=4, **kwargs))
    assert len(full) == 12
    repeat = batches(D.train_dataset(x, y, epochs=4, **kwargs))
    resumed = batches(D.train_dataset(x, y, epochs=4, initial_epoch=2, **kwargs))
    assert len(resumed) == 6
    for (xa, ya), (xb, yb) in zip(full, repeat):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    for (xa, ya), (xb, yb) in zip(full[6:], resumed):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    other = batches(D.train_dataset(x, y, epochs=1, batch_size=8, mean=mean, seed=8))
    assert not np.array_equal(other[0][0], full[0][0])
    # Augmentation is on: with the same order, augmented batches differ from plain ones.
    plain = batches(D.train_dataset(x, y, epochs=1, augment=False, **kwargs))
    assert np.array_equal(plain[0][1], full[0][1])
    assert not np.array_equal(plain[0][0], full[0][0])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"batch_size": 11}, "Received: batch_size=11"),
        ({"epochs": 2, "initial_epoch": 2}, "Received: epochs=2"),
        ({"epochs": 0}, "Received: epochs=0"),
        ({"y": np.zeros(9, np.int32)}, "Received: len(x)=10, len(y)=9"),
        ({"x": np.zeros((10, 4, 4, 3), np.float32)}, "Received: x.dtype=float32"),
        ({"x": np.zeros((10, 4, 4), np.uint8)}, "Received: x.shape=(10, 4, 4)"),
        ({"y": np.zeros(10, np.float32)}, "Received: y.dtype=float32"),
        ({"mean": np.zeros((5, 5, 3), np.float32)}, "Received: mean.shape=(5, 5, 3)"),
    ],
)
def test_train_dataset_validation(change, message):
    x, y = tiny_xy(10)
    kwargs = dict(x=x, y=y, batch_size=4, mean=D.per_pixel_mean(x), seed=0, epochs=2)
    kwargs.update(change)
    with pytest.raises(ValueError) as e:
        D.train_dataset(**kwargs)
    assert str(e.value).endswith(message)


def test_eval_dataset_keeps_partial_batch():
    x, y = tiny_xy(10)
    mean = D.per_pixel_mean(x)
    got = batches(D.eval_dataset(x, y, batch_size=4, mean=mean))
    assert [len(yb) for _, yb in got] == [4, 4, 2]
    images = np.concatenate([xb for xb, _ in got])
    np.testing.assert_allclose(images, x / np.float32(255.0) - mean, atol=1e-6)
    assert np.array_equal(np.concatenate([yb for _, yb in got]), y)
    assert got[0][0].dtype == np.float32 and got[0][1].dtype == np.int32
    with pytest.raises(ValueError, match="Received: batch_size=0$"):
        D.eval_dataset(x, y, batch_size=0, mean=mean)


def test_steps_per_epoch():
    assert D.steps_per_epoch(50000, 128) == 390
    assert D.steps_per_epoch(10, 10) == 1
    with pytest.raises(ValueError, match="Received: batch_size=11$"):
        D.steps_per_epoch(10, 11)
    with pytest.raises(ValueError, match="Received: batch_size=0$"):
        D.steps_per_epoch(10, 0)
