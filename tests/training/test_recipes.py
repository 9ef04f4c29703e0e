"""Recipes as data, the papers' optimizer (coupled weight decay), schedules and losses."""

import dataclasses

import keras
import numpy as np
import pytest

from cnn_keras import training


def _dense_model(seed):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((4,))
    return keras.Model(inp, keras.layers.Dense(3, name="d")(inp))


def _steps(model, optimizer, regularize=False, steps=4):
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    if regularize:
        model.get_layer("d").kernel_regularizer = None
    model.compile(optimizer=optimizer, loss="mse", jit_compile=False)
    for _ in range(steps):
        model.train_on_batch(x, y)
    return model.get_layer("d").kernel.numpy()


def test_l2sgd_equals_l2_half_lambda_regularizer_and_not_decoupled_decay():
    lam = 0.1
    ours = _steps(_dense_model(0), training.L2SGD(0.05, momentum=0.9, l2=lam))

    keras.utils.set_random_seed(0)
    inp = keras.Input((4,))
    reg = keras.Model(inp, keras.layers.Dense(
        3, name="d", kernel_regularizer=keras.regularizers.l2(lam / 2))(inp))
    ref = _steps(reg, keras.optimizers.SGD(0.05, momentum=0.9))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)

    decoupled = _steps(_dense_model(0), keras.optimizers.SGD(0.05, momentum=0.9,
                                                             weight_decay=lam))
    assert not np.allclose(ours, decoupled, rtol=1e-4)
    wrong_factor = keras.Model(inp, keras.layers.Dense(
        3, name="d", kernel_regularizer=keras.regularizers.l2(lam))(inp))
    keras.utils.set_random_seed(0)
    assert not np.allclose(ours, _steps(wrong_factor, keras.optimizers.SGD(0.05, momentum=0.9)))


def test_l2sgd_decays_kernels_only():
    model = _dense_model(0)
    opt = training.L2SGD(0.5, momentum=0.0, l2=0.1)
    model.compile(optimizer=opt, loss="mse")
    kernel, bias = model.get_layer("d").kernel, model.get_layer("d").bias
    bias.assign(np.ones(3, "float32"))
    k0 = kernel.numpy()
    opt.apply([np.zeros(kernel.shape, "float32"), np.zeros(3, "float32")], [kernel, bias])
    np.testing.assert_allclose(kernel.numpy(), k0 * (1 - 0.5 * 0.1), rtol=1e-6)
    np.testing.assert_allclose(bias.numpy(), np.ones(3))


def test_l2sgd_validates_and_serializes():
    with pytest.raises(ValueError, match="Received: l2=-1"):
        training.L2SGD(l2=-1)
    opt = training.L2SGD(0.1, l2=3e-4)
    again = training.L2SGD.from_config(opt.get_config())
    assert again.l2 == 3e-4


def test_paper_recipe_matches_section_4_2():
    r = training.paper_recipe(20)
    assert (r.lr, r.momentum, r.weight_decay, r.batch_size) == (0.1, 0.9, 1e-4, 128)
    steps = 50_000 // 128  # 390
    sched = r.schedule(steps)
    assert r.num_epochs(steps) == 164
    lrs = [float(sched(i)) for i in (0, 31_999, 32_000, 47_999, 48_000, 63_999)]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-6)
    warm = training.paper_recipe(110).schedule(steps)
    np.testing.assert_allclose([float(warm(0)), float(warm(399)), float(warm(400))],
                               [0.01, 0.01, 0.1], rtol=1e-6)


def test_linear_warmup_and_schedule_serialization():
    r = training.scaled_recipe(4, warmup_epochs=1)
    sched = r.schedule(10)  # 40 steps: warm-up 0..9, drops at 20 and 30
    np.testing.assert_allclose([float(sched(i)) for i in (0, 4, 9, 10, 19, 20, 30)],
                               [0.01, 0.05, 0.1, 0.1, 0.1, 0.01, 0.001], rtol=1e-5)
    again = training.StepSchedule.from_config(sched.get_config())
    assert float(again(25)) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="Received: warmup='cosine'"):
        training.StepSchedule(0.1, warmup="cosine")


def test_scaled_recipe_keeps_the_shape():
    r = training.scaled_recipe(8)
    sched = r.schedule(10)  # 80 steps: drops at 40 and 60
    np.testing.assert_allclose([float(sched(i)) for i in (39, 40, 59, 60)],
                               [0.1, 0.01, 0.01, 0.001], rtol=1e-6)
    assert r.to_dict(10)["lr_drops_at_steps"] == [40, 60]


def test_one_cycle_rises_then_anneals_to_zero():
    sched = training.OneCycleSchedule(0.2, total_steps=100, warmup_steps=20)
    lrs = np.array([float(sched(i)) for i in range(101)])
    assert lrs[0] == pytest.approx(0.02 + 0.18 / 20)  # from lr / 10
    assert lrs[19] == pytest.approx(0.2) and lrs[20] == pytest.approx(0.2)
    assert np.all(np.diff(lrs[:20]) > 0) and np.all(np.diff(lrs[20:]) < 0)
    assert lrs[60] == pytest.approx(0.1, rel=1e-5)  # half-way down the cosine
    assert lrs[100] == pytest.approx(0.0, abs=1e-9)
    again = training.OneCycleSchedule.from_config(sched.get_config())
    assert float(again(60)) == pytest.approx(lrs[60])
    with pytest.raises(ValueError, match=r"warmup_steps.*Received: warmup_steps=100"):
        training.OneCycleSchedule(0.2, total_steps=100, warmup_steps=100)
    with pytest.raises(ValueError, match="Received: total_steps=0"):
        training.OneCycleSchedule(0.2, total_steps=0, warmup_steps=0)


def test_fast_recipe():
    r = training.fast_recipe(20)
    assert (r.lr, r.weight_decay, r.label_smoothing, r.nesterov) == (0.2, 5e-4, 0.1, True)
    sched = r.schedule(10)  # 200 steps, warm-up 30
    assert isinstance(sched, training.OneCycleSchedule)
    assert (sched.total_steps, sched.warmup_steps) == (200, 30)
    opt = r.optimizer(10)
    assert opt.nesterov and opt.l2 == 5e-4
    assert isinstance(r.loss(), training.SmoothedSparseCrossentropy)
    d = r.to_dict(10)
    assert d["lr_schedule"] == "onecycle" and d["name"] == "fast-20ep"
    with pytest.raises(ValueError, match="Received: lr_schedule='cosine'"):
        training.Recipe(name="x", epochs=1, lr_schedule="cosine")
    with pytest.raises(ValueError, match="warmup_fraction"):
        training.fast_recipe(warmup_fraction=1.0)


def test_smoothed_sparse_crossentropy_matches_keras_on_one_hot_labels():
    rng = np.random.default_rng(0)
    probs = keras.ops.softmax(rng.normal(size=(6, 5)).astype("float32")).numpy()
    y = np.array([0, 4, 2, 2, 1, 3])
    ours = training.SmoothedSparseCrossentropy(0.1)(y, probs)
    ref = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(np.eye(5)[y], probs)
    assert float(ours) == pytest.approx(float(ref), rel=1e-6)
    plain = training.SmoothedSparseCrossentropy(0.0)(y[:, None], probs)
    assert float(plain) == pytest.approx(
        float(keras.losses.SparseCategoricalCrossentropy()(y, probs)), rel=1e-6)
    again = training.SmoothedSparseCrossentropy.from_config(
        training.SmoothedSparseCrossentropy(0.2).get_config())
    assert again.label_smoothing == 0.2
    with pytest.raises(ValueError, match="Received: label_smoothing=1.0"):
        training.SmoothedSparseCrossentropy(1.0)


def test_with_low_res_splits_the_epochs():
    r = training.with_low_res(training.fast_recipe(10), 24)
    assert (r.name, r.low_res_size, r.low_res_epochs) == ("fast-10ep-lowres24x7", 24, 7)
    assert r.to_dict(390)["low_res_epochs"] == 7 and r.epochs == 10
    # 2/3, rounded, at least one epoch at each size
    assert [training.low_res_epochs(e) for e in (2, 3, 4, 9, 32)] == [1, 2, 3, 6, 21]
    with pytest.raises(ValueError, match="counted in epochs.*Received: recipe 'paper'"):
        training.with_low_res(training.paper_recipe(20), 24)
    with pytest.raises(ValueError, match=r"Received: fraction=1"):
        training.with_low_res(training.fast_recipe(10), 24, fraction=1)
    with pytest.raises(ValueError, match="at least 8.*Received: low_res_size=4"):
        training.with_low_res(training.fast_recipe(10), 4)
    with pytest.raises(ValueError, match="both be 0.*low_res_size=24, low_res_epochs=0"):
        training.Recipe(name="x", epochs=3, low_res_size=24)


def test_one_cycle_is_keras_cosine_decay_one_step_ahead_in_the_warm_up():
    """Why OneCycleSchedule stays: Keras' CosineDecay with a warm-up is the same curve, except
    that ours reaches the peak on the warm-up's last step (Keras' one step later)."""
    ours = training.OneCycleSchedule(0.2, total_steps=100, warmup_steps=20)
    keras_schedule = keras.optimizers.schedules.CosineDecay(
        0.02, decay_steps=80, alpha=0.0, warmup_target=0.2, warmup_steps=20)
    steps = np.arange(0, 120)
    mine = np.array([float(ours(s)) for s in steps])
    theirs = np.array([float(keras_schedule(s)) for s in steps])
    np.testing.assert_allclose(mine[:20], theirs[1:21], rtol=1e-6)  # the warm-up, one step on
    np.testing.assert_allclose(mine[20:101], theirs[20:101], rtol=1e-5, atol=1e-7)
    assert mine[19] == pytest.approx(0.2) and theirs[19] < 0.2


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_the_loss_applies_the_softmax_to_a_logits_model(smoothing):
    """A model built with classifier_activation=None outputs logits; the recipe's loss must
    then be computed from_logits, with and without label smoothing."""
    recipe = dataclasses.replace(training.scaled_recipe(1), label_smoothing=smoothing)
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "float32")
    y = np.array([0, 2])
    probs = keras.ops.softmax(logits)
    on_probs = float(recipe.loss()(y, probs))
    assert float(recipe.loss(from_logits=True)(y, logits)) == pytest.approx(on_probs, rel=1e-5)
    assert float(recipe.loss()(y, logits)) != pytest.approx(on_probs, rel=1e-3)  # the old bug
    assert training.losses.from_logits({"classifier_activation": None})
    assert not training.losses.from_logits({})
