"""Side-by-side throughput on this machine: the real `cnn-keras train` path (tf.data with
augmentation, the recipe, checkpoints; needs CIFAR-10) with its defaults and with the options
explored (Keras' unfused batch norm, 1 step per execution, mixed_bfloat16, one inter-op thread,
oneDNN off), our training step alone (Keras on TensorFlow, and on JAX where it is installed),
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


def _last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in the output:\n{text[-2000:]}")


def _train_path(model, batch_size, steps, extra=(), env=None):
    """`cnn-keras train` for 2 epochs of `steps` batches; images/s of the second epoch (the
    first includes tracing), from its history.csv (which includes a 128-image evaluation)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "cnn_keras", "train", model, "--epochs", "2", "--quiet",
               "--batch-size", str(batch_size), "--subset", str(batch_size * steps),
               "--test-subset", "128", "--out", out, *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
        if proc.returncode:
            raise SystemExit(f"cnn-keras train failed:\n{proc.stderr[-3000:]}")
        rows = (Path(out) / "history.csv").read_text().strip().splitlines()
        seconds = float(rows[-1].split(",")[-1])
        info = json.loads((Path(out) / "run.json").read_text())
    return {"model": model, "what": "train (cnn-keras train: tf.data, augmentation)",
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
    p.add_argument("--peak-flops-per-cycle", type=int, default=None,
                   help="fp32 FLOPs per cycle per core: 64 for two 512-bit FMA pipes (Zen 5, "
                   "recent Xeons), 32 for 256-bit ones (default: 64 where /proc/cpuinfo lists "
                   "avx512f, else 32)")
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before cnn_keras imports TensorFlow
    from cnn_keras.runinfo import cpuinfo

    flags = set((cpuinfo("flags") or "").split())
    if args.peak_flops_per_cycle is None:
        args.peak_flops_per_cycle = 64 if "avx512f" in flags else 32
    common = ["--batch-size", str(args.batch_size), "--steps", str(args.steps)]
    bench = [sys.executable, "-m", "cnn_keras", "bench", args.model]
    train_path = {"cnn-keras train (defaults)": ((), {}),
                  "cnn-keras train, Keras' unfused batch norm": (("--unfused-bn",), {}),
                  "cnn-keras train, 1 step/execution": (("--steps-per-execution", "1"), {}),
                  "cnn-keras train, mixed_bfloat16": (("--dtype-policy", "mixed_bfloat16"), {}),
                  "cnn-keras train, 1 inter-op thread": ((), {"TF_NUM_INTEROP_THREADS": "1"}),
                  "cnn-keras train, oneDNN off": ((), {"TF_ENABLE_ONEDNN_OPTS": "0"})}
    if not flags & {"avx512_bf16", "amx_bf16"}:  # emulated: tens of times slower, not an option
        print("cnn-keras train, mixed_bfloat16: skipped (this CPU has no AVX512-BF16 or AMX)")
        del train_path["cnn-keras train, mixed_bfloat16"]
    runs = {"keras/tensorflow train step alone": (bench + ["--what", "train", *common], {}),
            "data tf.data": (bench + ["--what", "data", "--pipeline", "tf.data", *common], {}),
            "data numpy": (bench + ["--what", "data", "--pipeline", "numpy", *common], {})}
    if importlib.util.find_spec("jax"):
        runs["keras/jax train"] = (bench + ["--what", "train", *common], {"KERAS_BACKEND": "jax"})
    else:
        print("keras/jax: skipped (jax is not installed)")
    if args.model != "resnet20":
        print("pytorch: skipped (the reference exists for resnet20 only)")
    elif importlib.util.find_spec("torch"):
        ref = [sys.executable, str(HERE / "torch_resnet20.py"), *common]
        runs["pytorch train"] = (ref, {})
        runs["pytorch train channels_last"] = (ref + ["--channels-last"], {})
    else:
        print("pytorch: skipped (torch is not installed: pip install torch)")
    from cnn_keras import data as data_lib

    try:
        data_lib.cifar10_subset(128, 128, verbose=False)
        runs = {name: (None, extra) for name, extra in train_path.items()} | runs
    except Exception as exc:  # no local CIFAR-10 and offline
        print(f"cnn-keras train: skipped (no CIFAR-10: {str(exc)[:80]}...)")
    from cnn_keras.analysis import count_macs
    from cnn_keras.registry import build

    train_flops = 3 * 2 * count_macs(build(args.model, input_shape=(32, 32, 3), classes=10))
    peak, peak_how = _peak_gflops(args.peak_flops_per_cycle)
    results = {name: [] for name in runs}
    # a train-path entry is (None, (extra command-line arguments, extra environment))
    for r in range(args.rounds):
        for name, (cmd, env) in runs.items():
            if cmd is None:
                result = _train_path(args.model, args.batch_size, args.steps, *env)
            else:
                out = subprocess.run(cmd, capture_output=True, text=True,
                                     env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env})
                if out.returncode:
                    raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
                result = _last_json(out.stdout)
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
