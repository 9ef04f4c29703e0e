"""Ablations (`cnn_keras.ablation`) and what they added: aux-head training, init_from, weight-decay
paths, `analysis.layer_table`, AlexNet's `init` option and the `ablation` subcommand."""

import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import cnn_keras
from cnn_keras import analysis, training
from cnn_keras.experiments import ablation, runner
from cnn_keras import data as data_lib
from cnn_keras.cli import main

from built import built, quickly

REPO = Path(__file__).resolve().parents[2]


def test_bad_names_and_modes_fail_before_work(tmp_path):
    with pytest.raises(ValueError, match="Received: name='nope'"):
        ablation.get("nope")
    with pytest.raises(ValueError, match="Received: 'bad'"):
        ablation.ABLATIONS["vgg"].variant("bad")
    with pytest.raises(ValueError, match="Received: mode='bogus'"):
        ablation.run("alexnet", mode="bogus", out_dir=tmp_path / "a", verbose=0)
    with pytest.raises(ValueError, match="Received: 'E'"):
        ablation.run("vgg", "quick", tmp_path / "b", variants=["A", "E"], verbose=0)
    assert list(tmp_path.iterdir()) == []


def study_net(v):
    """A study's variant as its runs build it (read only: kept for the module's next test)."""
    return built(v.model, input_shape=(32, 32, 3), classes=10, **v.kwargs)


@pytest.mark.parametrize("name", sorted(ablation.ABLATIONS))
def test_every_variant_builds_at_32x32(name):
    abl = ablation.ABLATIONS[name]
    assert abl.name == name
    # every study has the CI smoke run; not every study has every other mode
    assert "quick" in abl.epochs and set(abl.epochs) <= set(ablation.MODES)
    assert set(abl.sizes) == set(abl.threshold) == set(abl.epochs)
    keys = [v.key for v in abl.variants]
    assert len(set(keys)) == len(keys) >= 2
    # each variant changes something: the model settings, its recipe, or where its weights start
    setups = {(v.model, json.dumps(v.kwargs, sort_keys=True), json.dumps(v.recipe, sort_keys=True),
               v.init_from) for v in abl.variants}
    assert len(setups) == len(keys)
    for v in abl.variants:
        if v.init_from is not None:
            assert v.init_from in keys and v.init_from != v.key
        model = study_net(v)
        assert model.outputs[0].shape[1:] == (10,), v.key
        assert len(model.outputs) == (3 if v.kwargs.get("aux_logits") else 1)


def test_epochs_to_error():
    rows = [{"epoch": 1, "accuracy": 0.5}, {"epoch": 2, "accuracy": 0.75},
            {"epoch": 3, "accuracy": 0.8}]
    assert ablation.epochs_to_error(rows, 25.0) == 2  # 25% error: at the threshold counts
    assert ablation.epochs_to_error(rows, 24.9) == 3
    assert ablation.epochs_to_error(rows, 60.0) == 1
    assert ablation.epochs_to_error(rows, 10.0) is None and ablation.epochs_to_error([], 50) is None


def test_vgg_quick_run_trains_dependencies_resumes_and_loads(tmp_path):
    # 128 images: one full batch of the recipe's 128 (fewer are a ValueError in `train`)
    data = data_lib.synthetic_dataset(128, 32, seed=0)
    kw = {"data": data, "verbose": 0, "epochs": 1}
    rows = ablation.run("vgg", "quick", tmp_path, variants=["D_from_A"], **kw)
    assert [r["variant"] for r in rows] == ["A", "D_from_A"]  # A first: D_from_A needs it
    assert (tmp_path / "A" / "progress.json").exists() and not (tmp_path / "D").exists()
    info = json.loads((tmp_path / "D_from_A" / "run.json").read_text())
    assert info["preinitialized_layers"] == ["block1_conv1", "block2_conv1", "block3_conv1",
                                             "block3_conv2", "fc1", "predictions"]
    assert info["config"]["init_from"] == "../A"  # relative: the folder can move
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/checkpoint-*.keras")}
    assert len(stamps) == 2

    rows = ablation.run("vgg", "quick", tmp_path, **kw)
    assert [r["variant"] for r in rows] == ["A", "D", "D_from_A"]
    assert all(r["epochs"] == 1 and 0 <= r["final_test_error"] <= 100 for r in rows)
    params = [r["trainable_params"] for r in rows]
    assert params[1] == params[2] > params[0]  # D, D_from_A: the same net, deeper than A
    table = list(csv.DictReader((tmp_path / "summary.csv").read_text().splitlines()))
    assert [r["variant"] for r in table] == ["A", "D", "D_from_A"]
    assert tuple(table[0]) == ablation.SUMMARY_FIELDS
    assert (tmp_path / "ablation.png").stat().st_size > 1000
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["summary"] == rows and info["mode"] == "quick"
    assert "device" in info["training_hardware"]
    # A and D_from_A were not trained again
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/checkpoint-*.keras")}
    assert ablation.run("vgg", "quick", tmp_path, **kw) == rows  # finished: nothing trained
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/checkpoint-*.keras")} == stamps
    loaded = ablation.load(tmp_path)
    labels = [v.label for v in ablation.ABLATIONS["vgg"].variants]
    assert list(loaded["histories"]) == labels
    for r, label in zip(rows, labels):
        hist = loaded["histories"][label]
        assert len(hist) == 1
        assert r["final_train_error"] == round(100 * (1 - hist[0]["accuracy"]), 2)


@pytest.mark.parametrize("pipeline", ["tf.data", "numpy"])
def test_googlenet_with_aux_heads_trains_and_records_the_main_output(tmp_path, pipeline):
    data = data_lib.synthetic_dataset(32, 16, seed=0)
    rows = training.train("googlenet_cifar", data, tmp_path,
                          recipe=training.scaled_recipe(1, batch_size=16),
                          model_kwargs={"aux_logits": True}, verbose=0,
                          engine=training.Engine(pipeline=pipeline))
    assert len(rows) == 1
    r = rows[0]  # the main output's accuracy (NaN or None fail here)
    assert math.isfinite(r["loss"]) and math.isfinite(r["val_loss"])
    assert 0 <= r["accuracy"] <= 1 and 0 <= r["val_accuracy"] <= 1
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["status"] == "finished" and info["input_pipeline"] == pipeline
    plain = analysis.count_params(quickly(cnn_keras.build, "googlenet_cifar"))["trainable"]
    assert info["params"]["trainable"] > plain  # the auxiliary heads were trained too


def test_a_partial_record_is_finished_from_results_in_a_new_run_folder(tmp_path):
    # a record stopped between variants goes on elsewhere (a new machine without runs/) from
    # what results/ keeps, histories and run.json without weights: the finished variant is
    # read back with its clean training error, not trained again
    data = data_lib.synthetic_dataset(128, 32, seed=0)
    kw = {"data": data, "verbose": 0, "epochs": 1}
    [first] = ablation.run("fig1_lrn", "record", tmp_path / "run", variants=["no_lrn"], **kw)
    assert first["final_train_error_clean"] is not None
    assert main(["record", str(tmp_path / "run"), str(tmp_path / "results" / "rec")]) == 0
    shutil.copytree(tmp_path / "results" / "rec", tmp_path / "elsewhere")
    rows = ablation.run("fig1_lrn", "record", tmp_path / "elsewhere", variants=["lrn"], **kw)
    assert [r["variant"] for r in rows] == ["no_lrn", "lrn"] and rows[0] == first
    assert not list((tmp_path / "elsewhere" / "no_lrn").glob("*.keras"))  # not trained again
    assert main(["record", str(tmp_path / "elsewhere"), str(tmp_path / "results" / "rec")]) == 0
    summary = json.loads((tmp_path / "results" / "rec" / "run.json").read_text())["summary"]
    assert summary == rows and (tmp_path / "results" / "rec" / "lrn" / "history.csv").is_file()
    # its figure drawn again from the record alone, which stays as it was
    recorded = (tmp_path / "results" / "rec" / "run.json").read_text()
    (tmp_path / "results" / "rec" / "ablation.png").unlink()
    runner.redraw(tmp_path / "results" / "rec")
    assert (tmp_path / "results" / "rec" / "ablation.png").stat().st_size > 1000
    assert (tmp_path / "results" / "rec" / "run.json").read_text() == recorded


def test_figure_title_says_when_variants_were_left_out():
    study = runner.get("densenet")
    assert runner.figure_title(study, study.variants) == study.title
    assert runner.figure_title(study, study.variants[:2]) == (
        f"{study.title} (2 of the study's 4 variants)")


def test_init_from_must_be_a_finished_run(tmp_path):
    with pytest.raises(ValueError, match="init_from"):
        training.train("vgg_cifar", data_lib.synthetic_dataset(128, 16), tmp_path / "out",
                       recipe=training.scaled_recipe(1), init_from=tmp_path / "missing",
                       verbose=0)
    assert not (tmp_path / "out").exists()


def test_weight_decay_paths():
    paths = training.weight_decay_paths(steps=5)

    def find(text):
        (key,) = [k for k in paths if text in k]
        return np.array(paths[key])

    paper, half, full, decoupled = (find(t) for t in ("L2SGD", "l2(λ/2)", "l2(λ)", "decoupled"))
    assert all(len(p) == 6 and p[0] == 1.0 for p in (paper, half, full, decoupled))
    # AlexNet Sec. 5 by hand: v <- 0.9 v - lr λ w, w <- w + v (lr 0.1, λ 0.1, no data gradient)
    w, v, expected = 1.0, 0.0, [1.0]
    for _ in range(5):
        v = 0.9 * v - 0.1 * 0.1 * w
        w += v
        expected.append(w)
    np.testing.assert_allclose(paper, expected, rtol=1e-6)
    np.testing.assert_allclose(half, paper, rtol=1e-6, atol=1e-6)
    assert np.all(full[1:] < paper[1:] - 1e-3)
    np.testing.assert_allclose(decoupled[:2], paper[:2], rtol=1e-6)
    assert np.all(np.abs(decoupled[2:] - paper[2:]) > 1e-3)


def test_layer_table_of_alexnet():
    rows = analysis.layer_table(cnn_keras.alexnet())
    assert rows[0] == {"layer": "conv1", "type": "Conv2D", "output": "55x55x96",
                       "params": 34944, "MACs": 105415200}
    assert {r["type"] for r in rows} == {"Conv2D", "Dense", "MaxPooling2D"}
    assert sum(r["params"] for r in rows if r["type"] in ("Conv2D", "Dense")) == 60_965_224
    assert rows[-1]["layer"] == "predictions" and rows[-1]["output"] == "1000"


def test_alexnet_init_option():
    with pytest.raises(ValueError, match=r"`init`.*Received: init='bogus'"):
        cnn_keras.alexnet_cifar(init="bogus")
    he, default = cnn_keras.alexnet_cifar(init="he"), cnn_keras.alexnet_cifar()
    assert type(he.get_layer("conv2").kernel_initializer).__name__ == "HeNormal"
    assert type(default.get_layer("conv2").kernel_initializer).__name__ != "HeNormal"
    assert he.count_params() == default.count_params()


def test_cli_ablation_arguments(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ablation", "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["ablation", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(w in out for w in ("quick", "demo", "full", *ablation.ABLATIONS))


def test_scaling_ablations_compare_what_they_say():
    from cnn_keras.analysis import count_macs, count_params

    def cost(abl, key):
        m = study_net(ablation.ABLATIONS[abl].variant(key))
        return count_macs(m), count_params(m)["trainable"]

    # EfficientNet: every scaled net has compound phi=1's budget (~3x B0) within 10 %
    b0, _ = cost("efficientnet", "b0")
    budget = cost("efficientnet", "compound")[0]
    assert 2.8 < budget / b0 < 3.1
    for key in ("depth", "width", "resolution"):
        assert 0.9 < cost("efficientnet", key)[0] / budget < 1.1, key
    # the record's half-width B0 scaled four ways: each 28.1-30.2M multiply-adds (hand-run
    # count), 2.8-3.1x the half-width base (9.9M)
    half = quickly(cnn_keras.build, "efficientnet_cifar", width_coefficient=0.5)
    for key in ("depth", "width", "resolution", "compound"):
        macs = cost("efficientnet_scaling", key)[0]
        assert 28.0e6 < macs < 30.3e6 and 2.8 < macs / count_macs(half) < 3.1, (key, macs)
    # MobileNet: rho changes the multiply-adds, not the parameters; alpha changes both
    full, r24 = cost("mobilenet", "a1.0"), cost("mobilenet", "r24")
    assert r24[1] == full[1] and r24[0] < 0.6 * full[0]
    half = cost("mobilenet", "a0.5")
    assert half[1] < 0.3 * full[1] and half[0] < 0.3 * full[0]
    # DenseNet-BC L=52 and ResNet-20: the same parameter budget (within 2%)
    dn, rn = cost("densenet", "k12")[1], cost("densenet", "resnet20")[1]
    assert abs(dn - rn) / rn < 0.02
    # DenseNet-BC L=28 (the record): ResNet-20's multiply-adds within 10 % at 0.38x its
    # parameters (trainable; 105,622 and 271,098 with BN's moving statistics); k=6 and theta=1
    (bc_macs, bc), (rn_macs, rn) = (cost("densenet_bc28", k) for k in ("bc28_k12", "resnet20"))
    assert (bc, rn) == (102_730, 269_722) and abs(bc_macs - rn_macs) / rn_macs < 0.1
    assert cost("densenet_bc28", "bc28_k6")[1] == 26_800
    assert cost("densenet_bc28", "b28_k12")[1] == 140_002


def test_fig1_net_and_its_constant_lr_recipe():
    model = cnn_keras.alexnet_fig1()
    assert analysis.count_params(model)["trainable"] == 85_098  # 2,432 + 25,632 + 51,264 + 5,770
    assert [type(layer).__name__ for layer in model.layers if layer.weights] == [
        "Conv2D", "Conv2D", "Conv2D", "Dense"]  # "four-layer"
    tanh = cnn_keras.alexnet_fig1(activation="tanh")
    assert any(layer.name == "conv1_tanh" for layer in tanh.layers)
    recipe = ablation.recipe(ablation.get("fig1"), "demo")
    assert recipe.milestones == () and recipe.weight_decay == 0.0
    assert recipe.boundaries(391) == [] and recipe.total_steps(391) == 20 * 391
    # the other ablations keep the paper's lr drops
    assert ablation.recipe(ablation.get("vgg"), "demo").milestones == (0.5, 0.75)


def test_vgg_init_option():
    he = cnn_keras.vgg_cifar(config="A", batch_norm=False, init="he")
    assert type(he.get_layer("block1_conv1").kernel_initializer).__name__ == "HeNormal"
    assert he.count_params() == cnn_keras.vgg_cifar(config="A", batch_norm=False).count_params()
    with pytest.raises(ValueError, match="`init`.*Received: init='zeros'"):
        cnn_keras.vgg16(init="zeros")


def test_cifar10_subset_falls_back_to_synthetic_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_KERAS_DATA", str(tmp_path / "missing"))
    with pytest.raises((ValueError, FileNotFoundError)):  # an explicit location must exist
        data_lib.cifar10_subset(64, 32)
    monkeypatch.delenv("CNN_KERAS_DATA")

    def not_found(*args, **kwargs):
        raise data_lib.DataNotFoundError("no CIFAR-10 here")

    monkeypatch.setattr(data_lib, "load_cifar10", not_found)
    with pytest.raises(data_lib.DataNotFoundError):
        data_lib.cifar10_subset(64, 32)
    data = data_lib.cifar10_subset(64, 32, synthetic_fallback=True, verbose=False)
    assert (len(data.x_train), len(data.x_test)) == (64, 32) and "synthetic" in data.source


@pytest.mark.parametrize("name", sorted(ablation.ABLATIONS))
def test_recorded_demo_runs_are_complete_and_match_their_histories(name):
    """results/ablations-demo/NAME: what the notebooks and the README quote was measured."""
    rec = REPO / "results" / "ablations-demo" / name
    if not rec.exists():
        pytest.skip(f"no recorded demo run of {name} in this checkout")
    info = ablation.load(rec)
    abl = ablation.ABLATIONS[name]
    assert info["mode"] == "demo" and info["experiment"] == f"ablation/{name}"
    assert [r["variant"] for r in info["summary"]] == [v.key for v in abl.variants]
    assert (rec / "ablation.png").exists()
    assert (rec / "tradeoff.png").exists() == abl.tradeoff
    for row in info["summary"]:
        history = info["histories"][row["label"]]
        assert len(history) == row["epochs"] == abl.epochs["demo"]
        assert row["final_test_error"] == round(100 * (1 - history[-1]["val_accuracy"]), 2)
        assert json.loads((rec / row["variant"] / "run.json").read_text())["status"] == "finished"
