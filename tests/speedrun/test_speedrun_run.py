"""The speedrun loop: it learns, records, resumes exactly and refuses other settings."""

import dataclasses
import json

import numpy as np
import pytest

from cnn_keras import plots
from cnn_keras.speedrun import SpeedrunRecipe, report
from cnn_keras.speedrun import run as speedrun
from tiny import tiny_data

RECIPE = SpeedrunRecipe(epochs=2.5, batch_size=32, whiten_images=64, whiten_bias_epochs=1)


class _Stop(Exception):
    pass


def test_learns_records_and_resumes_exactly(tmp_path, monkeypatch):
    data = tiny_data(n_train=96, n_test=40)
    whole = speedrun.train(data, tmp_path / "whole", recipe=RECIPE, seed=1, verbose=0)
    rows = json.loads((tmp_path / "whole" / "progress.json").read_text())["history"]
    assert [r["steps"] for r in rows] == [3, 6, 8]  # 2.5 epochs of 3 steps: 8 steps
    assert whole["tta_accuracy"] > 0.6 and whole["wall_seconds"] > 0
    info = json.loads((tmp_path / "whole" / "run.json").read_text())
    assert info["status"] == "finished"
    assert info["trainable_params"] == 1_971_352 - 256 * 7  # 3 classes, not 10

    commit = speedrun._commit

    def stop_after_first(folder, state, epoch):
        commit(folder, state, epoch)
        if epoch == 1:
            raise _Stop

    monkeypatch.setattr(speedrun, "_commit", stop_after_first)
    with pytest.raises(_Stop):
        speedrun.train(data, tmp_path / "cut", recipe=RECIPE, seed=1, verbose=0)
    monkeypatch.setattr(speedrun, "_commit", commit)
    resumed = speedrun.train(data, tmp_path / "cut", recipe=RECIPE, seed=1, verbose=0)
    cut = json.loads((tmp_path / "cut" / "progress.json").read_text())["history"]
    for a, b in zip(rows, cut):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["val_accuracy"] == b["val_accuracy"]
    assert resumed["tta_accuracy"] == whole["tta_accuracy"]
    # the same images read from another folder are the same data: the run is not refused
    moved = dataclasses.replace(data, source="the same copy in another folder")
    again = speedrun.train(moved, tmp_path / "cut", recipe=RECIPE, seed=1, verbose=0)
    assert again["tta_accuracy"] == resumed["tta_accuracy"]
    with pytest.raises(ValueError, match="other settings"):
        speedrun.train(data, tmp_path / "cut", recipe=RECIPE, seed=2, verbose=0)
    with pytest.raises(ValueError, match="other settings"):  # other data: other sizes
        speedrun.train(data.subset(48), tmp_path / "cut", recipe=RECIPE, seed=1, verbose=0)
    fig = report.progress_figure([tmp_path / "whole", tmp_path / "cut"], tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 0
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels[0] == f"whole: seed 1, 2.5 epochs, {100 * whole['tta_accuracy']:.2f} % with TTA"
    assert "2.5 epochs of batch 32, seed 1, float32" in fig.get_suptitle().replace("\n", " ")


def test_bad_arguments_are_one_line_errors(tmp_path):
    data = tiny_data()
    with pytest.raises(ValueError, match="Received: dtype_policy='float16'"):
        speedrun.train(data, tmp_path, recipe=RECIPE, dtype_policy="float16")
    with pytest.raises(ValueError, match="Received: seed=1.5"):
        speedrun.train(data, tmp_path, recipe=RECIPE, seed=1.5)
    with pytest.raises(ValueError, match="batch size is larger"):
        speedrun.train(data, tmp_path, recipe=SpeedrunRecipe(batch_size=1024))
    assert not list(tmp_path.iterdir())
    assert np.isfinite(RECIPE.l2())


def test_speedrun_figure_tells_every_curve_apart_and_emphasises_one():
    rows = [{"val_accuracy": a, "elapsed": 60.0 * i, "steps": 49 * i}
            for i, a in enumerate((0.5, 0.7), start=1)]
    runs = {f"record {i}": rows for i in range(11)} | {"mine": rows}
    fig = plots.speedrun_figure(runs, emphasis="mine")
    lines = {line.get_label(): line for line in fig.axes[0].get_lines() if
             line.get_label() in runs}
    looks = {(line.get_color(), line.get_marker(), line.get_linestyle())
             for label, line in lines.items()}
    assert len(looks) == len(runs)  # the 11th record no longer repeats the first's look
    assert lines["mine"].get_color() == "black"
    assert lines["mine"].get_linewidth() > lines["record 0"].get_linewidth()
