"""What data-parallel training costs on one machine: ResNet-20 training steps at one global
batch on 1 device and on 2 virtual CPU devices of the same cores, on each engine, side by side
in one run.

    python benchmarks/distribution_overhead.py [--steps 30] [--batch-size 128]

The 2 "devices" share the same cores, so they cannot be faster: the difference is what the
strategy itself costs (splitting the batch, the all-reduce of the gradients, on TensorFlow the
synchronized batch norm's extra all-reduces, on JAX the sharded step). A single-GPU user who
turns on `--devices 1` pays nothing (no strategy is made). Each configuration runs in a fresh
process (engines fix their devices at start-up), `--warmup` steps first (compiling), then
`--steps` timed steps. The last line is JSON, with the CPU's model and vector instructions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

CONFIGS = (("tensorflow", 1), ("tensorflow", 2), ("jax", 1), ("jax", 2))


def measure(backend: str, devices: int, steps: int, warmup: int, batch_size: int) -> float:
    """Images/s of `train_on_batch` steps of ResNet-20 (this process: the engine set up with
    2 virtual CPU devices, the model data-parallel over `devices` of them)."""
    import keras
    import numpy as np

    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from cnn_keras import build, training
    from cnn_keras.training import distribute

    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch_size, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, batch_size)
    with distribute.data_parallel(devices):
        keras.utils.set_random_seed(0)
        model = build("resnet20", classifier_activation=None)
        if devices > 1:  # as `train` does: batch-norm statistics over the global batch
            distribute.synchronize_batch_norm(model)
        model.compile(training.L2SGD(0.1, momentum=0.9, l2=1e-4),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        for _ in range(warmup):
            model.train_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        return steps * batch_size / (time.perf_counter() - start)


def _child(args) -> None:
    rate = measure(args.backend, args.devices, args.steps, args.warmup, args.batch_size)
    print(json.dumps({"images_per_s": rate}))


def _run(backend: str, devices: int, args) -> float | None:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run([sys.executable, __file__, "--child", "--backend", backend,
                           "--devices", str(devices), "--steps", str(args.steps),
                           "--warmup", str(args.warmup), "--batch-size", str(args.batch_size)],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])["images_per_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--backend", help=argparse.SUPPRESS)
    p.add_argument("--devices", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args)
    from cnn_keras import runinfo

    hw = runinfo.hardware()
    print(f"ResNet-20, global batch {args.batch_size}, {args.steps} steps after {args.warmup}; "
          f"{hw.get('cores')} cores, {hw.get('cpu')} ({hw.get('cpu_family_model')}), "
          f"{runinfo.cpu_simd()}")
    rows = []
    for backend, devices in CONFIGS:
        if backend == "jax" and importlib.util.find_spec("jax") is None:
            print(f"{backend:<11} {devices} device(s): skipped (jax is not installed)")
            continue
        rate = _run(backend, devices, args)
        rows.append({"backend": backend, "devices": devices, "images_per_s": rate})
        one = next(r["images_per_s"] for r in rows if r["backend"] == backend)
        ratio = f"  ({rate / one:.2f}x one device)" if rate and one and devices > 1 else ""
        shown = f"{rate:8.1f} images/s" if rate else "failed"
        print(f"{backend:<11} {devices} device(s): {shown}{ratio}", flush=True)
    print(json.dumps({"cpu": hw.get("cpu"), "cpu_family_model": hw.get("cpu_family_model"),
                      "simd": runinfo.cpu_simd(), "cores": hw.get("cores"),
                      "batch_size": args.batch_size, "steps": args.steps, "rows": rows}))


if __name__ == "__main__":
    main()
