"""Training: the paper's weight decay, recipes, resumable and reproducible `train`."""

import dataclasses
import json

import keras
import numpy as np
import pytest

import cnn_keras
from built import infer, quickly
from cnn_keras import data as data_lib
from cnn_keras import training

# AlexNet's Fig. 1 four-layer CNN: where a test is about the training machinery rather than a
# net, it is traced in seconds instead of ResNet-20's ten (resume with batch norm is tested
# with ResNet-20 in test_numpy_pipeline, test_augment_layer and test_cli).
SMALL = "alexnet_fig1"


def tiny_data(n_train=96, n_test=40, seed=0):
    """Generated 32x32 images whose class is a colour: learnable in a few steps."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = rng.integers(0, 3, n).astype("int32")
        x = rng.integers(0, 60, (n, 32, 32, 3))
        x[np.arange(n), :, :, y] += 150
        return x.astype("uint8"), y

    xtr, ytr = make(n_train)
    xte, yte = make(n_test)
    return data_lib.ImageData(xtr, ytr, xte, yte, ("r", "g", "b"), source="generated",
                              name="tiny")


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


def test_train_writes_history_and_metadata(tmp_path):
    data = tiny_data()
    rows = training.train("resnet20", data, tmp_path, recipe=training.scaled_recipe(
        3, batch_size=32), seed=1, verbose=0)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds"
    assert len(lines) == 4
    hist = training.read_history_csv(tmp_path / "history.csv")
    assert hist[-1]["lr"] == pytest.approx(0.001)
    assert hist[-1]["loss"] < hist[0]["loss"]
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["status"] == "finished"
    assert info["params"]["trainable"] == 269_722 - (64 * 10 + 10) + (64 * 3 + 3)  # 3 classes
    for key in ("command", "versions", "hardware", "git_commit", "config"):
        assert key in info
    assert info["config"]["seed"] == 1 and info["config"]["dataset"]["num_train"] == 96


def test_same_seed_same_losses_and_resume_loses_nothing(tmp_path):
    data = tiny_data()
    recipe = training.scaled_recipe(3, batch_size=32)
    full = training.train(SMALL, data, tmp_path / "a", recipe=recipe, seed=3, verbose=0)
    again = training.train(SMALL, data, tmp_path / "b", recipe=recipe, seed=3, verbose=0)
    assert [r["loss"] for r in full] == [r["loss"] for r in again]

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        training.train(SMALL, data, tmp_path / "c", recipe=recipe, seed=3, verbose=0,
                       callbacks=[Interrupt()])
    assert len(training.read_history_csv(tmp_path / "c" / "history.csv")) == 1
    resumed = training.train(SMALL, data, tmp_path / "c", recipe=recipe, seed=3, verbose=0)
    assert [r["epoch"] for r in resumed] == [1, 2, 3]
    np.testing.assert_allclose([r["loss"] for r in resumed], [r["loss"] for r in full],
                               rtol=1e-5)
    np.testing.assert_allclose([r["val_loss"] for r in resumed], [r["val_loss"] for r in full],
                               rtol=1e-5)
    info = json.loads((tmp_path / "c" / "run.json").read_text())
    assert info["resumed"][0]["at_epoch"] == 1
    # finished: a third call does nothing and returns the history
    assert training.train(SMALL, data, tmp_path / "c", recipe=recipe, seed=3,
                          verbose=0) == resumed


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


def test_a_second_process_on_the_same_folder_waits(tmp_path, capsys):
    import fcntl
    import threading

    rows = []
    kw = {"recipe": training.scaled_recipe(1, batch_size=32), "verbose": 1}
    with open(tmp_path / ".train.lock", "w") as other:  # as another process holds it
        fcntl.flock(other, fcntl.LOCK_EX)
        waiting = threading.Thread(
            target=lambda: rows.extend(training.train(SMALL, tiny_data(), tmp_path, **kw)))
        waiting.start()
        waiting.join(timeout=3)
        assert waiting.is_alive() and not (tmp_path / training.PROGRESS).exists()
    waiting.join(timeout=120)
    assert not waiting.is_alive() and len(rows) == 1
    assert "another process is training here; waiting for it" in capsys.readouterr().out


def test_resume_with_other_settings_is_refused(tmp_path):
    data = tiny_data()
    training.train(SMALL, data, tmp_path, recipe=training.scaled_recipe(1, batch_size=32),
                   seed=0, verbose=0)
    with pytest.raises(ValueError, match="other settings"):
        training.train(SMALL, data, tmp_path,
                       recipe=training.scaled_recipe(1, batch_size=32), seed=5, verbose=0)
    rows = training.train(SMALL, data, tmp_path, recipe=training.scaled_recipe(
        1, batch_size=32), seed=5, verbose=0, restart=True)
    assert len(rows) == 1


def test_unknown_model_fails_before_work(tmp_path):
    with pytest.raises(ValueError, match="Unknown model"):
        training.train("resnet21", tiny_data(), tmp_path, recipe=training.scaled_recipe(1))
    assert not (tmp_path / "run.json").exists()


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


def test_steps_per_execution_changes_speed_not_results(tmp_path):
    data = tiny_data(n_train=128)
    recipe = training.fast_recipe(2, batch_size=32)  # 4 steps an epoch
    one = training.train(SMALL, data, tmp_path / "a", recipe=recipe, seed=2, verbose=0,
                         steps_per_execution=1)
    auto = training.train(SMALL, data, tmp_path / "b", recipe=recipe, seed=2, verbose=0,
                          steps_per_execution="auto")
    assert json.loads((tmp_path / "b" / "run.json").read_text())["steps_per_execution"] == 4
    for key in ("loss", "val_loss", "lr"):
        np.testing.assert_allclose([r[key] for r in auto], [r[key] for r in one], rtol=1e-5)
    for bad in (0, 3, "4"):
        with pytest.raises(ValueError, match="steps_per_execution"):
            training.train(SMALL, data, tmp_path / "c", recipe=recipe, verbose=0,
                           steps_per_execution=bad)


def _fast_recipe_script():
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "fast_recipe.py"
    spec = importlib.util.spec_from_file_location("fast_recipe", script)
    fast = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fast)
    return fast


def test_fast_recipe_fits_its_schedule_to_the_budget():
    fast = _fast_recipe_script()
    fit, cost = fast.epochs_for_budget, fast.low_res_cost
    # 1,100 images/s (2 Zen 5 cores): ~55 s an epoch, 31 in the 29 minutes after set-up;
    # 248 (2 Zen 3 cores): ~242 s, 7
    assert fit(1100, 30) == 31 and fit(248, 30) == 7
    assert fit(21_000, 30) == 608 and fit(10, 30) == 1 and fit(248, 60) == 14
    # with the first 2/3 of the epochs at 24x24 (0.615x the time each): 10 on Zen 3, 43 on Zen 5
    assert cost(24) == pytest.approx(0.615) and cost(16) == pytest.approx(0.34) and cost(40) == 1
    assert fit(252.6, 30, low_res=24) == 10 and fit(1100, 30, low_res=24) == 43
    assert fit(290.7, 30, low_res=24) == 11  # was 12 at 1.15, 45 s past the budget
    assert fit(10, 30, low_res=24) == 2 and fit(252.6, 30, low_res=16) == 13
    assert fit(272.2, 30, low_res=16) == 13  # was 16 with the pixels alone, 18 s past it
    split = fast.low_res_split  # the script's copy, free of TensorFlow
    assert [split(e) for e in range(2, 80)] == [training.low_res_epochs(e) for e in range(2, 80)]


def test_fast_recipe_report(tmp_path):
    fast = _fast_recipe_script()
    data = tiny_data()
    rows = training.train("resnet20", data, tmp_path / "resnet20", verbose=0,
                          recipe=training.fast_recipe(2, batch_size=32))
    fitted = {"bench_images_per_sec": 248.0, "epochs": 2}  # as --fit-budget leaves it
    (tmp_path / "fitted.json").write_text(json.dumps(fitted))
    summary = fast.report(tmp_path / "resnet20", data, budget_minutes=30)
    assert summary["fitted_to_budget"] == fitted
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert summary["epochs_within_budget"] == 2 and summary["recipe"]["name"] == "fast-2ep"
    assert summary["seed"] == 0
    assert summary["test_accuracy_within_budget"] == rows[-1]["val_accuracy"]
    assert summary["final_test_accuracy"] == pytest.approx(rows[-1]["val_accuracy"], abs=1e-6)
    assert 0 <= summary["final_test_accuracy_flip_tta"] <= 1
    assert summary["wall_seconds"] is not None and summary["epoch_end_seconds"][-1] > 0


def test_fused_batch_norm_is_the_same_math():
    def step(fuse):
        keras.utils.set_random_seed(0)
        from cnn_keras import resnet20

        model = resnet20(classes=10)
        model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False,
                      loss="sparse_categorical_crossentropy")
        fused = training.fuse_batch_norm(model) if fuse else 0
        x = np.random.default_rng(0).normal(size=(32, 32, 32, 3)).astype("float32")
        loss = float(model.train_on_batch(x, np.arange(32) % 10))
        return fused, loss, model.get_weights()

    (n0, loss0, w0), (n1, loss1, w1) = step(False), step(True)
    assert (n0, n1) == (0, 19)  # every BN layer of ResNet-20
    assert loss1 == pytest.approx(loss0, rel=1e-6)
    for a, b in zip(w0, w1):  # weights after one step, moving mean and variance included
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-4)  # float summation order


# --- Progressive resizing --------------------------------------------------------------------


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


def test_any_image_size_keeps_the_layers_and_refuses_fixed_size_models():
    model = quickly(cnn_keras.build, "resnet20")
    free = training.any_image_size(model, try_size=24)
    assert free.inputs[0].shape == (None, None, None, 3) and free.name == model.name
    assert [w.path for w in free.weights] == [w.path for w in model.weights]
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(infer(free, x), infer(model, x))
    assert infer(free, x[:, :24, :24]).shape == (2, 10)
    fixed = quickly(cnn_keras.build, "alexnet_cifar")  # Flatten -> Dense: 32x32 only
    with pytest.raises(ValueError, match="'alexnet_cifar' fails on them.*fc6.*"
                                         "Received: low_res_size=24"):
        training.any_image_size(fixed, try_size=24)


def test_train_dataset_resizes_the_first_epochs_and_resumes_inside_them():
    x, y = tiny_data().x_train, tiny_data().y_train
    kw = {"batch_size": 32, "mean": data_lib.per_pixel_mean(x), "seed": 1, "epochs": 3,
          "low_res_size": 16, "low_res_epochs": 2}
    full = [b[0].numpy() for b in data_lib.train_dataset(x, y, **kw)]  # 3 batches an epoch
    assert [b.shape[1] for b in full] == [16] * 6 + [32] * 3
    for start in (1, 2):  # resumed inside the low-res epochs, and after them
        resumed = [b[0].numpy() for b in data_lib.train_dataset(x, y, **kw, initial_epoch=start)]
        assert len(resumed) == 3 * (3 - start)
        for a, b in zip(resumed, full[3 * start:]):
            np.testing.assert_array_equal(a, b)
    plain = [b[0].numpy() for b in data_lib.train_dataset(x, y, **{**kw, "low_res_size": 0,
                                                                 "low_res_epochs": 0})]
    np.testing.assert_array_equal(plain[-1], full[-1])  # the full-size epochs are unchanged
    with pytest.raises(ValueError, match=r"smaller than the images \(32x32\).*"
                                         "Received: low_res_size=32"):
        data_lib.train_dataset(x, y, **{**kw, "low_res_size": 32})


@pytest.mark.slow
def test_train_with_low_res_resumes_exactly_and_checks_its_arguments(tmp_path):
    """ResNet-20 (global pooling). The pipeline and the size are checked before any work; a
    model that fixes its image size fails once built, before its first step."""
    data = tiny_data()
    recipe = training.with_low_res(training.scaled_recipe(3, batch_size=32), 16)
    full = training.train("resnet20", data, tmp_path / "a", recipe=recipe, seed=2, verbose=0)
    info = json.loads((tmp_path / "a" / "run.json").read_text())
    assert info["config"]["recipe"]["low_res_epochs"] == 2 and info["macs"] > 0
    assert training.load_checkpoint_model(tmp_path / "a").inputs[0].shape[1:3] == (None, None)

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        training.train("resnet20", data, tmp_path / "b", recipe=recipe, seed=2, verbose=0,
                       callbacks=[Interrupt()])
    resumed = training.train("resnet20", data, tmp_path / "b", recipe=recipe, seed=2, verbose=0)
    np.testing.assert_allclose([r["loss"] for r in resumed], [r["loss"] for r in full],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="other settings"):  # the same run without it
        training.train("resnet20", data, tmp_path / "b", recipe=training.scaled_recipe(
            3, batch_size=32), seed=2, verbose=0)
    with pytest.raises(ValueError, match="'alexnet_fig1' fails on them.*low_res_size=16"):
        training.train(SMALL, data, tmp_path / "c", recipe=recipe)  # Flatten -> Dense
    assert not (tmp_path / "c" / "run.json").exists()
    with pytest.raises(ValueError, match="tf.data.*Received: pipeline='numpy'"):
        training.train(SMALL, data, tmp_path / "d", recipe=recipe, pipeline="numpy")
    with pytest.raises(ValueError, match="smaller than the images.*Received: low_res_size=40"):
        training.train(SMALL, data, tmp_path / "d", recipe=dataclasses.replace(
            recipe, low_res_size=40))
    assert not (tmp_path / "d").exists()


def test_runs_recorded_before_low_res_still_compare_equal():
    new = training.scaled_recipe(2).to_dict(10)
    old = {k: v for k, v in new.items() if not k.startswith("low_res")}
    assert training._comparable({"recipe": old}) == training._comparable({"recipe": new})
