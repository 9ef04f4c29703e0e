"""Side-by-side training throughput on this machine, each measurement in its own process,
alternating for --rounds rounds so that all see the same machine state:
- the real training path with its defaults and with the options explored: for ResNet-20
  `training.train` (tf.data with augmentation, the recipe, checkpoints), for airbench94 the
  speedrun loop (`speedrun.train`: numpy batches, lookahead); both need CIFAR-10;
- our training step alone (`cnn-keras bench`), on TensorFlow and, where installed, on JAX;
- the same net in PyTorch (`torch_reference.py`, where torch is installed): eager NCHW and
  channels_last, bf16 autocast where the CPU has bf16 instructions, and `torch.compile`;
- the CIFAR-10 input pipelines alone.
Prints a table of medians with the achieved GFLOP/s against the machine's peak for the row's
precision (training ~ 3x the forward multiply-adds, 2 FLOPs each) and, last, one JSON line.

    python benchmarks/cpu_compare.py [--model resnet20|airbench94] [--rounds 3]
        [--batch-size 128] [--steps 60] [--explore] [--no-jax] [--no-torch-compile]
        [--peak-flops-per-cycle 64]   # fp32 FLOPs per cycle per core (AVX-512: 64)
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
            cmd = [sys.executable, str(HERE / "torch_reference.py"), *spec["args"]]
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
                         dtype_policy=spec.get("dtype_policy", "float32"), verbose=False)
    if spec["model"] == "airbench94":
        return _speedrun_path(spec["batch_size"], spec["steps"], spec["engine"])
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


def _speedrun_path(batch_size, steps, engine):
    """`speedrun.train` for 2 epochs of `steps` batches of CIFAR-10 (numpy batches with flips
    and translations, lookahead, a checkpoint per epoch); images/s of the second epoch."""
    from cnn_keras import data as data_lib
    from cnn_keras.speedrun import SpeedrunRecipe, report, run

    data = data_lib.load_cifar10(verbose=False).subset(batch_size * steps, num_test=1024)
    policy = engine.get("dtype_policy", "float32")
    with tempfile.TemporaryDirectory() as out:
        run.train(data, out, recipe=SpeedrunRecipe(epochs=2, batch_size=batch_size),
                  dtype_policy=policy, verbose=0)
        history = report.load(out)["history"]
    seconds = float(history[-1]["seconds"])
    return {"model": "airbench94", "what": "train (speedrun.train: numpy batches, lookahead)",
            "backend": "tensorflow", "device": f"CPU ({len(os.sched_getaffinity(0))} cores)",
            "precision": policy, "batch": batch_size, "steps": steps, "seconds": seconds,
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


# bf16 FLOPs per cycle per core: AMX's tile unit (Intel: 1,024 bf16 operations per cycle),
# or AVX512-BF16's VDPBF16PS (two 512-bit pipes x 16 pairs x 2 FLOPs x 2)
BF16_FLOPS_PER_CYCLE = {"amx_bf16": 1024, "avx512_bf16": 128}


def _args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("resnet20", "airbench94"), default="resnet20")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=None,
                   help="batch size (128 for resnet20, 1024 for airbench94)")
    p.add_argument("--steps", type=int, default=None, help="timed steps (60; airbench94 12)")
    p.add_argument("--explore", action="store_true",
                   help="also the options measured no faster before: Keras' unfused batch "
                   "norm, one inter-op thread, oneDNN off")
    p.add_argument("--no-jax", action="store_true",
                   help="skip Keras on JAX (XLA's CPU convolutions: slow for the big nets)")
    p.add_argument("--no-torch-compile", action="store_true",
                   help="skip the torch.compile rows (each compiles for a minute or more)")
    p.add_argument("--child", help=argparse.SUPPRESS)  # one measurement (see `_measure`)
    p.add_argument("--result", help=argparse.SUPPRESS)
    p.add_argument("--peak-flops-per-cycle", type=int, default=None,
                   help="fp32 FLOPs per cycle per core: 64 for two 512-bit FMA pipes (Zen 5, "
                   "recent Xeons), 32 for 256-bit ones (default: 64 where /proc/cpuinfo lists "
                   "avx512f, except on Zen 4, else 32)")
    args = p.parse_args(argv)
    big = args.model == "airbench94"
    args.batch_size = args.batch_size or (1024 if big else 128)
    args.steps = args.steps or (12 if big else 60)
    return args


def _train_path_runs(args, flags):
    """The real training path's rows: its defaults, bf16 where the CPU has it, and (with
    --explore) the options measured no faster before."""
    bf16 = bool(flags & set(BF16_FLOPS_PER_CYCLE))
    name = "cnn-keras speedrun" if args.model == "airbench94" else "cnn-keras train"
    rows = {f"{name} (defaults)": ({}, {})}
    if bf16:
        rows[f"{name}, mixed_bfloat16"] = ({"dtype_policy": "mixed_bfloat16"}, {})
        if args.model == "resnet20":
            rows[f"{name}, mixed_bfloat16, 6 steps per execution"] = (
                {"dtype_policy": "mixed_bfloat16", "steps_per_execution": "auto"}, {})
    else:  # emulated: tens of times slower, not an option
        print(f"{name}, mixed_bfloat16: skipped (this CPU has no AVX512-BF16 or AMX)")
    if args.explore and args.model == "resnet20":
        rows |= {f"{name}, Keras' unfused batch norm": ({"fused_bn": False}, {}),
                 f"{name}, 1 inter-op thread": ({}, {"TF_NUM_INTEROP_THREADS": "1"}),
                 f"{name}, oneDNN off": ({}, {"TF_ENABLE_ONEDNN_OPTS": "0"})}
    size = {"model": args.model, "batch_size": args.batch_size, "steps": args.steps}
    return {label: ({"kind": "train", **size, "engine": engine}, env)
            for label, (engine, env) in rows.items()}


def _step_runs(args, flags):
    """Our training step alone (`bench`), on TensorFlow and JAX, and the PyTorch reference."""
    bench = {"kind": "bench", "model": args.model, "batch_size": args.batch_size,
             "steps": args.steps}
    bf16 = bool(flags & set(BF16_FLOPS_PER_CYCLE))
    runs = {"keras/tensorflow train step alone": ({**bench, "what": "train"}, {})}
    if bf16:
        runs["keras/tensorflow train step alone, mixed_bfloat16"] = (
            {**bench, "what": "train", "dtype_policy": "mixed_bfloat16"}, {})
    if args.no_jax:
        print("keras/jax: skipped (--no-jax)")
    elif importlib.util.find_spec("jax"):
        runs["keras/jax train step alone"] = ({**bench, "what": "train"},
                                              {"KERAS_BACKEND": "jax"})
    else:
        print("keras/jax: skipped (jax is not installed)")
    if not importlib.util.find_spec("torch"):
        print("pytorch: skipped (torch is not installed: pip install torch)")
        return runs
    ref = ["--model", args.model, "--batch-size", str(args.batch_size), "--steps",
           str(args.steps)]
    variants = {"eager": [], "eager channels_last": ["--channels-last"]}
    if bf16:
        variants["eager channels_last, bf16 autocast"] = ["--channels-last", "--bf16"]
    if not args.no_torch_compile:
        variants["torch.compile channels_last"] = ["--channels-last", "--compile"]
        if bf16:
            variants["torch.compile channels_last, bf16 autocast"] = [
                "--channels-last", "--bf16", "--compile"]
    for label, extra in variants.items():
        runs[f"pytorch {label}"] = ({"kind": "torch", "args": [*ref, *extra]}, {})
    return runs


def _data_runs(args):
    bench = {"kind": "bench", "model": args.model, "batch_size": args.batch_size,
             "steps": args.steps, "what": "data"}
    return {"data tf.data": ({**bench, "pipeline": "tf.data"}, {}),
            "data numpy": ({**bench, "pipeline": "numpy"}, {})}


def _half_width_avx512():
    """AMD family 25 (Zen 4) decodes AVX-512 but executes it on 256-bit pipes: half the
    FLOPs per cycle of Zen 5's or a Xeon's 512-bit ones, for fp32 and bf16 alike."""
    from cnn_keras.runinfo import cpuinfo

    return cpuinfo("vendor_id") == "AuthenticAMD" and cpuinfo("cpu family") == "25"


def _peaks(args, flags):
    """fp32 and bf16 peak GFLOP/s of this machine's cores, with how each was computed."""
    half = _half_width_avx512()
    if args.peak_flops_per_cycle is None:
        args.peak_flops_per_cycle = 64 if "avx512f" in flags and not half else 32
    peaks = {"fp32": _peak_gflops(args.peak_flops_per_cycle)}
    for flag, per_cycle in BF16_FLOPS_PER_CYCLE.items():  # AMX first
        if flag in flags:
            gflops, how = _peak_gflops(per_cycle // 2 if half else per_cycle)
            peaks["bf16"] = (gflops, how and how.replace("fp32", f"bf16 ({flag})"))
            break
    return peaks


def _is_bf16(row):
    return "bf" in str(row.get("precision", ""))


def _report(args, results, train_flops, peaks):
    print(f"\n{'':<52}{'median images/s':>16}{'GFLOP/s':>9}{'% peak':>8}  precision, backend")
    summary = []
    for name, rows in results.items():
        median = statistics.median(row["images_per_sec"] for row in rows)
        gflops = median * train_flops / 1e9 if not name.startswith("data") else None
        peak = peaks.get("bf16" if _is_bf16(rows[0]) else "fp32", (None, None))[0]
        share = f"{100 * gflops / peak:>7.0f}%" if gflops and peak else f"{'':>8}"
        flops = f"{gflops:>9.0f}" if gflops else f"{'':>9}"
        print(f"{name:<52}{median:>16,.0f}{flops}{share}  {rows[0].get('precision', '')}, "
              f"{rows[0]['backend']}")
        summary.append({**rows[0], "name": name, "images_per_sec": median,
                        "gflops": None if gflops is None else round(gflops, 1),
                        "rounds": [row["images_per_sec"] for row in rows]})
    print(f"\ntraining FLOPs per image ~ 3 x 2 x {train_flops // 6:,} MACs = "
          f"{train_flops / 1e6:.1f} MFLOP")
    for kind, (gflops, how) in peaks.items():
        print(f"{kind} peak {gflops or 0:,.0f} GFLOP/s ({how})")
    print(json.dumps({"benchmark": "cpu_compare", "model": args.model, "batch": args.batch_size,
                      "train_flops_per_image": train_flops,
                      "peaks": {k: {"gflops": g, "how": h} for k, (g, h) in peaks.items()},
                      "results": summary}))


def main(argv=None):
    args = _args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before cnn_keras imports TensorFlow
    if args.child:
        Path(args.result).write_text(json.dumps(_child(json.loads(args.child))))
        return
    from cnn_keras import data as data_lib
    from cnn_keras.analysis import count_macs
    from cnn_keras.registry import build
    from cnn_keras.runinfo import cpuinfo

    flags = set((cpuinfo("flags") or "").split())
    runs = _step_runs(args, flags) | _data_runs(args)
    try:
        data_lib.cifar10_subset(128, 128, verbose=False)
        runs = _train_path_runs(args, flags) | runs
    except Exception as exc:  # no local CIFAR-10 and offline
        print(f"training path: skipped (no CIFAR-10: {str(exc)[:80]}...)")
    train_flops = 3 * 2 * count_macs(build(args.model, input_shape=(32, 32, 3), classes=10))
    results = {name: [] for name in runs}
    for r in range(args.rounds):
        for name, (spec, env) in runs.items():  # alternating: all see the same machine state
            result = _measure(spec, env)
            results[name].append(result)
            print(f"round {r + 1}/{args.rounds} {name:<52} {result['images_per_sec']:>10,.0f} "
                  "images/s", flush=True)
    _report(args, results, train_flops, _peaks(args, flags))


if __name__ == "__main__":
    main()
