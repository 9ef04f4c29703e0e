"""The papers' ImageNet recipes: every value sourced, the papers' numbers pinned, and the Keras
objects they build (schedule, optimizers with coupled L2) checked against hand computations."""

import numpy as np
import pytest

from cnn_keras.training import imagenet_recipes as ir

PAPER_NAMES = ("alexnet", "vgg", "googlenet", "resnet", "densenet", "mobilenet", "efficientnet")


def test_there_is_one_recipe_per_paper_and_every_field_has_a_source():
    assert tuple(ir.RECIPES) == PAPER_NAMES
    for recipe in ir.RECIPES.values():
        rows = recipe.rows()
        assert [field for field, _, _ in rows] == list(ir._SOURCED)
        assert all(source.strip() for _, _, source in rows)


@pytest.mark.parametrize("name, stated", [
    # (optimizer, batch, epochs, lr, weight decay) as each paper states them (None: unstated)
    ("alexnet", ("sgd", 128, 90, 0.01, 5e-4)),        # Sec. 5
    ("vgg", ("sgd", 256, 74, 0.01, 5e-4)),            # Sec. 3.1
    ("resnet", ("sgd", 256, 120, 0.1, 1e-4)),         # Sec. 3.4 (60e4 iterations of 256)
    ("densenet", ("sgd", 256, 90, 0.1, 1e-4)),        # Sec. 4.2
    ("efficientnet", ("rmsprop", None, None, 0.256, 1e-5)),  # Sec. 5.2
])
def test_the_papers_stated_numbers(name, stated):
    r = ir.get(name)
    got = (r.optimizer_name, r.batch_size, r.epochs, r.lr, r.weight_decay)
    for want, have in zip(stated, got):
        if want is not None:
            assert have == want


def test_the_schedules_the_papers_state():
    assert ir.get("densenet").milestones == (30, 60) and ir.get("densenet").nesterov
    g = ir.get("googlenet")  # "decreasing the learning rate by 4% every 8 epochs"
    assert (g.lr_schedule, g.decay_rate, g.decay_epochs) == ("exponential", 0.96, 8)
    e = ir.get("efficientnet")  # "decays by 0.97 every 2.4 epochs"
    assert (e.decay_rate, e.decay_epochs, e.rmsprop_rho, e.momentum) == (0.97, 2.4, 0.9, 0.9)
    assert ir.get("resnet").scale_range == (256, 480) and ir.get("vgg").scale_range == (256, 512)
    for name in ("alexnet", "vgg", "resnet"):  # the papers' rule: /10 on a plateau
        assert ir.get(name).plateau


def test_unknown_names_and_bad_fields_are_one_line_errors():
    with pytest.raises(ValueError, match=r"`name` must be one of .*Received: name='inception'"):
        ir.get("inception")
    r = ir.get("resnet")
    with pytest.raises(ValueError, match="milestones.*Received"):
        ir.ImageNetRecipe(**{**r.__dict__, "milestones": (30, 200)}).check()
    with pytest.raises(ValueError, match="every field needs a source; missing.*'lr'"):
        sources = {k: v for k, v in r.sources.items() if k != "lr"}
        ir.ImageNetRecipe(**{**r.__dict__, "sources": sources}).check()


def test_linear_scaling_rule():
    assert ir.scaled_lr(ir.get("resnet"), 1024) == pytest.approx(0.4)
    assert ir.scaled_lr(ir.get("efficientnet"), 256) == pytest.approx(0.016)


def _lr(schedule, step):
    return float(np.asarray(schedule(step)))


def test_step_schedule_divides_at_the_milestone_epochs():
    s = ir.get("densenet").schedule(steps_per_epoch=100)
    assert [_lr(s, k) for k in (0, 2999, 3000, 5999, 6000, 8999)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_exponential_schedule_with_warmup():
    s = ir.get("efficientnet").schedule(steps_per_epoch=10)
    assert _lr(s, 0) == pytest.approx(0.256 / 50)  # step 1 of a 50-step linear warm-up
    assert _lr(s, 49) == pytest.approx(0.256)
    # after the warm-up, 0.97 per 2.4 epochs counted from the first step (staircase)
    assert _lr(s, 50) == pytest.approx(0.256 * 0.97 ** 2)
    assert _lr(s, 240) == pytest.approx(0.256 * 0.97 ** 10)


def test_the_optimizers_the_recipes_build():
    from cnn_keras.training.optim import L2RMSprop, L2SGD

    sgd = ir.get("densenet").optimizer(100)
    assert isinstance(sgd, L2SGD) and sgd.nesterov and sgd.l2 == 1e-4 and not sgd.use_ema
    rms = ir.get("efficientnet").optimizer(100)
    assert isinstance(rms, L2RMSprop) and (rms.rho, rms.momentum, rms.epsilon) == (0.9, 0.9, 1e-3)
    assert rms.l2 == 1e-5 and rms.use_ema and rms.ema_momentum == 0.9999


def test_l2rmsprop_is_rmsprop_on_the_gradient_plus_l2_w():
    """One step by hand: g' = g + λw; ms = ρ·0 + (1-ρ)·g'²; mom = lr·g'/sqrt(ms + ε); w -= mom."""
    import keras

    from cnn_keras.training.optim import L2RMSprop

    lam, lr, rho, eps = 0.1, 0.01, 0.9, 1e-3
    w0 = np.array([[0.5], [-2.0]], "float32")
    x, y = np.array([[1.0, 2.0]], "float32"), np.array([[0.0]], "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
        1, use_bias=False, kernel_initializer=keras.initializers.Constant(w0))])
    model.compile(optimizer=L2RMSprop(lr, rho=rho, momentum=0.9, epsilon=eps, l2=lam),
                  loss="mse")
    model.train_on_batch(x, y)
    g = 2 * (x @ w0 - y) * x.T  # d(mse)/dw for one sample
    g = g + lam * w0
    expected = w0 - lr * g / np.sqrt((1 - rho) * g ** 2 + eps)
    np.testing.assert_allclose(np.asarray(model.layers[0].kernel), expected, rtol=1e-5)


def test_the_docs_page_is_current():
    from pathlib import Path

    page = Path(__file__).parents[2] / "docs" / "imagenet-recipes.md"
    assert page.read_text() == ir.markdown(), (
        "docs/imagenet-recipes.md is out of date: "
        "run python -m cnn_keras.training.imagenet_recipes")


def test_rescaled_keeps_the_schedules_shape():
    r = ir.rescaled(ir.get("resnet"), batch_size=64, epochs=12)
    assert (r.name, r.batch_size, r.lr, r.epochs) == ("resnet-batch64-12ep", 64, 0.025, 12)
    assert r.milestones == (3, 6, 9)
    assert ir.rescaled(ir.get("resnet"), epochs=10).milestones == (3, 5, 8)  # 2.5, 5, 7.5
    e = ir.rescaled(ir.get("efficientnet"), epochs=35)
    assert e.decay_epochs == pytest.approx(0.24) and e.warmup_epochs == pytest.approx(0.5)
    assert ir.rescaled(ir.get("vgg")) is ir.get("vgg")


def test_rescaled_warms_up_a_large_batch_on_request():
    """Goyal et al. 2017: the linear scaling rule, with a warm-up from the small batch's rate."""
    r = ir.rescaled(ir.get("resnet"), batch_size=8192, warmup_epochs=5)
    assert (r.name, r.lr, r.warmup_epochs) == ("resnet-batch8192-warmup5", 3.2, 5)
    steps = r.schedule(10)  # 10 steps an epoch: 50 of warm-up, then the paper's rate
    assert [float(steps(s)) for s in (0, 24, 60)] == pytest.approx([3.2 / 50, 3.2 / 2, 3.2])
    for bad in (-1, 1000):
        with pytest.raises(ValueError, match="warmup_epochs.*Received"):
            ir.rescaled(ir.get("resnet"), warmup_epochs=bad)
