"""Side-by-side throughput on this machine: our ResNet-20 training step (Keras on TensorFlow, and
on JAX where it is installed), the real `cnn-keras train` path (tf.data with augmentation, the
recipe, checkpoints; needs CIFAR-10), the same net in PyTorch (where torch is installed), and
the CIFAR-10 input pipeline, each in its own process, alternating for --rounds rounds so that
all see the same machine state. Prints a table of medians and, last, one JSON line.

    python benchmarks/cpu_compare.py [--rounds 3] [--batch-size 128] [--steps 30]
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


def _train_path(model, batch_size, steps):
    """`cnn-keras train` for 2 epochs of `steps` batches; images/s of the second epoch (the
    first includes tracing), from its history.csv (which includes a 128-image evaluation)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "cnn_keras", "train", model, "--epochs", "2", "--quiet",
               "--batch-size", str(batch_size), "--subset", str(batch_size * steps),
               "--test-subset", "128", "--out", out]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        if proc.returncode:
            raise SystemExit(f"cnn-keras train failed:\n{proc.stderr[-3000:]}")
        rows = (Path(out) / "history.csv").read_text().strip().splitlines()
        seconds = float(rows[-1].split(",")[-1])
        info = json.loads((Path(out) / "run.json").read_text())
    return {"model": model, "what": "train (cnn-keras train: tf.data, augmentation)",
            "backend": info.get("backend", "tensorflow"), "device": info["hardware"]["device"],
            "precision": "float32", "batch": batch_size, "steps": steps, "seconds": seconds,
            "images_per_sec": round(batch_size * steps / seconds, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--model", default="resnet20")
    args = p.parse_args()
    common = ["--batch-size", str(args.batch_size), "--steps", str(args.steps)]
    bench = [sys.executable, "-m", "cnn_keras", "bench", args.model]
    runs = {"keras/tensorflow train": (bench + ["--what", "train", *common], {}),
            "keras/tensorflow train, 8 steps/execution":
                (bench + ["--what", "train", "--steps-per-execution", "8", *common], {}),
            "keras/tensorflow train, mixed_bfloat16":
                (bench + ["--what", "train", "--dtype-policy", "mixed_bfloat16", *common], {}),
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from cnn_keras import data as data_lib

    try:
        data_lib.cifar10_subset(128, 128, verbose=False)
        runs["cnn-keras train (real path)"] = (None, {})
    except Exception as exc:  # no local CIFAR-10 and offline
        print(f"cnn-keras train: skipped (no CIFAR-10: {str(exc)[:80]}...)")
    results = {name: [] for name in runs}
    for r in range(args.rounds):
        for name, (cmd, env) in runs.items():
            if cmd is None:
                result = _train_path(args.model, args.batch_size, 50)
            else:
                out = subprocess.run(cmd, capture_output=True, text=True,
                                     env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env})
                if out.returncode:
                    raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
                result = _last_json(out.stdout)
            results[name].append(result)
            print(f"round {r + 1}/{args.rounds} {name:<42} {result['images_per_sec']:>10,.0f} "
                  "images/s", flush=True)
    print(f"\n{'':<44}{'median images/s':>16}  backend / device")
    summary = []
    for name, rows in results.items():
        median = statistics.median(row["images_per_sec"] for row in rows)
        print(f"{name:<44}{median:>16,.0f}  {rows[0]['backend']} / {rows[0]['device']}")
        summary.append({**rows[0], "name": name, "images_per_sec": median,
                        "rounds": [row["images_per_sec"] for row in rows]})
    print(json.dumps({"benchmark": "cpu_compare", "model": args.model, "batch": args.batch_size,
                      "results": summary}))


if __name__ == "__main__":
    main()
