"""The degradation experiment of He et al. 2015 (Fig. 6): plain-20/56 vs ResNet-20/56 on CIFAR-10.

Deeper *plain* nets have higher **training** error than shallower ones — not overfitting, an
optimisation difficulty — while the same nets with identity shortcuts do not degrade.

Modes:
* ``quick``: a smoke run for CI (seconds per net): a few hundred images, 2 epochs.
* ``demo``: about 10 minutes on 2 CPU cores: a balanced 10k-image subset of the training set,
  a 2k-image test subset, the paper's recipe scaled to 6 epochs (lr /10 at 50% and 75%) with a
  one-epoch linear warm-up. Enough to see plain-56 train worse than plain-20 (the paper's curves
  separate from the first epoch). Without the warm-up, lr 0.1 blows up the 56-layer ResNet in
  its first iterations and a run this short never recovers (measured: ResNet-56 82% training
  error after 6 epochs vs ResNet-20's 43%) — the paper met the same at 110 layers and warmed up
  at 0.01 for ~400 iterations.
* ``full``: the paper's recipe (64k iterations of batch 128 on all 50k images, lr 0.1 /10 at 32k
  and 48k, weight decay 1e-4, momentum 0.9), for a GPU.

Every net is trained by `cnn_keras.training.train`, so an interrupted experiment resumes where it
stopped when run again with the same arguments.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from cnn_keras import data as data_lib
from cnn_keras import plots, runinfo, training

MODELS = ("plain20", "plain56", "resnet20", "resnet56")
MODES = {
    "quick": {"num_train": 512, "num_test": 256, "epochs": 2, "batch_size": 64,
              "warmup_epochs": 1},
    "demo": {"num_train": 10_000, "num_test": 2_000, "epochs": 6, "batch_size": 128,
             "warmup_epochs": 1},
    "full": {"num_train": None, "num_test": None, "epochs": None, "batch_size": 128,
             "warmup_epochs": 0},
}
SUMMARY_FIELDS = ("model", "residual", "depth", "trainable_params", "epochs",
                  "final_train_error", "final_test_error", "best_test_error", "train_seconds")


def mode_settings(mode: str) -> dict:
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {list(MODES)}. Received: mode={mode!r}")
    return dict(MODES[mode])


def load_data(mode: str, data_dir=None, seed: int = 0, verbose: bool = True):
    """CIFAR-10 (subset for quick/demo). In quick mode only, where no CIFAR-10 copy can be found,
    a synthetic stand-in is used (and said so), so the smoke run works on any clone."""
    s = mode_settings(mode)
    return data_lib.cifar10_subset(s["num_train"], s["num_test"], data_dir=data_dir, seed=seed,
                                   verbose=verbose, synthetic_fallback=mode == "quick")


def recipe_for(mode: str, model: str, epochs: int | None = None,
               warmup_epochs: float | None = None) -> training.Recipe:
    """The mode's recipe; `epochs` scales the paper's schedule to that length (lr /10 at 50% and
    75%) and `warmup_epochs` replaces the mode's linear warm-up."""
    s = mode_settings(mode)
    if mode == "full" and epochs is None and not warmup_epochs:
        depth = int("".join(c for c in model if c.isdigit()))
        return training.paper_recipe(depth)
    if epochs is None and s["epochs"] is None:
        raise ValueError("`warmup_epochs` in mode 'full' needs `epochs` (the paper's recipe has "
                         f"its own warm-up rule). Received: warmup_epochs={warmup_epochs!r}")
    warm = s["warmup_epochs"] if warmup_epochs is None else warmup_epochs
    return training.scaled_recipe(epochs or s["epochs"], batch_size=s["batch_size"],
                                  warmup_epochs=warm)


def run(
    mode: str = "demo",
    out_dir="runs/degradation",
    *,
    data_dir=None,
    seed: int = 0,
    models=MODELS,
    epochs: int | None = None,
    warmup_epochs: float | None = None,
    dtype_policy: str = "float32",
    pipeline: str = "auto",
    verbose="auto",
    data=None,
) -> list[dict]:
    """Train `models` and write out_dir/<model>/history.csv, summary.csv, degradation.png and
    run.json. Returns the summary rows. Resumes an interrupted run.

    Nets already finished in `out_dir` are not trained again, so the four nets can be trained by
    four processes at once (``models=("plain20",)`` each; on a GPU) and a last call with all
    four draws the figure and summary. `pipeline` is `training.train`'s ("layer": augment on
    the device)."""
    mode_settings(mode)
    training.check_pipeline(pipeline)
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"`models` must be a non-empty selection of {list(MODELS)}. "
                         f"Received: models={list(models)}")
    out_dir = Path(out_dir)
    started = time.time()
    meta = runinfo.run_metadata()
    if data is None:
        data = load_data(mode, data_dir, seed=seed, verbose=bool(verbose))
    histories, rows = {}, []
    for i, name in enumerate(models, 1):
        recipe = recipe_for(mode, name, epochs, warmup_epochs)
        if verbose:
            print(f"[{i}/{len(models)}] {name}: {len(data.x_train)} training images, "
                  f"recipe {recipe.name}", flush=True)
        history = training.train(name, data, out_dir / name, recipe=recipe, seed=seed,
                                 verbose=verbose, meta={"experiment": f"degradation/{mode}"},
                                 dtype_policy=dtype_policy, pipeline=pipeline)
        histories[name] = history
        info = json.loads((out_dir / name / "run.json").read_text())
        rows.append(summary_row(name, history, info))
    write_summary(out_dir / "summary.csv", rows)
    hw = meta["hardware"]
    n_epochs = rows[0]["epochs"] if rows else 0
    info0 = json.loads((out_dir / models[0] / "run.json").read_text())
    hw = info0.get("hardware", hw)  # where the nets were trained, not where the figure is drawn
    precision = "" if dtype_policy == "float32" else f", {dtype_policy}"
    caption = (f"CIFAR-10 ({data.describe()['num_train']} train / {data.describe()['num_test']} "
               f"test images), {n_epochs} epochs, mode={mode}, seed={seed}{precision}; "
               f"{hw['device']}, {hw['cpu']}")
    fig = plots.degradation_figure(histories, out_dir / "degradation.png", caption=caption)
    plots.plt.close(fig)
    meta.update({
        "experiment": "degradation",
        "mode": mode,
        "settings": mode_settings(mode) | ({"epochs": epochs} if epochs else {})
        | ({"warmup_epochs": warmup_epochs} if warmup_epochs is not None else {}),
        "dtype_policy": dtype_policy,
        "training_hardware": hw,
        "seed": seed,
        "dataset": data.describe(),
        "models": list(models),
        "wall_seconds_this_session": round(time.time() - started, 1),
        "finished": runinfo.now(),
        "summary": rows,
        "degradation_shown": degradation_shown(rows),
    })
    (out_dir / "run.json").write_text(json.dumps(meta, indent=1))
    if verbose:
        print_summary(rows)
        print(f"Figure: {out_dir / 'degradation.png'}")
    return rows


def paper_comparison(rows: list[dict]) -> list[dict]:
    """Summary rows next to the paper's Table 6 test error (ResNets only; the paper gives the
    plain nets as curves in Fig. 6, not numbers)."""
    from cnn_keras.models.resnet import PAPER_CIFAR10_ERRORS

    out = []
    for r in rows:
        paper = PAPER_CIFAR10_ERRORS.get(r["depth"], (None, None))[1] if r["residual"] else None
        out.append({"model": r["model"], "epochs": r["epochs"],
                    "train error %": r["final_train_error"], "test error %": r["final_test_error"],
                    "paper test error %": "-" if paper is None else paper,
                    "seconds": r["train_seconds"]})
    return out


def summary_row(name: str, history: list[dict], info: dict) -> dict:
    last = history[-1]
    return {
        "model": name,
        "residual": not name.startswith("plain"),
        "depth": int("".join(c for c in name if c.isdigit())),
        "trainable_params": info.get("params", {}).get("trainable"),
        "epochs": len(history),
        "final_train_error": round(100 * (1 - last["accuracy"]), 2),
        "final_test_error": round(100 * (1 - last["val_accuracy"]), 2),
        "best_test_error": round(100 * (1 - max(r["val_accuracy"] for r in history)), 2),
        "train_seconds": round(sum(r["seconds"] for r in history), 1),
    }


def degradation_shown(rows: list[dict]) -> bool | None:
    """True when plain-56's final training error is above plain-20's (the paper's Fig. 6 left)."""
    by = {r["model"]: r for r in rows}
    if "plain20" not in by or "plain56" not in by:
        return None
    return by["plain56"]["final_train_error"] > by["plain20"]["final_train_error"]


def write_summary(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS)
        w.writeheader()
        w.writerows(rows)


def print_summary(rows):
    print(f"{'model':<10}{'params':>10}{'epochs':>7}{'train err %':>13}{'test err %':>12}"
          f"{'seconds':>9}")
    for r in rows:
        print(f"{r['model']:<10}{r['trainable_params']:>10,}{r['epochs']:>7}"
              f"{r['final_train_error']:>13.2f}{r['final_test_error']:>12.2f}"
              f"{r['train_seconds']:>9.0f}")
    shown = degradation_shown(rows)
    if shown is not None:
        print("Degradation (plain-56 trains worse than plain-20): "
              + ("shown" if shown else "NOT shown in this run"))
