"""Side-by-side throughput on this machine: the real training path (`training.train`: tf.data
with augmentation, the recipe, checkpoints; needs CIFAR-10) with its defaults and with the
options explored (Keras' unfused batch norm, mixed_bfloat16, one inter-op thread, oneDNN off),
our training step alone (Keras on TensorFlow, and on JAX where it is installed),
the same net in PyTorch (where torch is installed), and the CIFAR-10 input pipeline, each in its
own process, alternating for --rounds rounds so that all see the same machine state. Prints a
table of medians with the achieved GFLOP/s (training ~ 3x the forward multiply-adds, 2 FLOPs
each) and, last, one JSON line.

    python benchmarks/cpu_compare.py [--rounds 3] [--batch-size 128] [--steps 60]
        [--peak-flops-per-cycle 64]   # fp32 FLOPs per cycle per core (Zen 5 / AVX-512: 64)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _measure(spec: dict, env: dict) -> dict:
    """One measurement in a fresh interpreter with the configuration's environment (oneDNN and
    thread settings are read once, when TensorFlow starts): this script's `--child` mode, or
    the PyTorch reference, each writing its result as JSON to a file."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        if spec["kind"] == "torch":
            cmd = [sys.executable, str(HERE / "torch_resnet20.py"), *spec["args"]]
        else:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
        proc = subprocess.run([*cmd, "--result", str(result)], capture_output=True, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env})
        if proc.returncode:
            raise SystemExit(f"{spec} failed:\n{proc.stderr[-3000:]}")
        return json.loads(result.read_text())


def _child(spec: dict) -> dict:
    """The measurement `spec` in this process, through the package: `bench.run`, or
    `training.train` for the real training path."""
    from cnn_keras.backends.tensorflow import use_onednn_by_default

    use_onednn_by_default()  # as the `cnn-keras` command does (unless the spec's env says 0)
    if spec["kind"] == "bench":
        from cnn_keras import bench

        return bench.run(spec["model"], spec["what"], batch_size=spec["batch_size"],
                         steps=spec["steps"], pipeline=spec.get("pipeline", "tf.data"),
                         verbose=False)
    return _train_path(spec["model"], spec["batch_size"], spec["steps"], spec["engine"])


def _train_path(model, batch_size, steps, engine):
    """`training.train` for 2 epochs of `steps` batches of CIFAR-10 (the tf.data pipeline with
    augmentation, the recipe, a checkpoint per epoch); images/s of the second epoch (the first
    includes tracing), from its history (which includes a 128-image evaluation)."""
    from cnn_keras import data as data_lib
    from cnn_keras import training

    data = data_lib.load_cifar10(verbose=False).subset(batch_size * steps, num_test=128)
    with tempfile.TemporaryDirectory() as out:
        history = training.train(model, data, out, verbose=0,
                                 recipe=training.scaled_recipe(2, batch_size=batch_size),
                                 engine=training.Engine(**engine))
        info = training.RunFolder(out).info()
    seconds = history[-1]["seconds"]
    return {"model": model, "what": "train (training.train: tf.data, augmentation)",
            "backend": info.get("backend", "tensorflow"), "device": info["hardware"]["device"],
            "precision": info["config"]["dtype_policy"], "batch": batch_size, "steps": steps,
            "steps_per_execution": info.get("steps_per_execution"), "seconds": seconds,
            "images_per_sec": round(batch_size * steps / seconds, 1)}


def _peak_gflops(flops_per_cycle):
    """fp32 peak of this machine's cores: cores x clock x FLOPs per cycle. The clock is the
    nominal one /proc/cpuinfo reports (a virtual machine may boost above it)."""
    from cnn_keras.runinfo import cpuinfo

    mhz = cpuinfo("cpu MHz")
    if mhz is None:
        return None, None
    mhz = float(mhz)
    cores = len(os.sched_getaffinity(0))
    return cores * mhz * 1e6 * flops_per_cycle / 1e9, f"{cores} cores x {mhz / 1000:.2f} GHz x " \
        f"{flops_per_cycle} fp32 FLOPs/cycle"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--model", default="resnet20")
    p.add_argument("--child", help=argparse.SUPPRESS)  # one measurement (see `_measure`)
    p.add_argument("--result", help=argparse.SUPPRESS)
    p.add_argument("--peak-flops-per-cycle", type=int, default=None,
                   help="fp32 FLOPs per cycle per core: 64 for two 512-bit FMA pipes (Zen 5, "
                   "recent Xeons), 32 for 256-bit ones (default: 64 where /proc/cpuinfo lists "
                   "avx512f, else 32)")
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before cnn_keras imports TensorFlow
    if args.child:
        Path(args.result).write_text(json.dumps(_child(json.loads(args.child))))
        return
    from cnn_keras.runinfo import cpuinfo

    flags = set((cpuinfo("flags") or "").split())
    if args.peak_flops_per_cycle is None:
        args.peak_flops_per_cycle = 64 if "avx512f" in flags else 32
    size = {"model": args.model, "batch_size": args.batch_size, "steps": args.steps}
    train_path = {"cnn-keras train (defaults)": ({}, {}),
                  "cnn-keras train, Keras' unfused batch norm": ({"fused_bn": False}, {}),
                  "cnn-keras train, mixed_bfloat16": ({"dtype_policy": "mixed_bfloat16"}, {}),
                  "cnn-keras train, 1 inter-op thread": ({}, {"TF_NUM_INTEROP_THREADS": "1"}),
                  "cnn-keras train, oneDNN off": ({}, {"TF_ENABLE_ONEDNN_OPTS": "0"})}
    if not flags & {"avx512_bf16", "amx_bf16"}:  # emulated: tens of times slower, not an option
        print("cnn-keras train, mixed_bfloat16: skipped (this CPU has no AVX512-BF16 or AMX)")
        del train_path["cnn-keras train, mixed_bfloat16"]
    bench = {"kind": "bench", **size}
    runs = {"keras/tensorflow train step alone": ({**bench, "what": "train"}, {}),
            "data tf.data": ({**bench, "what": "data", "pipeline": "tf.data"}, {}),
            "data numpy": ({**bench, "what": "data", "pipeline": "numpy"}, {})}
    if importlib.util.find_spec("jax"):
        runs["keras/jax train"] = ({**bench, "what": "train"}, {"KERAS_BACKEND": "jax"})
    else:
        print("keras/jax: skipped (jax is not installed)")
    if args.model != "resnet20":
        print("pytorch: skipped (the reference exists for resnet20 only)")
    elif importlib.util.find_spec("torch"):
        ref = ["--batch-size", str(args.batch_size), "--steps", str(args.steps)]
        runs["pytorch train"] = ({"kind": "torch", "args": ref}, {})
        runs["pytorch train channels_last"] = ({"kind": "torch",
                                                "args": [*ref, "--channels-last"]}, {})
    else:
        print("pytorch: skipped (torch is not installed: pip install torch)")
    from cnn_keras import data as data_lib

    try:
        data_lib.cifar10_subset(128, 128, verbose=False)
        runs = {name: ({"kind": "train", **size, "engine": engine}, env)
                for name, (engine, env) in train_path.items()} | runs
    except Exception as exc:  # no local CIFAR-10 and offline
        print(f"cnn-keras train: skipped (no CIFAR-10: {str(exc)[:80]}...)")
    from cnn_keras.analysis import count_macs
    from cnn_keras.registry import build

    train_flops = 3 * 2 * count_macs(build(args.model, input_shape=(32, 32, 3), classes=10))
    peak, peak_how = _peak_gflops(args.peak_flops_per_cycle)
    results = {name: [] for name in runs}
    for r in range(args.rounds):
        for name, (spec, env) in runs.items():  # alternating: all see the same machine state
            result = _measure(spec, env)
            results[name].append(result)
            print(f"round {r + 1}/{args.rounds} {name:<42} {result['images_per_sec']:>10,.0f} "
                  "images/s", flush=True)
    print(f"\n{'':<44}{'median images/s':>16}{'GFLOP/s':>9}{'% peak':>8}  backend / device")
    summary = []
    for name, rows in results.items():
        median = statistics.median(row["images_per_sec"] for row in rows)
        gflops = median * train_flops / 1e9 if not name.startswith("data") else None
        share = f"{100 * gflops / peak:>7.0f}%" if gflops and peak else f"{'':>8}"
        flops = f"{gflops:>9.0f}" if gflops else f"{'':>9}"
        print(f"{name:<44}{median:>16,.0f}{flops}{share}  {rows[0]['backend']} / "
              f"{rows[0]['device']}")
        summary.append({**rows[0], "name": name, "images_per_sec": median,
                        "gflops": None if gflops is None else round(gflops, 1),
                        "rounds": [row["images_per_sec"] for row in rows]})
    print(f"\ntraining FLOPs per image ~ 3 x 2 x {train_flops // 6:,} MACs = "
          f"{train_flops / 1e6:.1f} MFLOP; fp32 peak {peak or 0:.0f} GFLOP/s ({peak_how})")
    print(json.dumps({"benchmark": "cpu_compare", "model": args.model, "batch": args.batch_size,
                      "train_flops_per_image": train_flops, "peak_gflops": peak,
                      "peak": peak_how, "results": summary}))


if __name__ == "__main__":
    main()
