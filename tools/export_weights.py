"""Record a finished run's trained net under ``results/weights/`` (a few MB), for notebooks 05, 09.

Writes ``results/weights/<name>.npz`` (the weights of the run's model.keras in float16,
compressed, and the per-pixel mean) and ``<name>.json`` (builder, arguments and provenance read
from the run's run.json and history.csv; `cnn_keras.inspect_net.export_run`). With ``--check N``
it then measures the float16 copy against the float32 original on N CIFAR-10 test images (a
class-balanced subset, seed 0: the loader lists the test images class by class, so the first N
would be airplanes; CIFAR-10 found as `cnn_keras.data.load_cifar10` finds it) and adds both
accuracies to the sidecar.

    .venv/bin/python tools/export_weights.py runs/alexnet-reg-seed2/paper \\
        alexnet_cifar-half-paper-seed2 --record results/alexnet-cpu-seed2 --check 1000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def float16_check(run_dir: Path, name: str, results: Path, n: int) -> dict:
    """Accuracy (%) of the run's float32 model.keras and of the recorded float16 copy on `n`
    CIFAR-10 test images (class-balanced, seed 0)."""
    import numpy as np

    from cnn_keras import data, inspect_net
    from cnn_keras.saving import load_model

    test = data.load_cifar10(verbose=False).subset(None, seed=0, num_test=n)
    probs = {label: model.predict(test.x_test, batch_size=250, verbose=0)
             for label, model in (("float32", load_model(run_dir / "model.keras")),
                                  ("float16", inspect_net.load_recorded(name, results)))}
    pred = {label: p.argmax(1) for label, p in probs.items()}

    def percent(hits) -> float:
        return round(100 * float(np.mean(hits)), 2)

    return {"images": f"{len(test.y_test)} CIFAR-10 test images (class-balanced subset, seed 0)",
            "float32_accuracy": percent(pred["float32"] == test.y_test),
            "float16_accuracy": percent(pred["float16"] == test.y_test),
            "same_prediction": percent(pred["float32"] == pred["float16"]),
            "max_probability_difference": round(float(np.abs(probs["float32"]
                                                             - probs["float16"]).max()), 5)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a finished run folder (run.json, "
                        "history.csv, model.keras)")
    parser.add_argument("name", help="the recorded net's name: results/weights/<name>.npz")
    parser.add_argument("--record", help="the results/ record the run belongs to, e.g. "
                        "results/alexnet-cpu")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--check", type=int, default=0, metavar="N",
                        help="compare float16 with float32 on the first N CIFAR-10 test images")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from cnn_keras.backends.tensorflow import use_onednn_by_default

    use_onednn_by_default()  # the CPU kernels the runs trained with
    from cnn_keras import inspect_net

    npz, sidecar = inspect_net.export_run(args.run_dir, args.results, args.name,
                                          record=args.record)
    if args.check:
        info = json.loads(sidecar.read_text())
        info["float16_check"] = float16_check(args.run_dir, args.name, args.results, args.check)
        sidecar.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    print(f"{npz} ({npz.stat().st_size / 1e6:.2f} MB)\n{sidecar}")
    print(sidecar.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
