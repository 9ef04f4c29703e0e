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


@pytest.mark.parametrize("model", ["resnet20", "airbench94"])
def test_pytorch_reference_is_the_same_net(model):
    pytest.importorskip("torch", reason="the PyTorch reference is an extra: pip install torch")
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "torch_reference.py"
    out = subprocess.run([sys.executable, str(script), "--model", model, "--batch-size", "8",
                          "--steps", "1", "--warmup", "1", "--channels-last", "--bf16"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])  # the script checks the count
    assert result["model"] == model and result["images_per_sec"] > 0
    assert result["precision"] == "bfloat16 autocast"


def test_compile_options_are_recorded():
    result = bench.run("alexnet_fig1", "train", batch_size=4, steps=2, warmup=1,
                       steps_per_execution=2, jit_compile=False, verbose=False)
    assert result["steps_per_execution"] == 2 and result["jit_compile"] is False


@pytest.mark.parametrize("env,on", [({}, True), ({"TF_ENABLE_ONEDNN_OPTS": "0"}, False)])
def test_the_command_turns_onednn_on_unless_told_otherwise(env, on):
    """TensorFlow enables oneDNN by itself only on AVX-512 VNNI/BF16 or AMX CPUs; without it
    ResNet-20 trains at less than half the speed on AVX2 CPUs. The `cnn-keras` command (an
    application) turns it on; `import cnn_keras` leaves it alone. Checked in a fresh
    interpreter, from TensorFlow's own start-up message."""
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    run = subprocess.run([sys.executable, "-m", "cnn_keras", "summary", "resnet20", "--brief"],
                         capture_output=True, text=True, check=True,
                         env=clean | env | {"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert "269,722" in run.stdout
    assert ("oneDNN custom operations are on" in run.stderr) is on
    if env:  # the user's value: the library never touches it (unit-tested in test_tensorflow)
        return
    library = subprocess.run([sys.executable, "-c", "import os, cnn_keras; cnn_keras.resnet20(); "
                              "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))"],
                             capture_output=True, text=True, check=True, env=clean)
    assert library.stdout.strip() == "None"  # a model built, TensorFlow loaded, nothing set


def test_hardware_names_the_cpus_vector_instructions():
    """Speed on CPU depends on AVX-512 / BF16 more than on the model name ("AMD EPYC" is both a
    Zen 3 without AVX-512 and a Zen 5 with it), so every record says which it had."""
    from pathlib import Path

    from cnn_keras import runinfo

    hw = runinfo.hardware()
    assert hw["cpu_simd"] in (*runinfo.SIMD_LEVELS, None)
    if Path("/proc/cpuinfo").exists():
        flags = runinfo.cpuinfo("flags").split()
        assert hw["cpu_simd"] in flags and hw["cpu_family_model"].count("/") == 1
        assert ("avx512f" in flags) == (hw["cpu_simd"] in runinfo.SIMD_LEVELS[:3])


def test_mobilenet_latency_reports_counts_and_times(tmp_path, capsys):
    """The script's rows (here the first two: alpha 1.0 and 0.75 at 224 px, one timed call):
    the counts of Table 6, activation memory, and times that it measured, never checked."""
    from scripts import benchmark_script

    script = benchmark_script("mobilenet_latency")
    assert script.nets()[0] == (1.0, 224) and len(script.nets()) == 7
    rows = script.main(["--runs", "1", "--batch", "2", "--nets", "2", "--out", str(tmp_path)])
    assert [(r["alpha"], r["resolution"]) for r in rows] == [(1.0, 224), (0.75, 224)]
    assert rows[0]["params"] == 4_253_864 and rows[0]["macs"] == 568_740_352
    assert rows[0]["activations_peak_mb"] > rows[1]["activations_peak_mb"] > 0
    assert all(r["latency_ms"] > 0 and r["ms_per_image_in_batch"] > 0 for r in rows)
    out = capsys.readouterr().out
    assert "widest SIMD" in out and "| 0.75 | 224 | 2,601,976 |" in out
    saved = json.loads((tmp_path / "mobilenet_latency.json").read_text())
    assert saved["rows"] == rows and (tmp_path / "mobilenet_latency.md").is_file()
    with pytest.raises(SystemExit):
        script.main(["--runs", "0"])
    assert "--runs must be a positive integer. Received: 0" in capsys.readouterr().err
