"""Images per second of the streamed ImageNet pipeline (`data.streaming.train_dataset`) on this
machine's cores, for each paper's augmentation at 224x224, side by side in one run.

    python benchmarks/streaming_throughput.py [--folder ROOT] [--images 600] [--batches 30]

Without --folder it writes ImageNet-like JPEGs first (500x375, quality 90: about ImageNet's
median size and file size), to a temporary folder. Each configuration runs `--batches` batches
of 64 after 3 warm-up batches and prints images/s, then how many such cores would feed a GPU at
`--gpu-rate` images/s (pass the rate your GPU trains at; nothing here measures a GPU). The last
line is JSON, with the CPU's model and vector instructions.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

# (label, augmentation, scale_range, colour): the recipes of training.imagenet_recipes
CONFIGS = (
    ("alexnet (crop of 256, flip, PCA colour)", "alexnet_crop", (256, 256), "pca"),
    ("resnet (shorter side 256-480, crop, flip, PCA colour)", "scale_jitter", (256, 480), "pca"),
    ("densenet (random-resized crop, flip, jitter + PCA)", "inception_crop", (256, 256),
     "jitter_pca"),
    ("efficientnet (random-resized crop, flip)", "inception_crop", (256, 256), "none"),
)


def write_folder(root: Path, images: int, seed: int = 0) -> Path:
    """`images` JPEGs of 500x375 (smooth gradients plus noise, so they compress like photos)
    in 4 class folders under root/train."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:375, 0:500]
    for i in range(images):
        base = np.stack([(xx * rng.uniform(0.2, 0.5) + yy * rng.uniform(0.2, 0.5)) % 256,
                         (xx * rng.uniform(0.1, 0.4)) % 256, (yy * rng.uniform(0.1, 0.4)) % 256],
                        axis=-1)
        image = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        path = root / "train" / f"class{i % 4}" / f"{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tf.io.encode_jpeg(image, quality=90).numpy())
    return root


def measure(files, augmentation, scale_range, colour, batches: int, batch_size: int = 64):
    from cnn_keras.data import streaming

    ds = streaming.train_dataset(files, batch_size=batch_size, seed=0, epochs=1000, size=224,
                                 augmentation=augmentation, scale_range=scale_range,
                                 colour=colour)
    it = iter(ds)
    for _ in range(3):  # warm-up: tracing, thread pools, the file cache
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch_size / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--folder", help="an image folder with train/<class>/* (default: generated)")
    p.add_argument("--images", type=int, default=600, help="images to generate (600)")
    p.add_argument("--batches", type=int, default=30, help="timed batches of 64 (30)")
    p.add_argument("--gpu-rate", type=float, default=None,
                   help="images/s one GPU trains at, to size the cores that would feed it")
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from cnn_keras import runinfo
    from cnn_keras.data import streaming

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.folder) if args.folder else write_folder(Path(tmp), args.images)
        files = streaming.list_folder(root, "train")
        hw = runinfo.hardware()
        cores = os.cpu_count()
        print(f"{len(files)} images in {root}; {cores} cores, {hw.get('cpu')}, "
              f"{runinfo.cpu_simd()}")
        rows = []
        for label, augmentation, scale_range, colour in CONFIGS:
            rate = measure(files, augmentation, scale_range, colour, args.batches)
            rows.append({"config": label, "images_per_s": round(rate, 1),
                         "per_core": round(rate / cores, 1)})
            need = (f"; {args.gpu_rate / (rate / cores):.0f} such cores feed "
                    f"{args.gpu_rate:g} images/s") if args.gpu_rate else ""
            print(f"{label:<56} {rate:8.1f} images/s ({rate / cores:.1f} per core){need}")
    print(json.dumps({"cores": cores, "cpu": hw.get("cpu"), "simd": runinfo.cpu_simd(),
                      "batch_size": 64, "size": 224, "rows": rows}))


if __name__ == "__main__":
    main()
