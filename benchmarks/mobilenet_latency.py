"""MobileNet's two knobs against time and memory: the width multiplier alpha at 224 px and the
resolution at alpha = 1 (the rows of the paper's Tables 6 and 7), each net's parameters,
multiply-adds, activation memory of one image (float32) and its inference time measured on this
machine, side by side in one run: the latency of one image and the time per image in a batch.
The notes: the two parameters "trade latency for accuracy"; the multiply-adds say how much, the
clock says how much of that a CPU delivers (depthwise convs are cheap in multiply-adds but
memory-bound).

    python benchmarks/mobilenet_latency.py [--runs 20] [--batch 32] [--out DIR]

Prints the machine and one row per net; `--out` also writes the rows as mobilenet_latency.json
and .md there. Times are the median of --runs calls of `predict_on_batch` after 3 warm-up calls.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

ALPHAS = (1.0, 0.75, 0.5, 0.25)  # Table 6, at 224 px
RESOLUTIONS = (224, 192, 160, 128)  # Table 7, at alpha = 1
BYTES = 4  # float32
MB = 10**6  # megabytes


def nets() -> list[tuple[float, int]]:
    """(alpha, resolution) of each row: Table 6's alphas at 224 px, then Table 7's
    resolutions at alpha = 1 (the shared 1.0 / 224 net once)."""
    return [(a, 224) for a in ALPHAS] + [(1.0, r) for r in RESOLUTIONS if r != 224]


def _median_ms(net, x, runs: int) -> float:
    for _ in range(3):
        net.predict_on_batch(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        net.predict_on_batch(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure(alpha: float, resolution: int, runs: int, batch: int) -> dict:
    """One row: the counts of `mobilenet(alpha, resolution)` and its measured times."""
    import cnn_keras
    from cnn_keras.analysis import activation_values, count_macs, count_params

    net = cnn_keras.mobilenet(alpha=alpha, input_shape=(resolution, resolution, 3))
    acts = activation_values(net)
    rng = np.random.default_rng(0)
    image = rng.random((1, resolution, resolution, 3), dtype=np.float32)
    images = rng.random((batch, resolution, resolution, 3), dtype=np.float32)
    params = count_params(net)["total"]
    return {"alpha": alpha, "resolution": resolution, "params": params,
            "macs": count_macs(net),
            "weights_mb": round(params * BYTES / MB, 2),
            "activations_total_mb": round(acts["total"] * BYTES / MB, 2),
            "activations_peak_mb": round(acts["peak"] * BYTES / MB, 2),
            "latency_ms": round(_median_ms(net, image, runs), 2),
            "batch": batch,
            "ms_per_image_in_batch": round(_median_ms(net, images, runs) / batch, 3)}


def table(rows: list[dict]) -> str:
    """The rows as Markdown, with time and multiply-adds relative to alpha 1.0 at 224 px."""
    base = rows[0]
    lines = ["| alpha | px | params | MMACs | weights MB | activations MB (all / peak) | "
             "latency ms (1 image) | ms/image (batch) | MACs vs 1.0-224 | time vs 1.0-224 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['alpha']:g} | {r['resolution']} | {r['params']:,} | {r['macs'] / 1e6:,.0f} | "
            f"{r['weights_mb']:.1f} | {r['activations_total_mb']:.1f} / "
            f"{r['activations_peak_mb']:.1f} | {r['latency_ms']:.1f} | "
            f"{r['ms_per_image_in_batch']:.2f} | {r['macs'] / base['macs']:.2f} | "
            f"{r['ms_per_image_in_batch'] / base['ms_per_image_in_batch']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed calls per net (median)")
    parser.add_argument("--batch", type=int, default=32, help="images per call for ms/image")
    parser.add_argument("--out", type=Path, default=None, help="folder for the JSON and table")
    parser.add_argument("--nets", type=int, default=None, help="only the first N rows (tests)")
    args = parser.parse_args(argv)
    for name in ("runs", "batch", "nets"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be a positive integer. Received: {value}")
    from cnn_keras.backends.tensorflow import use_onednn_by_default

    use_onednn_by_default()  # an application: as `cnn-keras` does, before TensorFlow loads
    import keras

    from cnn_keras.runinfo import hardware

    hw = hardware()
    machine = (f"{hw['cpu']} (family/model {hw.get('cpu_family_model')}), {hw['cores']} cores, "
               f"widest SIMD {hw['cpu_simd']}; {hw['device']}; Keras {keras.__version__} on "
               f"{keras.backend.backend()}, float32")
    print(f"machine: {machine}", flush=True)
    rows = []
    for alpha, resolution in nets()[:args.nets]:
        rows.append(measure(alpha, resolution, args.runs, args.batch))
        print(f"  alpha {alpha:g}, {resolution} px: {rows[-1]['latency_ms']:.1f} ms a single "
              f"image, {rows[-1]['ms_per_image_in_batch']:.2f} ms an image in a batch of "
              f"{args.batch}", flush=True)
    print(table(rows))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "mobilenet_latency.json").write_text(json.dumps(
            {"machine": machine, "hardware": hw, "runs": args.runs, "rows": rows}, indent=1) + "\n")
        (args.out / "mobilenet_latency.md").write_text(f"Machine: {machine}\n\n{table(rows)}\n")
    return rows


if __name__ == "__main__":
    main()
