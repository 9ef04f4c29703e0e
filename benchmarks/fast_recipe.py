"""The fast recipe's record: train ResNet-20 on all of CIFAR-10 with the fast recipe, then write
OUT/summary.json (wall-clock time, test accuracy after each epoch and at the time budget, the
final model's accuracy with horizontal-flip test-time augmentation) and OUT/curves.png.

    python benchmarks/fast_recipe.py OUT [--budget-minutes 30] [--epochs 32 | --fit-budget]
                                         [--data-dir DIR] [--dtype-policy mixed_bfloat16]
                                         [--seed 0] [--low-res 24]

`--fit-budget` sizes the one-cycle schedule to this machine: it measures ResNet-20's training
speed first (`bench.run`, as `cnn-keras bench resnet20 --what train`; about a minute) and
trains as many epochs as fit in the budget (see `epochs_for_budget`). `--low-res 24` trains the
first 2/3 of the epochs on 24x24 images (progressive resizing, `training.with_low_res`), which
fits more epochs in the same time. The records per machine: docs/training-fast.md.

Interrupted, the same command resumes the run (its run.json then lists the resumption, and the
wall-clock time counts the sessions' training time only). Run alone on the machine: the number
it measures is time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path

from cnn_keras.training.recipes import low_res_epochs


def _seconds_between(a: str, b: str) -> float:
    return (datetime.datetime.fromisoformat(b) - datetime.datetime.fromisoformat(a)).total_seconds()


# Margins of the budget fit, measured on the recorded runs (docs/training-fast.md): an epoch of
# `train` takes up to 1.2x what the bench's speed predicts for its training images (the test
# pass, the input pipeline, the checkpoint), and the set-up before the first epoch up to a minute.
EPOCH_OVERHEAD = 1.2
SETUP_SECONDS = 60.0


# A low-resolution epoch costs less than a full one, but not in proportion to its pixels alone:
# its test pass stays at full size and each step has costs that do not shrink with the image.
# A fixed 12 % share plus 88 % in proportion to the pixels fits the measured ratios at 24x24
# and 16x16 (docs/training-fast.md).
LOW_RES_FIXED_SHARE = 0.12


def low_res_cost(low_res: int, image_size: int = 32) -> float:
    """The time of an epoch at `low_res` x `low_res` as a fraction of one at full size."""
    return min(1.0, LOW_RES_FIXED_SHARE + (1 - LOW_RES_FIXED_SHARE) * (low_res / image_size) ** 2)


def epochs_for_budget(images_per_sec: float, budget_minutes: float,
                      train_images: int = 50_000, low_res: int = 0, image_size: int = 32) -> int:
    """The most epochs of the fast recipe that end within the budget at this training speed
    (images/s of the bench's training steps at full size), at least 1. With `low_res` (a size),
    the first 2/3 of the epochs (`training.low_res_epochs`) cost `low_res_cost` of a full one
    each, and there are at least 2.
    """
    epoch_seconds = EPOCH_OVERHEAD * train_images / images_per_sec
    budget = 60 * budget_minutes - SETUP_SECONDS
    if not low_res:
        return max(1, int(budget // epoch_seconds))
    low_cost = low_res_cost(low_res, image_size)

    def seconds(epochs):
        low = low_res_epochs(epochs)
        return epoch_seconds * (epochs - low + low * low_cost)

    epochs = 2
    while seconds(epochs + 1) <= budget:
        epochs += 1
    return epochs


def measure_training_speed(dtype_policy: str = "float32") -> float:
    """ResNet-20's training images/s on this machine (`cnn-keras bench`'s measurement)."""
    from cnn_keras import bench

    return bench.run("resnet20", "train", steps=40, dtype_policy=dtype_policy)["images_per_sec"]


def report(run_dir: Path, data, budget_minutes: float = 30.0) -> dict:
    """Summarise the finished run in `run_dir` (trained on `data`, a `data.ImageData`) into
    run_dir/../summary.json and run_dir/../curves.png; returns the summary."""
    from cnn_keras import data as data_lib
    from cnn_keras import evaluation, training

    info = json.loads((run_dir / "run.json").read_text())
    if info.get("status") != "finished":
        raise SystemExit(f"{run_dir} holds no finished run")
    history = training.read_history_csv(run_dir / "history.csv")
    # epoch end times from the epochs' own seconds, plus the set-up before the first epoch
    wall = (_seconds_between(info["started"], info["finished"])
            if not info.get("resumed") else None)
    setup = max(0.0, wall - sum(r["seconds"] for r in history)) if wall else 0.0
    elapsed, t = [], setup
    for r in history:
        t += r["seconds"]
        elapsed.append(round(t, 1))
    budget = 60 * budget_minutes
    within = [r for r, e in zip(history, elapsed) if e <= budget]

    x, y = data_lib.eval_arrays(data.x_test, data.y_test, mean=data_lib.per_pixel_mean(
        data.x_train))
    model = training.load_checkpoint_model(run_dir)
    plain = evaluation.accuracy(model.predict(x, batch_size=500, verbose=0), y)
    flip = evaluation.accuracy(evaluation.predict_tta(model, x, batch_size=500), y)
    summary = {
        "model": info["config"]["model"], "seed": info["config"]["seed"],
        "recipe": info["config"]["recipe"],
        "dataset": info["config"]["dataset"], "hardware": info["hardware"],
        "versions": info["versions"], "git_commit": info["git_commit"],
        "wall_seconds": wall, "setup_seconds": round(setup, 1),
        "epoch_end_seconds": elapsed,
        "test_accuracy_per_epoch": [r["val_accuracy"] for r in history],
        "budget_minutes": budget_minutes,
        "epochs_within_budget": len(within),
        "test_accuracy_within_budget": within[-1]["val_accuracy"] if within else None,
        "final_test_accuracy": float(plain),
        "final_test_accuracy_flip_tta": float(flip),
        "images_per_sec_per_epoch": [  # training images over the epoch's time (incl. its test)
            round(info["config"]["recipe"]["steps_per_epoch"]
                  * info["config"]["recipe"]["batch_size"] / r["seconds"]) for r in history],
    }
    fitted = run_dir.parent / "fitted.json"  # written by --fit-budget: the speed measured
    if fitted.exists():
        summary["fitted_to_budget"] = json.loads(fitted.read_text())
    (run_dir.parent / "summary.json").write_text(json.dumps(summary, indent=1))
    plot_record(run_dir.parent, run_dir)
    print(json.dumps({k: summary[k] for k in ("wall_seconds", "epochs_within_budget",
                                              "test_accuracy_within_budget",
                                              "final_test_accuracy",
                                              "final_test_accuracy_flip_tta")}))
    return summary


def plot_record(record: Path, run_dir: Path | None = None) -> Path:
    """Draw RECORD/curves.png from RECORD/summary.json and the run's history.csv (in
    `run_dir`, RECORD/resnet20 by default)."""
    from cnn_keras import plots, training

    summary = json.loads((record / "summary.json").read_text())
    run_dir = run_dir or record / "resnet20"
    history = training.read_history_csv(run_dir / "history.csv")
    config = json.loads((run_dir / "run.json").read_text())["config"]
    precision = config.get("dtype_policy", "float32")
    hw, ds = summary["hardware"], summary["dataset"]
    simd = f", {hw['cpu_simd']}" if hw.get("cpu_simd") else ""
    minutes = (summary["wall_seconds"] or summary["epoch_end_seconds"][-1]) / 60
    low = summary["recipe"].get("low_res_epochs", 0)
    size = summary["recipe"].get("low_res_size")
    low = f" (the first {low} on {size}x{size} images; tested at full size)" if low else ""
    plots.training_curves(
        {"ResNet-20, fast recipe": history}, record / "curves.png",
        caption=f"CIFAR-10 ({ds['num_train']:,} / {ds['num_test']:,} images, "
        f"{ds['source'].split(' in ')[0]}), {len(history)} epochs{low}, seed {config['seed']}, "
        f"{precision}, {minutes:.1f} min on "
        f"{hw['cores']} CPU cores ({hw['cpu']}{simd}); final test accuracy "
        f"{100 * summary['final_test_accuracy']:.2f}% "
        f"({100 * summary['final_test_accuracy_flip_tta']:.2f}% with flip TTA)")
    return record / "curves.png"


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from cnn_keras.backends.tensorflow import use_onednn_by_default

    use_onednn_by_default()  # an application: as `cnn-keras` does, before TensorFlow loads
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--budget-minutes", type=float, default=30.0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--fit-budget", action="store_true",
                   help="measure this machine's speed and train as many epochs as fit in the "
                   "budget (instead of --epochs)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--dtype-policy", default="float32",
                   choices=("float32", "mixed_bfloat16", "mixed_float16"))
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--low-res", type=int, default=0, metavar="SIZE",
                   help="progressive resizing: the first 2/3 of the epochs at SIZE x SIZE "
                   "(e.g. 24)")
    p.add_argument("--replot", action="store_true",
                   help="only redraw OUT/curves.png from a recorded OUT/summary.json")
    args = p.parse_args()
    if args.replot:
        print(plot_record(Path(args.out)))
        return
    if args.fit_budget and args.epochs:
        p.error("give --epochs or --fit-budget, not both")
    run_dir = Path(args.out) / "resnet20"
    if args.fit_budget:
        started = run_dir / "run.json"
        if started.exists():  # a resumed run keeps the schedule it was started with
            recipe = json.loads(started.read_text())["config"]["recipe"]
            args.epochs, args.low_res = recipe["epochs"], recipe.get("low_res_size", 0)
        else:
            speed = measure_training_speed(args.dtype_policy)
            args.epochs = epochs_for_budget(speed, args.budget_minutes, low_res=args.low_res)
            Path(args.out).mkdir(parents=True, exist_ok=True)
            (Path(args.out) / "fitted.json").write_text(json.dumps(
                {"bench_images_per_sec": speed, "epochs": args.epochs,
                 "low_res": args.low_res}))
        print(f"fitted to {args.budget_minutes:g} minutes: {args.epochs} epochs", flush=True)
    from cnn_keras import data as data_lib
    from cnn_keras import training

    recipe = training.fast_recipe(args.epochs or training.FAST_EPOCHS)
    if args.low_res:
        recipe = training.with_low_res(recipe, args.low_res)
    data = data_lib.load_cifar10(args.data_dir)
    training.train("resnet20", data, run_dir, recipe=recipe, seed=args.seed,
                   engine=training.Engine(dtype_policy=args.dtype_policy))
    report(run_dir, data, args.budget_minutes)


if __name__ == "__main__":
    main()
