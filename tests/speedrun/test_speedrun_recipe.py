"""The speedrun recipe's arithmetic, its data and lookahead."""

import dataclasses

import numpy as np
import pytest

from cnn_keras.speedrun import TRICKS, SpeedrunRecipe, ablated
from cnn_keras.speedrun.batches import (EpochImages, channel_stats, epoch_order, normalise,
                                       whitening_sample)
from cnn_keras.speedrun.lookahead import Lookahead
from cnn_keras.speedrun.tta import tta_logits


def test_the_references_hyperparameters_in_sgd_form():
    r = SpeedrunRecipe()
    assert r.sgd_lr() == pytest.approx(11.5 / (1024 * (1 + 1 / 0.15)))
    # PyTorch's weight_decay argument, wd / lr, with wd = 0.0153 * 1024 / kilostep_scale
    assert r.l2() == pytest.approx((0.0153 * 1024 / r.kilostep_scale()) / r.sgd_lr())
    assert (r.steps_per_epoch(50_000), r.total_steps(50_000), r.num_epochs()) == (48, 476, 10)
    assert r.model_kwargs()["classifier_activation"] is None


def test_every_trick_can_be_switched_off_and_bad_values_are_named():
    for trick in TRICKS:
        off = ablated(SpeedrunRecipe(), trick)
        assert off != SpeedrunRecipe() and off.name == f"speedrun-no-{trick}"
    with pytest.raises(ValueError, match="Received: trick='ema'"):
        ablated(SpeedrunRecipe(), "ema")
    with pytest.raises(ValueError, match="Received: flip='sometimes'"):
        SpeedrunRecipe(flip="sometimes")
    with pytest.raises(ValueError, match="Received: lookahead=1"):
        SpeedrunRecipe(lookahead=1)
    with pytest.raises(ValueError, match="batch size is larger"):
        SpeedrunRecipe(batch_size=64).steps_per_epoch(32)


def _images(n=40):
    return np.random.default_rng(0).integers(0, 256, (n, 8, 8, 3)).astype("uint8")


def test_alternating_flips_and_translations():
    x = _images()
    e = EpochImages(x, seed=3, flip="alternating", translate=0)
    first, second = e.epoch(0), e.epoch(1)
    np.testing.assert_array_equal(second, first[:, :, ::-1])  # every image flips each epoch
    flipped = [not np.array_equal(a, b) for a, b in zip(first, x)]
    assert 0 < sum(flipped) < len(x)  # a random part of them started flipped
    moved = EpochImages(x, seed=3, flip="none", translate=2)
    a, b = moved.epoch(0), moved.epoch(0)
    np.testing.assert_array_equal(a, b)  # epoch e depends only on (seed, e)
    assert not np.array_equal(a, moved.epoch(1))
    for img, out in zip(x, a):  # each output is the padded image shifted by at most 2 pixels
        padded = np.pad(img, ((2, 2), (2, 2), (0, 0)), mode="reflect")
        assert any(np.array_equal(out, padded[2 + dy:10 + dy, 2 + dx:10 + dx])
                   for dy in range(-2, 3) for dx in range(-2, 3))
    assert sorted(epoch_order(0, 1, 10)) == list(range(10))


def test_normalisation_uses_the_training_images_channel_statistics():
    x = _images()
    mean, std = channel_stats(x)
    z = normalise(x, mean, std)
    np.testing.assert_allclose(z.reshape(-1, 3).mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.reshape(-1, 3).std(0), 1, atol=1e-5)


class _Weights:
    def __init__(self, value):
        self.value, self.dtype = np.array(value, "float32"), "float32"

    def numpy(self):
        return self.value

    def assign(self, v):
        self.value = np.array(v, "float32")


def test_lookahead_pulls_the_weights_to_their_average():
    w = _Weights([0.0])
    la = Lookahead(type("M", (), {"weights": [w]})(), total_steps=10, every=5)
    w.assign([1.0])
    la.after_step(4)  # not a multiple of 5: nothing
    assert w.value[0] == 1.0
    la.after_step(5)
    d = 0.95 ** 5 * 0.5 ** 3
    assert w.value[0] == pytest.approx(1 - d)  # average moved by 1 - d toward 1, copied back
    w.assign([3.0])
    la.finish()  # the end: the weights become the average
    assert w.value[0] == pytest.approx(1 - d)


def test_tta_level_2_averages_six_views_with_the_references_weights():
    x = np.random.default_rng(0).normal(size=(3, 6, 6, 1)).astype("float32")

    class Probe:  # "logits": the image's pixels, so the views can be told apart
        def predict(self, z, batch_size, verbose):
            return z.reshape(len(z), -1)

    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    views = [x, padded[:, :6, :6], padded[:, 2:, 2:]]
    weights = [0.5, 0.25, 0.25]
    expected = sum(w * 0.5 * (v + v[:, :, ::-1]) for w, v in zip(weights, views))
    np.testing.assert_allclose(tta_logits(Probe(), x, 2), expected.reshape(3, -1), rtol=1e-6)
    np.testing.assert_allclose(tta_logits(Probe(), x, 0), x.reshape(3, -1))
    assert dataclasses.replace(SpeedrunRecipe(), tta_level=1).tta_level == 1


def test_the_whitening_sample_mixes_a_copy_stored_class_by_class():
    x = np.repeat(np.arange(10, dtype="uint8"), 500)[:, None, None, None] * np.ones(
        (1, 2, 2, 3), "uint8")  # 10 classes of 500 images, in class order
    sample = whitening_sample(x, 1000, seed=0)
    assert sample.shape == (1000, 2, 2, 3)
    assert len(np.unique(sample[:, 0, 0, 0])) == 10  # not the first class only
    assert np.array_equal(sample, whitening_sample(x, 1000, seed=0))  # same seed, same images
    assert len(whitening_sample(x, 10_000, seed=0)) == 5000  # at most all of them
