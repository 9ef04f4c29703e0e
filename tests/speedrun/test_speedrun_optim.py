"""GroupSGD and the summed loss against a hand computation of PyTorch's SGD (two steps)."""

import keras
import numpy as np

from cnn_keras.training.losses import SmoothedSparseCrossentropy
from cnn_keras.training.optim import GroupSGD
from cnn_keras.training.schedules import TriangleSchedule


def _torch_sgd(p, grads, lr, momentum, weight_decay):
    """PyTorch's SGD (Nesterov, no dampening), written out."""
    buf = None
    for g in grads:
        d = g + weight_decay * p
        buf = d.copy() if buf is None else momentum * buf + d
        p = p - lr * (d + momentum * buf)
    return p


def test_a_summed_loss_and_a_bias_group_step_as_pytorch_does():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="fc")])
    w0, b0 = (np.array(v) for v in model.get_weights())
    lr, mom, l2 = 0.01, 0.85, 0.3
    model.compile(optimizer=GroupSGD(lr, momentum=mom, l2=l2, lr_multipliers={"bias": 64.0}),
                  loss=keras.losses.MeanSquaredError(reduction="sum"))
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)

    def grads(w, b):  # of the summed loss: sum over examples of mean((xw + b - y)^2)
        e = x @ w + b - y  # d/d(out) of the per-example mean of two squares is e
        return x.T @ e, e.sum(axis=0)

    w1, b1 = w0, b0
    gw, gb = [], []
    for _ in range(2):  # PyTorch's groups: kernel (lr, l2), bias (64 lr, l2 / 64)
        g = grads(w1, b1)
        gw.append(g[0]), gb.append(g[1])
        w1 = _torch_sgd(w0, gw, lr, mom, l2)
        b1 = _torch_sgd(b0, gb, 64 * lr, mom, l2 / 64)
    w, b = model.get_weights()
    np.testing.assert_allclose(w, w1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, b1, rtol=1e-5, atol=1e-6)


def test_a_frozen_variable_stays_and_its_group_is_found_by_path():
    kernel = keras.Variable(np.ones(3, "float32"), name="kernel")
    beta = keras.Variable(np.ones(2, "float32"), name="beta")
    opt = GroupSGD(0.1, momentum=0.9, l2=0.0, lr_multipliers={"beta": 10.0})
    opt.build([kernel, beta])
    assert (opt.multiplier(kernel), opt.multiplier(beta)) == (1.0, 10.0)
    opt.apply([np.ones(3, "float32"), np.ones(2, "float32")], [kernel, beta])
    opt.freeze(beta)
    before = np.array(beta)
    opt.apply([np.ones(3, "float32"), np.ones(2, "float32")], [kernel, beta])
    np.testing.assert_array_equal(np.array(beta), before)  # not even the momentum moves it
    np.testing.assert_allclose(np.array(before), 1 - 0.1 * 10 * 1.9)
    assert GroupSGD.from_config(opt.get_config()).lr_multipliers == {"beta": 10.0}


def test_the_triangle_schedule_is_the_references():
    total = 476
    s = TriangleSchedule(1.0, total)
    warm = int(total * 0.23)

    def reference(step):  # airbench94.py, get_lr
        if step < warm:
            frac = step / warm
            return 0.2 * (1 - frac) + 1.0 * frac
        frac = (step - warm) / (total - warm)
        return 1.0 * (1 - frac) + 0.07 * frac

    for step in (0, 1, warm - 1, warm, warm + 1, 300, total - 1, total):
        assert float(s(step)) == np.float32(reference(step)) or abs(
            float(s(step)) - reference(step)) < 1e-6


def test_the_smoothed_loss_can_be_summed():
    loss = SmoothedSparseCrossentropy(0.2, from_logits=True, reduction="sum")
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]], "float32")
    labels = np.array([0, 2])
    mean = SmoothedSparseCrossentropy(0.2, from_logits=True)(labels, logits)
    assert float(loss(labels, logits)) == float(2 * mean) or abs(
        float(loss(labels, logits)) - 2 * float(mean)) < 1e-5
