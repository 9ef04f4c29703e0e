"""The speedrun ablation: each trick removed in turn, and the table and figure comparing them."""

import json

import pytest

from cnn_keras import plots
from cnn_keras.experiments.record import copy_record
from cnn_keras.speedrun import SpeedrunRecipe, ablation
from tiny import tiny_data


def _fake_run(root, folder, recipe_name, tta, acc, epochs=12.0, tta_level=2, cpu="Xeon"):
    path = root / folder
    path.mkdir(parents=True)
    info = {"status": "finished",
            "config": {"recipe": {"name": recipe_name, "epochs": epochs, "batch_size": 1024},
                       "dtype_policy": "mixed_bfloat16", "seed": int(folder[-1]),
                       "dataset": {"num_train": 50000, "num_test": 10000}},
            "hardware": {"cpu": cpu, "cores": 2, "cpu_simd": "AMX-BF16"},
            "summary": {"tta_accuracy": tta, "accuracy": acc, "tta_level": tta_level}}
    (path / "run.json").write_text(json.dumps(info))


def test_the_table_averages_seeds_and_derives_the_tta_row(tmp_path):
    _fake_run(tmp_path, "full-seed0", "speedrun", 0.910, 0.900)
    _fake_run(tmp_path, "full-seed1", "speedrun", 0.914, 0.902)
    _fake_run(tmp_path, "no-whitening-seed0", "speedrun-no-whitening", 0.890, 0.880)
    _fake_run(tmp_path, "no-lookahead-seed0", "speedrun-no-lookahead", 0.905, 0.896)
    (tmp_path / "no-dirac-seed0").mkdir()  # unfinished: no run.json yet
    rows = {r["variant"]: r for r in ablation.table(tmp_path)}
    assert list(rows) == ["full", "no whitening", "no lookahead", "no tta"]  # TRICKS' order
    assert rows["full"]["accuracy"] == pytest.approx(91.2)
    assert rows["full"]["spread"] == pytest.approx(0.28, abs=0.01) and rows["full"]["seeds"] == 2
    assert rows["no whitening"]["change"] == pytest.approx(-2.2)
    assert rows["no whitening"]["spread"] is None
    assert rows["no tta"]["accuracy"] == pytest.approx(90.1)  # the full runs without TTA
    fig = plots.speedrun_ablation_figure(list(rows.values()), tmp_path / "ablation.png")
    assert (tmp_path / "ablation.png").stat().st_size > 0
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "no whitening", "no lookahead", "no tta"]
    assert ablation.lines(list(rows.values()))[:2] == [
        "full                  91.20 % ± 0.28 (2 seeds)  change +0.00 points",
        "no whitening          89.00 %        (1 seed)  change -2.20 points"]


def test_the_figure_says_which_seeds_and_machines_it_shows(tmp_path):
    _fake_run(tmp_path, "full-seed0", "speedrun", 0.910, 0.900)
    _fake_run(tmp_path, "full-seed1", "speedrun", 0.914, 0.902)
    _fake_run(tmp_path, "no-dirac-seed0", "speedrun-no-dirac", 0.905, 0.896, cpu="EPYC")
    _fake_run(tmp_path, "no-lookahead-seed0", "speedrun-no-lookahead", 0.90, 0.89)
    _fake_run(tmp_path, "no-lookahead-seed1", "speedrun-no-lookahead", 0.90, 0.89)
    caption = ablation.caption(tmp_path)
    assert "speedrun recipe: CIFAR-10 (50,000 training / 10,000 test images)" in caption
    assert ("12 epochs of batch 1024, seeds 0, 1 (full recipe), 0 (each removal), no lookahead "
            "also 1, mixed_bfloat16") in caption
    assert "Xeon (2 cores" in caption and caption.endswith("; also EPYC (2 cores, family/model "
                                                          "?, AMX-BF16)")
    fig = ablation.figure(tmp_path, tmp_path / "ablation.png")
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert any("ref.: 3 ep." in n for n in notes)  # the reference's epochs saved, beside its bar
    assert ablation.caption(tmp_path / "full-seed0") == ""  # no runs in it


def test_runs_that_differ_in_length_are_not_compared(tmp_path):
    _fake_run(tmp_path, "full-seed0", "speedrun", 0.91, 0.90)
    _fake_run(tmp_path, "no-dirac-seed0", "speedrun-no-dirac", 0.90, 0.89, epochs=8.0)
    with pytest.raises(ValueError, match="differ in epochs.*Received: settings="):
        ablation.table(tmp_path)
    with pytest.raises(ValueError, match="Received: root="):
        ablation.table(tmp_path / "missing")


def test_runs_each_variant_once_in_its_folder_and_is_recorded(tmp_path):
    recipe = SpeedrunRecipe(epochs=1, batch_size=32, whiten_images=64, whiten_bias_epochs=1)
    data = tiny_data(n_train=64, n_test=20)
    runs = tmp_path / "runs"
    rows = ablation.run(data, runs, recipe=recipe, tricks=("dirac",), verbose=0)
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == ["full-seed0", "no-dirac-seed0"]
    assert [r["variant"] for r in rows] == ["full", "no dirac", "no tta"]
    mtime = (runs / "full-seed0" / "run.json").stat().st_mtime
    assert ablation.run(data, runs, recipe=recipe, tricks=("dirac",), verbose=0) == rows
    assert (runs / "full-seed0" / "run.json").stat().st_mtime == mtime  # not trained again
    assert (runs / "ablation.csv").read_text().startswith("variant,seeds,accuracy")
    written = copy_record(runs, tmp_path / "record")  # `cnn-keras record`: no checkpoints
    assert sorted(str(p.relative_to(tmp_path / "record")) for p in written) == [
        "ablation.csv", "ablation.png", "full-seed0/history.csv", "full-seed0/run.json",
        "no-dirac-seed0/history.csv", "no-dirac-seed0/run.json"]
    assert ablation.table(tmp_path / "record") == rows
