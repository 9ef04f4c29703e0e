"""The `cnn-keras` command: every subcommand, its help, errors, and kill-and-resume."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cnn_keras import data as data_lib
from cnn_keras.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("sub", ["list", "summary", "train", "degradation"])
def test_help(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        main([sub, "--help"])
    assert exc.value.code == 0
    assert "usage: cnn-keras" in capsys.readouterr().out


def test_list_and_summary(capsys):
    assert main(["list", "plain"]) == 0
    assert capsys.readouterr().out.split() == ["plain20", "plain32", "plain44", "plain56",
                                               "plain110"]
    assert main(["summary", "resnet20", "--brief"]) == 0
    out = capsys.readouterr().out
    assert "trainable params 269,722" in out and "MACs 40.6M" in out
    assert main(["summary", "resnet56", "--input-shape", "64", "64", "3", "--classes", "100"]) == 0
    assert "conv4_block9_out" in capsys.readouterr().out


def test_errors_are_messages_not_tracebacks(capsys):
    assert main(["summary", "resnet65", "--brief"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean" in err and "resnet56" in err and "Traceback" not in err
    assert main(["train", "resnet21", "--out", "x"]) == 2
    assert main(["train", "resnet20", "--recipe", "paper", "--low-res", "24", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "Progressive resizing needs a recipe counted in epochs" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["degradation", "--mode", "bogus"])
    with pytest.raises(SystemExit):
        main(["train", "resnet20", "--pipeline", "gpu", "--out", "x"])
    with pytest.raises(SystemExit):
        main(["train", "resnet20", "--epochs", "0", "--out", "x"])


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "cnn_keras", "list", "resnet1"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["resnet18", "resnet101", "resnet101v2", "resnet110", "resnet152",
                   "resnet152v2", "resnet1202"]


def _image_folder(root: Path, n_train=64, n_test=32):
    import tensorflow as tf

    data = data_lib.synthetic_dataset(n_train, n_test, num_classes=4, seed=0)
    for split, xs, ys in (("train", data.x_train, data.y_train), ("test", data.x_test,
                                                                   data.y_test)):
        for i, (x, y) in enumerate(zip(xs, ys)):
            d = root / split / f"class{y}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{i}.png").write_bytes(tf.io.encode_png(x).numpy())
    return root


@pytest.mark.slow
def test_train_killed_and_rerun_resumes(tmp_path):
    folder = _image_folder(tmp_path / "images")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "cnn_keras", "train", "plain20", "--image-folder", str(folder),
           "--epochs", "4", "--batch-size", "16", "--seed", "1", "--out", str(out), "--quiet"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 240
    progress = out / "progress.json"
    while time.time() < deadline and proc.poll() is None:
        if progress.exists() and json.loads(progress.read_text())["epoch"] >= 1:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(progress.read_text())["epoch"]
    assert 1 <= done < 4
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out / "history.csv") as f:
        epochs = [int(r["epoch"]) for r in csv.DictReader(f)]
    assert epochs == [1, 2, 3, 4]
    info = json.loads((out / "run.json").read_text())
    assert info["resumed"][0]["at_epoch"] == done and info["status"] == "finished"


def test_train_fast_recipe(tmp_path, capsys):
    folder = _image_folder(tmp_path / "images")
    out = tmp_path / "fast"
    assert main(["train", "resnet20", "--recipe", "fast", "--epochs", "2", "--batch-size", "16",
                 "--image-folder", str(folder), "--out", str(out), "--quiet"]) == 0
    assert "2 epochs" in capsys.readouterr().out
    info = json.loads((out / "run.json").read_text())
    recipe = info["config"]["recipe"]
    assert (recipe["name"], recipe["lr_schedule"], recipe["lr"]) == ("fast-2ep", "onecycle", 0.2)
    assert (recipe["label_smoothing"], recipe["nesterov"], recipe["total_steps"]) == (0.1, True, 8)
    assert info["steps_per_execution"] == 1 and info["fused_batch_norm_layers"] == 19
    with open(out / "history.csv") as f:
        assert float(list(csv.DictReader(f))[-1]["lr"]) < 0.02  # annealed from 0.2


def test_degradation_rejects_an_unknown_pipeline_before_loading_data(tmp_path):
    from cnn_keras import degradation

    with pytest.raises(ValueError, match="`pipeline` must be one of .*Received: pipeline='gpu'"):
        degradation.run("quick", tmp_path, pipeline="gpu", data_dir=tmp_path / "none")


@pytest.mark.slow
def test_degradation_quick_writes_figure_summary_and_histories(tmp_path):
    """The command's files, for two of the nets and one epoch (notebook 04 runs all four nets in
    quick mode under nbval; the 56-layer nets take most of its time)."""
    out = tmp_path / "deg"
    assert main(["degradation", "--mode", "quick", "--models", "plain20", "resnet20",
                 "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    for model in ("plain20", "resnet20"):
        rows = list(csv.DictReader(open(out / model / "history.csv")))
        assert len(rows) == 1 and set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss",
                                                   "val_accuracy", "lr", "seconds"}
    summary = list(csv.DictReader(open(out / "summary.csv")))
    assert [(r["model"], r["epochs"]) for r in summary] == [("plain20", "1"), ("resnet20", "1")]
    assert (out / "degradation.png").stat().st_size > 10_000
    info = json.loads((out / "run.json").read_text())
    assert info["mode"] == "quick" and "hardware" in info and "git_commit" in info
    assert info["models"] == ["plain20", "resnet20"] and info["settings"]["epochs"] == 1


def test_recorded_demo_result_is_complete_and_shows_degradation():
    """The committed demo run (results/degradation-demo) has its figure, metadata and histories,
    and shows what the README says it shows."""
    rec = REPO / "results" / "degradation-demo"
    if not rec.exists():
        pytest.skip("no recorded demo result in this checkout")
    info = json.loads((rec / "run.json").read_text())
    assert info["mode"] == "demo" and info["hardware"]["cores"] >= 1
    summary = {r["model"]: r for r in csv.DictReader(open(rec / "summary.csv"))}
    for model, row in summary.items():
        hist = list(csv.DictReader(open(rec / model / "history.csv")))
        assert len(hist) == int(row["epochs"])
        assert float(row["final_train_error"]) == pytest.approx(
            100 * (1 - float(hist[-1]["accuracy"])), abs=0.01)
    assert float(summary["plain56"]["final_train_error"]) > float(
        summary["plain20"]["final_train_error"])
    assert (rec / "degradation.png").exists()
    assert np.isfinite(float(summary["resnet56"]["final_test_error"]))
