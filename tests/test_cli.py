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

from cnn_keras import cli
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
    # TensorFlow's C++ start-up lines (twice, whatever TF_CPP_MIN_LOG_LEVEL says) do not reach
    # the user: nothing but the answer is printed
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "cnn_keras", "list", "resnet1"], env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["resnet18", "resnet101", "resnet101v2", "resnet110",
                                     "resnet152", "resnet152v2", "resnet1202"]
    assert result.stderr == ""


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
    from cnn_keras.experiments import degradation

    with pytest.raises(ValueError, match="`pipeline` must be one of .*Received: pipeline='gpu'"):
        degradation.run("quick", tmp_path, pipeline="gpu", data_dir=tmp_path / "none")


@pytest.mark.slow
def test_degradation_quick_writes_figure_summary_and_histories(tmp_path):
    """The command's files, for two of the nets and one epoch (the 56-layer nets would only add
    time: the command treats every net alike)."""
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
    assert info["models"] == ["plain20", "resnet20"] and info["recipe"]["epochs"] == 1


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


# --- Bad arguments: one line, exit status 2, before any data is loaded --------------------------
@pytest.fixture
def no_data(monkeypatch, tmp_path):
    """Fail the test if a command loads data or trains: every bad value must be rejected first.
    CNN_KERAS_DATA points nowhere, so a missed check would fail here too (not find real data)."""
    from cnn_keras import training

    monkeypatch.setenv("CNN_KERAS_DATA", str(tmp_path / "no-such-data"))

    def loaded(*args, **kwargs):
        raise AssertionError("data was loaded (or training started) before a bad argument was "
                             "rejected")

    for name in ("load_cifar10", "load_image_folder", "cifar10_subset"):
        monkeypatch.setattr(data_lib, name, loaded)
    monkeypatch.setattr(training, "train", loaded)


def _run(argv, capsys):
    """`main(argv)` in-process: (exit status, stderr); argparse's errors are SystemExit."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


T = ["train", "resnet20", "--out", "{out}"]
IMAGENET = T + ["--recipe", "imagenet-paper"]
BAD = [  # argv ({out}: a new folder, {file}: an existing file, {tmp}: an empty folder,
    # {images}: a folder with an empty train/), and
    # what the message must contain: the option (or the name) and the received value
    (T + ["--lr", "nan"], "--lr", "'nan'"),
    (T + ["--lr", "inf"], "--lr", "'inf'"),
    (T + ["--lr", "0"], "--lr", "'0'"),
    (T + ["--lr", "-0.1"], "--lr", "'-0.1'"),
    (T + ["--lr", "fast"], "--lr", "'fast'"),
    (T + ["--epochs", "0"], "--epochs", "'0'"),
    (T + ["--epochs", "2.5"], "--epochs", "'2.5'"),
    (T + ["--batch-size", "-1"], "--batch-size", "'-1'"),
    (T + ["--warmup-epochs", "nan"], "--warmup-epochs", "'nan'"),
    (T + ["--warmup-epochs", "-1"], "--warmup-epochs", "'-1'"),
    (T + ["--warmup-epochs", "10"], "--warmup-epochs", "10.0"),  # the default 10 epochs
    (T + ["--epochs", "4", "--warmup-epochs", "4.5"], "--warmup-epochs", "4.5"),
    (T + ["--recipe", "fast", "--warmup-epochs", "1"], "--warmup-epochs", "1.0"),
    (T + ["--recipe", "paper", "--lr", "0.05"], "--lr", "0.05"),
    (T + ["--recipe", "paper", "--batch-size", "64"], "--batch-size", "64"),
    (T + ["--recipe", "paper", "--epochs", "5"], "--epochs", "5"),
    (T + ["--image-folder", "{images}", "--data-dir", "{tmp}"], "--data-dir", "{tmp}"),
    (["train", "airbench94", "--recipe", "imagenet-paper", "--image-folder", "{images}", "--out",
      "{out}"], "recipe scaled or fast", "model='airbench94'"),
    (["list", "nosuchmodel"], "No registered model", "'nosuchmodel'"),
    (T + ["--low-res", "4"], "--low-res", "'4'"),
    (T + ["--low-res", "32"], "--low-res", "32"),
    (T + ["--recipe", "paper", "--low-res", "24"], "--low-res", "24"),
    (T + ["--epochs", "1", "--low-res", "24"], "--low-res", "24"),
    (T + ["--pipeline", "numpy", "--low-res", "24"], "--low-res", "24"),
    (T + ["--subset", "0"], "--subset", "'0'"),
    (T + ["--test-subset", "-5"], "--test-subset", "'-5'"),
    (T + ["--subset", "100"], "--batch-size", "128"),
    (T + ["--subset", "256", "--batch-size", "64", "--steps-per-execution", "3"],
     "--steps-per-execution", "3"),
    (T + ["--steps-per-execution", "0"], "--steps-per-execution", "'0'"),
    (T + ["--seed", "-1"], "--seed", "'-1'"),
    (T + ["--seed", "one"], "--seed", "'one'"),
    (T + ["--data-dir", "/no/such/cifar10"], "--data-dir", "/no/such/cifar10"),
    (T + ["--image-folder", "/no/such/images"], "--image-folder", "/no/such/images"),
    (T + ["--image-folder", "{tmp}"], "--image-folder", "no train/ folder"),
    (T + ["--dtype-policy", "float16"], "--dtype-policy", "'float16'"),
    (T + ["--pipeline", "gpu"], "--pipeline", "'gpu'"),
    (T + ["--image-size", "64"], "--image-size", "64"),
    (T + ["--devices", "0"], "--devices", "'0'"),
    (T + ["--num-processes", "0"], "--num-processes", "'0'"),
    (T + ["--process-id", "-1"], "--process-id", "'-1'"),
    (T + ["--coordinator", "h:1", "--num-processes", "2", "--process-id", "0"], "JAX backend",
     "backend='tensorflow'"),
    (IMAGENET + ["--image-folder", "{images}", "--warmup-epochs", "500"], "warmup_epochs",
     "500"),
    (IMAGENET, "--image-folder", "None"),
    (T + ["--tfds", "imagenette"], "--tfds", "imagenette"),
    (IMAGENET + ["--tfds", "imagenette", "--image-folder", "{images}"], "not both",
     "imagenette"),
    (IMAGENET + ["--image-size", "16"], "--image-size", "'16'"),
    (IMAGENET + ["--image-folder", "{images}", "--lr", "0.1"], "--lr", "0.1"),
    (IMAGENET + ["--image-folder", "{images}", "--subset", "100"], "--subset", "100"),
    (IMAGENET + ["--image-folder", "{images}", "--pipeline", "numpy"], "--pipeline", "'numpy'"),
    (IMAGENET + ["--image-folder", "{images}"], "has no class folders", "{images}"),
    (["train", "resnet20", "--out", "{file}"], "--out", "{file}"),
    (["train", "resnet20", "--out", "{file}/run"], "--out", "{file}/run"),
    (["train", "resnet21", "--out", "{out}"], "Did you mean", "'resnet21'"),
    (["summary", "resnet65"], "Did you mean", "'resnet65'"),
    (["summary", "resnet50", "--input-shape", "8", "8", "3"], "--input-shape", "8 8 3"),
    (["summary", "resnet20", "--input-shape", "0", "32", "3"], "--input-shape", "'0'"),
    (["summary", "resnet20", "--classes", "0"], "--classes", "'0'"),
    (["degradation", "--epochs", "0"], "--epochs", "'0'"),
    (["degradation", "--warmup-epochs", "inf"], "--warmup-epochs", "'inf'"),
    (["degradation", "--warmup-epochs", "6"], "--warmup-epochs", "6.0"),  # demo: 6 epochs
    (["degradation", "--mode", "full", "--warmup-epochs", "1"], "--warmup-epochs", "1.0"),
    (["degradation", "--models", "resnet20", "resnet21"], "--models", "'resnet21'"),
    (["degradation", "--mode", "bogus"], "--mode", "'bogus'"),
    (["degradation", "--seed", "-2"], "--seed", "'-2'"),
    (["degradation", "--data-dir", "/no/such/cifar10"], "--data-dir", "/no/such/cifar10"),
    (["degradation", "--out", "{file}"], "--out", "{file}"),
    (["ablation", "resnet"], "name", "'resnet'"),
    (["ablation", "vgg", "--variants", "A", "E"], "--variants", "'E'"),
    (["ablation", "vgg", "--epochs", "-1"], "--epochs", "'-1'"),
    (["ablation", "vgg", "--out", "{file}"], "--out", "{file}"),
    (["ablation", "vgg", "--steps-per-execution", "0"], "--steps-per-execution", "'0'"),
    (["transfer", "--shots", "0"], "--shots", "'0'"),
    (["transfer", "--seeds", "-1"], "--seeds", "'-1'"),
    (["transfer", "--mode", "full"], "--mode", "'full'"),
    (["degradation", "--steps-per-execution", "fast"], "--steps-per-execution", "'fast'"),
    (["bench", "resnet20", "--steps", "0"], "--steps", "'0'"),
    (["bench", "resnet20", "--warmup", "-1"], "--warmup", "'-1'"),
    (["bench", "resnet20", "--batch-size", "0"], "--batch-size", "'0'"),
    (["bench", "resnet20", "--steps-per-execution", "0"], "--steps-per-execution", "'0'"),
    (["bench", "resnet20", "--what", "fit"], "--what", "'fit'"),
    (["bench", "resnet21"], "Did you mean", "'resnet21'"),
    (["speedrun", "--ablation", "--without", "dirac"], "--without", "'dirac'"),
    (["speedrun", "--ablation", "--restart"], "--restart", "True"),
    (["speedrun", "--whiten-eps", "0"], "--whiten-eps", "'0'"),
]


@pytest.mark.parametrize("argv,option,received", BAD, ids=[" ".join(a[0][:1] + [
    x for x in a[0][1:] if x not in ("resnet20", "--out", "{out}")]) for a in BAD])
def test_bad_argument_is_one_line_and_exit_2(argv, option, received, tmp_path, no_data,
                                             capsys):
    file = tmp_path / "a-file.txt"
    file.write_text("not a folder")
    (tmp_path / "images" / "train").mkdir(parents=True)
    names = {"out": str(tmp_path / "run"), "file": str(file), "tmp": str(tmp_path),
             "images": str(tmp_path / "images")}
    argv = [a.format(**names) for a in argv]
    code, err = _run(argv, capsys)
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err  # exactly one line
    assert err.startswith(f"cnn-keras {argv[0]}: error: "), err
    assert option in err and received.format(**names) in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing written


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file()
                                         else None) for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("extra", [
    ["--epochs", "0"], ["--lr", "nan"], ["--warmup-epochs", "20"], ["--subset", "100"],
    ["--low-res", "40"], ["--data-dir", "/no/such/cifar10"], ["--model-typo"]],
    ids=lambda e: " ".join(e))
def test_a_rejected_command_leaves_an_existing_run_untouched(extra, tmp_path, no_data, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "running", "config": {}}))
    (run / "history.csv").write_text("epoch,loss\n1,2.0\n")
    (run / "progress.json").write_text(json.dumps({"epoch": 1, "history": []}))
    (run / "checkpoint-0001.keras").write_bytes(b"weights")
    past = time.time() - 3600
    for p in run.iterdir():
        os.utime(p, (past, past))
    before = _snapshot(run)
    model = "resnet21" if extra == ["--model-typo"] else "resnet20"
    extra = [] if extra == ["--model-typo"] else extra
    code, err = _run(["train", model, "--out", str(run), "--restart", *extra], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert _snapshot(run) == before


def test_an_experiment_rejected_leaves_its_runs_untouched(tmp_path, no_data, capsys):
    out = tmp_path / "deg"
    (out / "plain20").mkdir(parents=True)
    (out / "plain20" / "history.csv").write_text("epoch,loss\n1,2.0\n")
    (out / "summary.csv").write_text("model\nplain20\n")
    before = _snapshot(out)
    for argv in (["--epochs", "0"], ["--warmup-epochs", "nan"], ["--models", "plain21"]):
        code, err = _run(["degradation", "--mode", "quick", "--out", str(out), *argv], capsys)
        assert code == 2 and err.count("\n") == 1, err
    assert _snapshot(out) == before


def test_out_that_is_a_file(tmp_path, no_data, capsys):
    """--out naming a file (or a path through one) is one line, not FileExistsError, and the
    file is kept; so is a file where an experiment would put a variant's run folder."""
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    for argv in (["train", "resnet20", "--out", str(file)],
                 ["train", "resnet20", "--out", str(file / "run")],
                 ["degradation", "--out", str(file)], ["ablation", "fig1", "--out", str(file)]):
        code, err = _run(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and "--out" in err and str(file) in err, err
        assert "must be a folder" in err and "Traceback" not in err
    out = tmp_path / "abl"
    out.mkdir()
    (out / "tanh").write_text("a file where the tanh run would go")
    code, err = _run(["ablation", "fig1", "--variants", "tanh", "--out", str(out)], capsys)
    assert code == 2 and "--out" in err and str(out / "tanh") in err, err
    assert file.read_text() == "mine" and (out / "tanh").is_file()


@pytest.mark.parametrize("command", [["degradation"], ["ablation", "vgg"]])
@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("3", 3)])
def test_experiments_pass_steps_per_execution_on(command, value, expected, monkeypatch):
    from cnn_keras.experiments import ablation, degradation

    seen = {}
    for module in (ablation, degradation):
        monkeypatch.setattr(module, "run", lambda *a, **kw: seen.update(kw))
    assert main([*command, "--mode", "quick", "--steps-per-execution", value]) == 0
    assert seen["steps_per_execution"] == expected


@pytest.mark.slow
def test_train_imagenet_paper_streams_a_folder_with_the_papers_recipe(tmp_path, capsys):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("val", 2)):
        for c in range(2):
            for i in range(n):
                path = tmp_path / "images" / split / f"c{c}" / f"{i}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                image = rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)
                path.write_bytes(tf.io.encode_jpeg(image).numpy())
    out = tmp_path / "run"
    assert main(["train", "mobilenet", "--recipe", "imagenet-paper", "--image-folder",
                 str(tmp_path / "images"), "--image-size", "32", "--batch-size", "8",
                 "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    info = json.loads((out / "run.json").read_text())
    recipe = info["config"]["recipe"]
    assert (recipe["name"], recipe["optimizer_name"], recipe["batch_size"]) == (
        "mobilenet-batch8-1ep", "rmsprop", 8)
    assert recipe["lr"] == pytest.approx(0.045 * 8 / 32)  # the linear scaling rule
    assert info["config"]["dataset"]["image_shape"] == [32, 32, 3]
    assert "1 epochs" in capsys.readouterr().out


def test_transfer_runs_the_study_with_the_options(monkeypatch):
    from cnn_keras.cli.parser import TRANSFER_MODES
    from cnn_keras.experiments import transfer_study

    assert TRANSFER_MODES == tuple(transfer_study.MODES)
    from cnn_keras.cli.parser import DISTILL_MODES
    from cnn_keras.experiments import distillation

    assert DISTILL_MODES == tuple(distillation.MODES)
    seen = {}
    monkeypatch.setattr(transfer_study, "run", lambda *a, **kw: seen.update(args=a, **kw))
    assert main(["transfer", "--mode", "quick", "--shots", "5", "10", "--seeds", "0", "1",
                 "--quiet"]) == 0
    assert seen["args"] == ("quick", "runs/transfer-quick")
    assert (seen["shots"], seen["seeds"], seen["verbose"]) == ([5, 10], [0, 1], 0)


def test_record_copies_a_transfer_run_with_its_own_files(tmp_path, capsys):
    from cnn_keras.experiments import transfer_results

    run = tmp_path / "run"
    for name in transfer_results.RECORD_FILES:
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text("x")
    (run / "run.json").write_text(json.dumps({"experiment": "transfer", "status": "finished"}))
    (run / "source" / "weights.keras").write_text("checkpoint")  # left behind
    assert main(["record", str(run), str(tmp_path / "rec")]) == 0
    assert "5 files" in capsys.readouterr().out
    copied = sorted(p.relative_to(tmp_path / "rec").as_posix()
                    for p in (tmp_path / "rec").rglob("*") if p.is_file())
    assert copied == sorted(transfer_results.RECORD_FILES)


def test_train_streams_a_tfds_dataset_downloading_it_where_missing(monkeypatch, tmp_path):
    from cnn_keras.data import streaming

    seen = {}

    def open_tfds(name, **kw):
        seen.update(name=name, **kw)
        raise ValueError("stop here. Received: nothing")

    monkeypatch.setattr(streaming, "open_tfds", open_tfds)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    assert main(["train", "resnet50", "--recipe", "imagenet-paper", "--tfds", "imagenette",
                 "--image-size", "64", "--out", str(tmp_path / "run")]) == 2
    assert seen == {"name": "imagenette", "size": 64, "download": True,
                    "data_dir": str(tmp_path)}


def test_record_copies_a_finished_training_run_without_its_checkpoints(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("history.csv", "checkpoint-0002.keras", "model.keras", "progress.json"):
        (run / name).write_text("x")
    (run / "run.json").write_text(json.dumps({"status": "running"}))
    assert main(["record", str(run), str(tmp_path / "rec")]) == 2  # not finished: refused
    (run / "run.json").write_text(json.dumps({"status": "finished"}))
    assert main(["record", str(run), str(tmp_path / "rec")]) == 0
    assert "2 files" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["history.csv", "run.json"]


def test_ablation_names_are_the_studies():
    from cnn_keras.experiments import studies

    assert cli.ABLATION_NAMES == tuple(studies.ABLATIONS)


def test_main_turns_onednn_on_before_parsing(monkeypatch, capsys):
    import cnn_keras.backends.tensorflow as tf_backend

    calls = []
    monkeypatch.setattr(tf_backend, "use_onednn_by_default", lambda: calls.append(True))
    with pytest.raises(SystemExit):
        main(["train", "--epochs", "0"])  # a parse error: the call came first
    assert calls == [True]
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"]


@pytest.mark.parametrize("model,warmup_steps", [("resnet110", 400), ("resnet56", 0),
                                                 ("efficientnet_b0", 0)])
def test_paper_recipe_takes_the_depth_from_the_registry(model, warmup_steps, monkeypatch,
                                                        tmp_path, capsys):
    """The paper's lr warm-up for 110 layers and more, from `model_info`'s depth (not from the
    digits of the name: efficientnet_b0 has none); also runs `_train` up to `training.train`."""
    from cnn_keras import training

    seen = {}
    monkeypatch.setattr(data_lib, "load_cifar10",
                        lambda data_dir: data_lib.synthetic_dataset(64, 32, seed=0))

    def train(model_name, data, out, *, recipe, engine, **kwargs):
        seen.update(recipe=recipe, engine=engine)
        return [{"accuracy": 0.5, "val_accuracy": 0.5}]

    monkeypatch.setattr(training, "train", train)
    assert main(["train", model, "--recipe", "paper", "--out", str(tmp_path / "r"),
                 "--steps-per-execution", "2", "--unfused-bn"]) == 0
    assert seen["recipe"].warmup_steps == warmup_steps and seen["recipe"].iterations == 64_000
    assert seen["engine"].steps_per_execution == 2 and seen["engine"].fused_bn is False


def test_train_takes_steps_per_execution_auto(monkeypatch, tmp_path):
    from cnn_keras import training

    seen = {}
    monkeypatch.setattr(data_lib, "load_cifar10",
                        lambda data_dir: data_lib.synthetic_dataset(64, 32, seed=0))
    monkeypatch.setattr(training, "train", lambda *a, engine, **kw: seen.update(engine=engine)
                        or [{"accuracy": 0.5, "val_accuracy": 0.5}])
    assert main(["train", "resnet20", "--subset", "64", "--batch-size", "16", "--out",
                 str(tmp_path / "r"), "--steps-per-execution", "auto"]) == 0
    assert seen["engine"].steps_per_execution == "auto"


_LIGHT = """
import json, sys
from cnn_keras.cli import main
codes = []
for argv in {argvs!r}:
    try:
        codes.append(main(argv))
    except SystemExit as exc:
        codes.append(exc.code)
print(json.dumps({{"codes": codes, "heavy": sorted(m for m in ("tensorflow", "keras", "jax",
                                                    "torch") if m in sys.modules)}}))
"""


def test_help_and_argument_errors_import_no_tensorflow(tmp_path):
    """`--help` and bad values need neither TensorFlow nor Keras (fast, and no TensorFlow
    start-up lines on stderr); `import cnn_keras.cli` neither. A fresh interpreter."""
    argvs = [["--help"], ["train", "--help"], ["train", "resnet20", "--lr", "nan", "--out", "x"],
             ["train", "resnet20", "--warmup-epochs", "10", "--out", "x"],
             ["train", "resnet20", "--data-dir", str(tmp_path / "none"), "--out", "x"],
             ["degradation", "--models", "resnet21"], ["ablation", "vgg", "--variants", "E"],
             ["bench", "resnet20", "--steps", "0"]]
    env = {**os.environ, "CNN_KERAS_DATA": str(tmp_path / "none")}
    result = subprocess.run([sys.executable, "-c", _LIGHT.format(argvs=argvs)], env=env,
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"codes": [0, 0, 2, 2, 2, 2, 2, 2], "heavy": []}, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 6  # one line for each error


def test_command_line_error_is_one_line_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cnn_keras", "train", "resnet20", "--lr", "nan",
                             "--out", str(tmp_path / "run")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("cnn-keras train: error: argument --lr: ")
    assert result.stderr.count("\n") == 1 and "'nan'" in result.stderr
    assert not (tmp_path / "run").exists()


def test_speedrun_and_its_ablation_run_and_print_their_tables(monkeypatch, tmp_path, capsys):
    """`cnn-keras speedrun` on a small generated set; `--ablation` (one trick removed, to stay
    small) writes and prints its table and figure, and a second call trains nothing again."""
    import functools

    from cnn_keras.speedrun import ablation

    monkeypatch.setattr(data_lib, "load_cifar10",
                        lambda data_dir: data_lib.synthetic_dataset(64, 32, seed=0))
    small = ["--epochs", "1", "--batch-size", "32", "--quiet"]
    assert main(["speedrun", *small, "--whiten-eps", "0.01", "--out", str(tmp_path / "one")]) == 0
    assert "airbench94: test accuracy" in capsys.readouterr().out
    info = json.loads((tmp_path / "one" / "run.json").read_text())
    assert info["status"] == "finished" and info["config"]["recipe"]["whiten_eps"] == 0.01
    monkeypatch.setattr(ablation, "run", functools.partial(ablation.run, tricks=("dirac",)))
    out = tmp_path / "abl"
    assert main(["speedrun", "--ablation", *small, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "no dirac" in printed and "(1 seed)" in printed and "(1 seeds)" not in printed
    assert (out / "ablation.csv").is_file() and (out / "ablation.png").stat().st_size > 0
    assert main(["speedrun", "--ablation", *small, "--out", str(out)]) == 0
    assert capsys.readouterr().out == printed  # the finished runs are read, not trained again
