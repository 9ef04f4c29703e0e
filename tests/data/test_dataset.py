"""ImageData's class-balanced subsets and the synthetic stand-in (cnn_keras.data.dataset)."""

import numpy as np
import pytest

from cnn_keras import data as D


def synthetic(n_per_class=(10, 10, 10), n_test=4, size=(4, 4), seed=0) -> D.ImageData:
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(n, i, np.int32) for i, n in enumerate(n_per_class)])
    x = rng.integers(0, 256, (len(y), *size, 3), dtype=np.uint8)
    y_test = np.repeat(np.arange(len(n_per_class), dtype=np.int32), n_test)
    x_test = rng.integers(0, 256, (len(y_test), *size, 3), dtype=np.uint8)
    names = tuple(f"c{i}" for i in range(len(n_per_class)))
    return D.ImageData(x, y, x_test, y_test, names, "synthetic")


def test_subset_is_balanced_and_deterministic():
    data = synthetic()
    sub = data.subset(12, seed=3)
    assert len(sub.y_train) == 12 and np.array_equal(np.bincount(sub.y_train), [4, 4, 4])
    assert len(sub.y_test) == 12  # num_test=None keeps the whole test split
    again = data.subset(12, seed=3)
    assert np.array_equal(sub.x_train, again.x_train)
    assert not np.array_equal(sub.x_train, data.subset(12, seed=4).x_train)
    # Every subset image comes from the same class in the full data.
    full = {img.tobytes(): label for img, label in zip(data.x_train, data.y_train)}
    assert all(full[img.tobytes()] == label for img, label in zip(sub.x_train, sub.y_train))
    assert len({img.tobytes() for img in sub.x_train}) == 12
    odd = data.subset(14, num_test=6)
    assert sorted(np.bincount(odd.y_train)) == [4, 5, 5]
    assert np.array_equal(np.bincount(odd.y_test), [2, 2, 2])
    assert "subset" in odd.source and odd.describe()["num_train"] == 14
    everything = data.subset(None)
    assert np.array_equal(everything.x_train, data.x_train)


def test_subset_of_imbalanced_classes():
    data = synthetic(n_per_class=(2, 10, 10))
    sub = data.subset(20)
    assert np.array_equal(np.bincount(sub.y_train), [2, 9, 9])


@pytest.mark.parametrize(
    "kwargs",
    [{"num_train": 0}, {"num_train": 31}, {"num_train": -1}, {"num_train": None, "num_test": 13}],
)
def test_subset_errors(kwargs):
    arg = "num_test" if "num_test" in kwargs else "num_train"
    with pytest.raises(ValueError, match=rf"Received: {arg}={kwargs[arg]}$"):
        synthetic().subset(**kwargs)


def test_a_random_batch_of_a_class_sorted_split_has_every_class():
    data = synthetic(n_per_class=(10, 10, 10))  # listed class by class, as the JPEG copy
    x, y = data.random_batch(9, seed=1)
    assert len(np.unique(y)) > 1 and x.shape == (9, 4, 4, 3)
    full = {img.tobytes(): label for img, label in zip(data.x_train, data.y_train)}
    assert all(full[img.tobytes()] == label for img, label in zip(x, y))
    assert len({img.tobytes() for img in x}) == 9  # drawn without replacement
    assert np.array_equal(x, data.random_batch(9, seed=1)[0])
    assert not np.array_equal(x, data.random_batch(9, seed=2)[0])
    for n in (0, 31, 2.5):
        with pytest.raises(ValueError, match=rf"between 1 and .* \(30\).*Received: n={n}$"):
            data.random_batch(n)


def test_synthetic_dataset_is_balanced_and_deterministic():
    a = D.synthetic_dataset(100, 30, seed=2)
    b = D.synthetic_dataset(100, 30, seed=2)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape == (100, 32, 32, 3) and a.x_train.dtype == np.uint8
    assert np.bincount(a.y_train).tolist() == [10] * 10
    assert "not CIFAR-10" in a.source


@pytest.mark.parametrize("kwargs, received", [
    ({"num_classes": 0}, "num_classes=0"), ({"num_train": 0}, "num_train=0"),
    ({"num_test": -1}, "num_test=-1"), ({"seed": -1}, "seed=-1"),
    ({"image_shape": (32, 32)}, r"image_shape=\(32, 32\)"),
])
def test_synthetic_dataset_rejects_bad_arguments(kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {received}$"):
        D.synthetic_dataset(**{"num_train": 8, "num_test": 4, **kwargs})


def test_subset_rejects_a_negative_seed():
    with pytest.raises(ValueError, match=r"integer >= 0\. Received: seed=-1$"):
        synthetic().subset(3, seed=-1)


