"""Side-by-side throughput on this machine: our ResNet-20 training step (Keras on TensorFlow, and
on JAX where it is installed), the same net in PyTorch (where torch is installed), and the
CIFAR-10 input pipeline, each in its own process, alternating for --rounds rounds so that all
see the same machine state. Prints a table of medians and, last, one JSON line.

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
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in the output:\n{text[-2000:]}")


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
    results = {name: [] for name in runs}
    for r in range(args.rounds):
        for name, (cmd, env) in runs.items():
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
