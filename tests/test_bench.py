"""`cnn-keras bench`: it measures and reports (no test asserts a speed)."""

import json

import pytest

from cnn_keras import bench
from cnn_keras.cli import main

KEYS = {"model", "what", "images_per_sec", "backend", "device", "precision", "batch"}


@pytest.mark.parametrize("what,kw", [("train", {}), ("infer", {}), ("data", {}),
                                     ("data", {"pipeline": "numpy"}),
                                     ("data", {"pipeline": "layer"})])
def test_run_reports_what_it_measured(what, kw, capsys):
    result = bench.run("resnet20", what, batch_size=8, steps=2, warmup=1, **kw)
    assert KEYS <= set(result) and result["what"] == what and result["batch"] == 8
    assert result["images_per_sec"] > 0 and result["seconds"] > 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == result


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="Received: what='fit'"):
        bench.run("resnet20", "fit")
    with pytest.raises(ValueError, match="Received: steps=0"):
        bench.run("resnet20", steps=0)
    with pytest.raises(ValueError, match="Received: name='resnet21'"):
        bench.run("resnet21")
    with pytest.raises(ValueError, match=r"'layer'\]. Received: pipeline='dali'"):
        bench.run("resnet20", "data", pipeline="dali", steps=1, warmup=0)


def test_cli_bench(capsys):
    assert main(["bench", "alexnet_fig1", "--what", "train", "--batch-size", "4", "--steps", "1",
                 "--warmup", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["model"] == "alexnet_fig1" and result["backend"] == "tensorflow"
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--help"])
    assert exc.value.code == 0
    assert "images_per_sec" in capsys.readouterr().out


def test_pytorch_reference_is_the_same_net():
    pytest.importorskip("torch", reason="the PyTorch reference is an extra: pip install torch")
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "torch_resnet20.py"
    out = subprocess.run([sys.executable, str(script), "--batch-size", "8", "--steps", "1",
                          "--warmup", "1"], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])  # the script checks 269,722
    assert result["model"] == "resnet20" and result["images_per_sec"] > 0


def test_compile_options_are_recorded():
    result = bench.run("alexnet_fig1", "train", batch_size=4, steps=2, warmup=1,
                       steps_per_execution=2, jit_compile=False, verbose=False)
    assert result["steps_per_execution"] == 2 and result["jit_compile"] is False
