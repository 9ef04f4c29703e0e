"""Studies as data: the record mode, per-variant and per-study recipe settings, and the
augmentation switch they use (AlexNet's Fig. 1 trains with "no regularization of any kind")."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from cnn_keras import data as data_lib
from cnn_keras import training
from cnn_keras.experiments import runner, studies

from tiny import SMALL, tiny_data

REPO = Path(__file__).resolve().parents[2]


def test_fig1_sweep_gives_each_variant_its_learning_rate_and_no_augmentation():
    study = studies.get("fig1_lr")
    rates = {}
    for v in study.variants:
        rec = runner.recipe(study, "record", variant=v)
        assert rec.augment is False and rec.weight_decay == 0 and rec.milestones == ()
        assert rec.epochs == 25 and rec.name.endswith(f"-no-augment-lr{rec.lr:g}")
        rates.setdefault(v.kwargs["activation"], []).append(rec.lr)
    assert rates == {act: [0.003, 0.01, 0.03, 0.1] for act in ("relu", "tanh", "sigmoid")}


def test_a_study_without_a_record_mode_says_which_modes_it_has(tmp_path):
    with pytest.raises(ValueError, match=r"modes of study 'vgg': \['quick', 'demo', 'full'\]"):
        runner.run("vgg", "record", tmp_path, verbose=0)
    assert list(tmp_path.iterdir()) == []


def test_the_degradation_record_is_what_the_record_mode_trains():
    recorded = REPO / "results" / "degradation-cpu-10ep"
    if not (recorded / "run.json").exists():
        pytest.skip("no CPU degradation record in this checkout")
    for model in ("plain20", "resnet56"):
        saved = json.loads((recorded / model / "run.json").read_text())["config"]["recipe"]
        ours = runner.recipe(studies.DEGRADATION, "record", model=model).to_dict(
            saved["steps_per_epoch"])
        assert json.loads(json.dumps(ours)) == saved  # as run.json holds it (lists)



def test_records_made_before_run_json_kept_the_recipe_are_drawn_again(tmp_path):
    import shutil

    recorded = REPO / "results" / "degradation-demo"
    if not (recorded / "run.json").exists():
        pytest.skip("no degradation demo record in this checkout")
    assert "recipe" not in json.loads((recorded / "run.json").read_text())
    copy = shutil.copytree(recorded, tmp_path / "demo")
    (copy / "degradation.png").unlink()
    runner.redraw(copy)
    assert (copy / "degradation.png").stat().st_size > 1000

def test_recipes_record_augment_only_when_off():
    assert "augment" not in training.scaled_recipe(2).to_dict()  # older runs still resume
    off = training.Recipe(name="x", epochs=2, augment=False)
    assert off.to_dict()["augment"] is False
    with pytest.raises(ValueError, match="`augment` must be True or False"):
        training.Recipe(name="x", epochs=2, augment=1)


def test_training_without_augmentation_sees_the_images_as_they_are(tmp_path):
    data = tiny_data(n_train=64)
    mean = data_lib.per_pixel_mean(data.x_train)
    plain = data_lib.train_dataset(data.x_train, data.y_train, mean=mean, seed=0, batch_size=64,
                                   epochs=1, augment=False)
    x, _ = next(iter(plain))
    normalised = (data.x_train.astype("float32") / 255.0 - mean).reshape(64, -1)
    for image in np.asarray(x).reshape(64, -1):  # each one of the training images, unshifted
        assert np.abs(normalised - image).max(axis=1).min() < 1e-5
    recipe = training.Recipe(name="plain", epochs=1, batch_size=32, lr=0.01, augment=False)
    for pipeline in ("tf.data", "numpy"):
        history = training.train(SMALL, data, tmp_path / pipeline, recipe=recipe, verbose=0,
                                 engine=training.Engine(pipeline=pipeline))
        assert len(history) == 1
    with pytest.raises(ValueError, match="augments inside the model"):
        training.train(SMALL, data, tmp_path / "layer", recipe=recipe, verbose=0,
                       engine=training.Engine(pipeline="layer"))


def test_a_sweep_caption_names_each_variant_setting():
    study = studies.get("fig1_lr")
    recipes = [runner.recipe(study, "record", variant=v) for v in study.variants]
    caption = runner._caption({"num_train": 50000, "num_test": 10000}, [{"epochs": 25}],
                              runner.recipe(study, "record"), recipes, 0, "float32",
                              "2 cores Test CPU")
    assert "(scaled-25ep-constant-lr-no-augment)" in caption
    assert "lr 0.003/0.01/0.03/0.1 (per variant), weight decay 0," in caption


def test_the_clean_training_error_is_the_final_model_on_training_images_as_tested(tmp_path,
                                                                                  monkeypatch):
    """fit's training error has dropout and augmentation on; the decisive modes add the final
    model's error on training images evaluated like the test set, once, kept in run.json."""
    data = tiny_data(n_train=64)
    recipe = training.Recipe(name="plain", epochs=1, batch_size=32, lr=0.01)
    training.train(SMALL, data, tmp_path, recipe=recipe, verbose=0)
    error = runner.clean_train_error(tmp_path, data)
    x, y = data_lib.eval_arrays(data.x_train, data.y_train,
                                mean=data_lib.per_pixel_mean(data.x_train))
    predicted = np.argmax(training.RunFolder(tmp_path).load_model().predict(x, verbose=0), -1)
    assert error == round(100 * float(np.mean(predicted != y)), 2)
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["clean_train_error"] == {"error": error, "images": 64}
    info["clean_train_error"]["error"] = -1.0  # read back, not evaluated again
    (tmp_path / "run.json").write_text(json.dumps(info))
    assert runner.clean_train_error(tmp_path, data) == -1.0
    assert runner.clean_train_error(tmp_path / "none", data) is None  # nothing finished there
    # a value kept from the first images only (before: the first 10,000) is measured again,
    # over all the images, a chunk at a time
    info["clean_train_error"] = {"error": -1.0, "images": 16}
    (tmp_path / "run.json").write_text(json.dumps(info))
    monkeypatch.setattr(runner, "CLEAN_CHUNK", 24)
    assert runner.clean_train_error(tmp_path, data) == error
    assert json.loads((tmp_path / "run.json").read_text())["clean_train_error"]["images"] == 64

    # a recorded run keeps no weights: its old value cannot be measured again, so none
    info["clean_train_error"] = {"error": -1.0, "images": 16}
    (tmp_path / "run.json").write_text(json.dumps(info))
    (tmp_path / "progress.json").unlink()
    assert runner.clean_train_error(tmp_path, data) is None


def test_a_quick_run_found_on_other_data_is_trained_again_and_a_record_is_kept(tmp_path, capsys):
    # a notebook run in quick mode first without CIFAR-10 (generated data), then with it; the
    # smoke run of seconds is replaced, said so, where a record refuses to resume on other data
    generated = tiny_data(n_train=128)  # one batch of the recipe's 128
    found = dataclasses.replace(generated, name="cifar10")
    kw = {"variants": ["no_lrn"], "epochs": 1}
    runner.run("fig1_lrn", "quick", tmp_path / "quick", data=generated, verbose=0, **kw)
    runner.run("fig1_lrn", "quick", tmp_path / "quick", data=found, verbose=1, **kw)
    assert ("a quick run on tiny (128 training images) is there; this one is on cifar10 (128): "
            "removed, to be trained again if chosen") in capsys.readouterr().out
    info = json.loads((tmp_path / "quick" / "no_lrn" / "run.json").read_text())
    assert info["status"] == "finished" and info["config"]["dataset"]["name"] == "cifar10"
    runner.run("fig1_lrn", "record", tmp_path / "record", data=generated, verbose=0, **kw)
    with pytest.raises(ValueError, match="Saved: .*'name': 'tiny'"):
        runner.run("fig1_lrn", "record", tmp_path / "record", data=found, verbose=0, **kw)
    info = json.loads((tmp_path / "record" / "no_lrn" / "run.json").read_text())
    assert info["status"] == "finished" and info["config"]["dataset"]["name"] == "tiny"


def test_the_densenet_overfitting_pair_trains_without_augmentation_as_its_augmented_twins():
    study = studies.get("densenet_bc28")
    variants = {v.key: v for v in study.variants}
    for key in ("resnet20", "bc28_k12"):
        twin, plain = variants[f"{key}_no_aug"], variants[key]
        assert (twin.model, twin.kwargs) == (plain.model, plain.kwargs)
        assert runner.recipe(study, "record", variant=twin).augment is False
        assert runner.recipe(study, "record", variant=plain).augment is True
