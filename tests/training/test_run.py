"""The resumable, reproducible `train`, its run folder, and the fast recipe's benchmark script."""

import dataclasses
import json

import keras
import numpy as np
import pytest

import cnn_keras
from built import infer, quickly
from cnn_keras import data as data_lib
from cnn_keras import training
from tiny import SMALL, tiny_data


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
    # the machine of each session, where a run may be resumed on another one
    assert info["resumed"][0]["at_epoch"] == 1
    assert info["resumed"][0]["hardware"]["cores"] == info["hardware"]["cores"]
    # finished: a third call does nothing and returns the history
    assert training.train(SMALL, data, tmp_path / "c", recipe=recipe, seed=3,
                          verbose=0) == resumed


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


def test_steps_per_execution_changes_speed_not_results(tmp_path):
    data = tiny_data(n_train=128)
    recipe = training.fast_recipe(2, batch_size=32)  # 4 steps an epoch
    one = training.train(SMALL, data, tmp_path / "a", recipe=recipe, seed=2, verbose=0,
                         engine=training.Engine(steps_per_execution=1))
    auto = training.train(SMALL, data, tmp_path / "b", recipe=recipe, seed=2, verbose=0,
                          engine=training.Engine(steps_per_execution="auto"))
    assert json.loads((tmp_path / "b" / "run.json").read_text())["steps_per_execution"] == 4
    for key in ("loss", "val_loss", "lr"):
        np.testing.assert_allclose([r[key] for r in auto], [r[key] for r in one], rtol=1e-5)
    for bad in (0, 3, "4"):
        with pytest.raises(ValueError, match="steps_per_execution"):
            training.train(SMALL, data, tmp_path / "c", recipe=recipe, verbose=0,
                           engine=training.Engine(steps_per_execution=bad))


def _fast_recipe_script():
    from scripts import benchmark_script

    return benchmark_script("fast_recipe")


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
        training.train(SMALL, data, tmp_path / "d", recipe=recipe,
                       engine=training.Engine(pipeline="numpy"))
    with pytest.raises(ValueError, match="smaller than the images.*Received: low_res_size=40"):
        training.train(SMALL, data, tmp_path / "d", recipe=dataclasses.replace(
            recipe, low_res_size=40))
    assert not (tmp_path / "d").exists()


def test_runs_recorded_before_low_res_still_compare_equal():
    new = training.scaled_recipe(2).to_dict(10)
    old = {k: v for k, v in new.items() if not k.startswith("low_res")}
    same = training.RunFolder.comparable
    assert same({"recipe": old}) == same({"recipe": new})


def test_a_run_on_other_data_of_the_same_size_is_not_resumed():
    same = training.RunFolder.comparable
    cifar = {"dataset": {"name": "cifar10", "num_train": 1024, "num_test": 500}}
    generated = {"dataset": {"name": "synthetic", "num_train": 1024, "num_test": 500}}
    assert same(cifar) != same(generated) and same(cifar) == same(dict(cifar))


def test_train_on_a_logits_model_learns(tmp_path):
    rows = training.train(SMALL, tiny_data(), tmp_path, recipe=training.scaled_recipe(
        3, batch_size=32, lr=0.01), model_kwargs={"classifier_activation": None}, verbose=0)
    assert rows[-1]["loss"] < rows[0]["loss"] and rows[-1]["accuracy"] > 0.5


def test_a_diverging_run_stops_and_keeps_its_finished_epochs(tmp_path):
    class Poison(keras.callbacks.Callback):  # the second epoch's weights become NaN
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                for w in self.model.trainable_weights:
                    w.assign(np.full(w.shape, np.nan, "float32"))

    recipe = training.scaled_recipe(3, batch_size=32)
    with pytest.raises(training.TrainingDiverged, match="epoch 2.*1 epoch.*kept"):
        training.train(SMALL, tiny_data(), tmp_path, recipe=recipe, verbose=0,
                       callbacks=[Poison()])
    assert [r["epoch"] for r in training.read_history_csv(tmp_path / "history.csv")] == [1]
    folder = training.RunFolder(tmp_path)
    assert folder.progress()["epoch"] == 1 and "diverged" in folder.info()["status"]
    assert (tmp_path / "checkpoint-0001.keras").exists()


def test_recipe_and_engine_reject_bad_numbers_before_any_work(tmp_path):
    for bad in (float("nan"), float("inf"), 0.0, -0.1):
        with pytest.raises(ValueError, match="finite number > 0.*Received: lr="):
            training.scaled_recipe(2, lr=bad)
    with pytest.raises(ValueError, match="Received: weight_decay=-1"):
        training.scaled_recipe(2, weight_decay=-1)
    with pytest.raises(ValueError, match="Received: pipeline='gpu'"):
        training.Engine(pipeline="gpu")
    with pytest.raises(ValueError, match="Received: dtype_policy='float16'"):
        training.Engine(dtype_policy="float16")
    with pytest.raises(ValueError, match="True or False. Received: fused_bn='no'"):
        training.Engine(fused_bn="no")
    with pytest.raises(ValueError, match="<= 10.*Received: warmup_epochs=20"):
        training.scaled_recipe(10, warmup_epochs=20)
    with pytest.raises(ValueError, match="Received: depth=-5"):
        training.paper_recipe(depth=-5)
    a_file = tmp_path / "taken"
    a_file.write_text("keep me")
    with pytest.raises(ValueError, match="existing file.*Received: out_dir="):
        training.train(SMALL, tiny_data(), a_file, recipe=training.scaled_recipe(1))
    assert a_file.read_text() == "keep me"


def test_train_rejects_bad_seed_data_and_model_kwargs_before_making_its_folder(tmp_path):
    recipe = training.scaled_recipe(1)
    cases = [({"seed": -1}, "Received: seed=-1"),
             ({"data": np.zeros((4, 32, 32, 3))}, "data.ImageData.*Received: data='ndarray'"),
             ({"model_kwargs": {"classes": 10}}, "'classes' or 'input_shape'.*Received: model_kw"),
             ({"model_kwargs": ["lrn"]}, "a dict.*Received: model_kwargs="),
             ({"model_kwargs": {"widht": 0.5}}, r"unexpected keyword argument\(s\) \['widht'\]")]
    for i, (kwargs, message) in enumerate(cases):
        out = tmp_path / f"run{i}"
        with pytest.raises((ValueError, TypeError), match=message):
            data = kwargs.pop("data") if "data" in kwargs else tiny_data()
            training.train(SMALL, data, out, recipe=recipe, **kwargs)
        assert not out.exists()


def test_a_finished_run_saves_a_model_for_raw_images(tmp_path):
    """model.keras holds the per-pixel mean: keras.models.load_model + predict on uint8 images
    gives what the checkpoint gives on the pipeline's preprocessed test images."""
    data = tiny_data()
    training.train("resnet20", data, tmp_path, recipe=training.scaled_recipe(1, batch_size=32),
                   verbose=0)
    loaded = keras.models.load_model(tmp_path / training.MODEL_FILE)  # the package is imported
    x, _ = data_lib.eval_arrays(data.x_test, data.y_test,
                                mean=data_lib.per_pixel_mean(data.x_train))
    expected = training.RunFolder(tmp_path).load_model().predict(x, verbose=0)
    np.testing.assert_allclose(loaded.predict(data.x_test, verbose=0), expected, atol=1e-5)
    training.RunFolder(tmp_path).discard()
    assert not (tmp_path / training.MODEL_FILE).exists()


@pytest.mark.parametrize("pipeline,recipe_change,message", [
    ("layer", {"augment": False}, "trains without augmentation.*Received: pipeline='layer'"),
    ("numpy", {"low_res_size": 16, "low_res_epochs": 1},
     "Progressive resizing .* is done by the tf.data pipeline.*Received: pipeline='numpy'"),
])
def test_train_refuses_a_pipeline_the_recipe_cannot_use(tmp_path, pipeline, recipe_change,
                                                        message):
    recipe = dataclasses.replace(training.scaled_recipe(2, batch_size=32), **recipe_change)
    with pytest.raises(ValueError, match=message):
        training.train(SMALL, tiny_data(), tmp_path / "run", recipe=recipe, verbose=0,
                       engine=training.Engine(pipeline=pipeline))
    assert not (tmp_path / "run").exists()  # refused before the run folder is made
