"""TensorFlow-specific training pieces: the fused batch norm, one trace of the train step, and
the oneDNN default that only the applications set."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras import training
from tiny import SMALL, tiny_data


def test_the_train_step_is_traced_once(tmp_path):
    """Keras on TensorFlow leaves the metric and optimizer variables to the first traced step,
    and TensorFlow then traces it a second time; `train` creates them before `fit`."""
    traces = []

    class CountTraces(keras.callbacks.Callback):
        def set_model(self, model):
            super().set_model(model)
            if not traces and not hasattr(model.train_step, "counted"):
                step = model.train_step

                def counted(data):
                    traces.append(1)
                    return step(data)

                counted.counted = True
                model.train_step = counted

    rows = training.train(SMALL, tiny_data(), tmp_path, recipe=training.scaled_recipe(
        2, batch_size=32), verbose=0, callbacks=[CountTraces()])
    assert len(rows) == 2 and len(traces) == 1


@pytest.mark.parametrize("name, layers", [("resnet20", 19), ("airbench94", 6)])
def test_fused_batch_norm_is_the_same_math(name, layers):
    # airbench's batch norms have no scale: the kernel gets ones in its place
    def step(fuse):
        keras.utils.set_random_seed(0)
        model = cnn_keras.build(name, classes=10)
        model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False,
                      loss="sparse_categorical_crossentropy")
        fused = training.fuse_batch_norm(model) if fuse else 0
        x = np.random.default_rng(0).normal(size=(32, 32, 32, 3)).astype("float32")
        loss = float(model.train_on_batch(x, np.arange(32) % 10))
        return fused, loss, model.get_weights()

    (n0, loss0, w0), (n1, loss1, w1) = step(False), step(True)
    assert (n0, n1) == (0, layers)  # every BN layer
    assert loss1 == pytest.approx(loss0, rel=1e-6)
    for a, b in zip(w0, w1):  # weights after one step, moving mean and variance included
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-4)  # float summation order


def _one_step(name, fast, policy="float32"):
    """Loss and weights after one SGD step of `name` (seed 0), with the TensorFlow kernels of
    `fuse_batch_norm` and `compile_activations` or without them, under `policy`."""
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy(policy)
    try:
        model = cnn_keras.build(name, classes=10)
    finally:
        keras.config.set_dtype_policy("float32")
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False,
                  loss="sparse_categorical_crossentropy")
    counts = (training.fuse_batch_norm(model), training.compile_activations(model)) if fast \
        else (0, 0)
    x = np.random.default_rng(0).normal(size=(32, 32, 32, 3)).astype("float32")
    loss = float(model.train_on_batch(x, np.arange(32) % 10))
    return counts, loss, model.get_weights(), model.predict(x, verbose=0)


def test_xla_activations_are_the_same_math():
    (_, loss0, w0, p0), (c1, loss1, w1, p1) = _one_step("airbench94", False), \
        _one_step("airbench94", True)
    assert c1 == (6, 7)  # 6 batch norms, 7 GELUs
    assert loss1 == pytest.approx(loss0, rel=1e-6)
    for a, b in zip(w0, w1):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(p0, p1, rtol=1e-3, atol=1e-5)  # inference through them too


def test_the_tensorflow_kernels_under_mixed_bfloat16_keep_the_step():
    # batch norm on bfloat16 activations (statistics in float32) and GELU rounded once: the
    # step of Keras' own mixed_bfloat16 path within bfloat16's precision
    (_, loss0, w0, _), (c1, loss1, w1, _) = _one_step("airbench94", False, "mixed_bfloat16"), \
        _one_step("airbench94", True, "mixed_bfloat16")
    assert c1 == (6, 7)
    assert loss1 == pytest.approx(loss0, rel=2e-2)
    changed = [np.abs(b - a).max() for a, b in zip(w0, w1)]
    assert max(changed) < 0.05, changed


def test_xla_activations_leave_the_saved_model_alone(tmp_path):
    model = cnn_keras.build("airbench94", classes=10, widths=(8, 8, 8))
    assert training.compile_activations(model) == 7
    assert training.compile_activations(model) == 0  # once per layer
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert all(not hasattr(layer, "_cnn_keras_xla") for layer in loaded.layers)
    x = np.random.default_rng(1).normal(size=(4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# --- Progressive resizing --------------------------------------------------------------------


def test_use_onednn_by_default_respects_the_user_and_an_imported_tensorflow(monkeypatch):
    code = ("import os, sys; from cnn_keras.backends.tensorflow import use_onednn_by_default; "
            "use_onednn_by_default(); print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'), "
            "'tensorflow' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    run = lambda e: subprocess.run([sys.executable, "-c", code], env=e, text=True,  # noqa: E731
                                   capture_output=True, check=True).stdout.split()
    assert run(env) == ["1", "False"]  # set, and TensorFlow not imported by doing so
    assert run({**env, "TF_ENABLE_ONEDNN_OPTS": "0"}) == ["0", "False"]  # the user's choice
    # too late: this process has imported TensorFlow already
    from cnn_keras.backends.tensorflow import use_onednn_by_default

    assert "tensorflow" in sys.modules
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    with pytest.warns(UserWarning, match="already imported"):
        use_onednn_by_default()
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ


def test_startup_noise_is_dropped_and_everything_else_kept():
    from cnn_keras.backends.tensorflow import drop_startup_noise

    noise = ("WARNING: All log messages before absl::InitializeLog() is called are written to "
             "STDERR\n"
             "I0000 00:00:1796227304.980324    4839 cudart_stub.cc:31] Could not find cuda "
             "drivers on your machine, GPU will not be used.\n"
             "E0000 00:00:1796227313.317654    4839 cuda_platform.cc:52] failed call to cuInit: "
             "INTERNAL: CUDA error\n"
             "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
             "TensorFlow with the appropriate compiler flags.\n")
    kept = ("E0000 00:00:1796227313.317654    4839 some_op.cc:7] a real error\n"
            "Traceback (most recent call last):\n")
    assert drop_startup_noise(noise + kept + noise) == kept
