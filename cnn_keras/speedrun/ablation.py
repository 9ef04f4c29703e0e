"""The speedrun's ablation: the full recipe and each trick removed in turn, each one speedrun run
folder (`full-seed0`, `no-whitening-seed0`, ...) under one root, and the table comparing them.

Removing test-time augmentation needs no run of its own: it changes only the evaluation, so the
full runs' accuracy without it is that row.
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

from cnn_keras.checks import fail
from cnn_keras.speedrun.recipe import TRICKS, SpeedrunRecipe, ablated

ABLATED = tuple(trick for trick in TRICKS if trick != "tta")
COLUMNS = ("variant", "seeds", "accuracy", "spread", "change", "epochs", "dtype_policy")


def folder_name(trick: str | None, seed: int) -> str:
    """The run folder of the full recipe (`trick` None) or of the recipe without `trick`."""
    return f"{'full' if trick is None else 'no-' + trick}-seed{seed}"


def run(data, out_dir, *, recipe: SpeedrunRecipe | None = None, seed: int = 0,
        tricks=ABLATED, dtype_policy: str = "float32", verbose="auto") -> list[dict]:
    """Train the full recipe and the recipe without each of `tricks` with `seed`, each in its
    folder under `out_dir` (finished ones are kept, an interrupted one resumes), then write
    `out_dir`/ablation.csv and return `table(out_dir)`."""
    from cnn_keras.speedrun.run import train

    recipe = SpeedrunRecipe() if recipe is None else recipe
    for trick in (None, *tricks):
        variant = recipe if trick is None else ablated(recipe, trick)
        if verbose:
            print(f"--- {folder_name(trick, seed)} ---", flush=True)
        train(data, Path(out_dir) / folder_name(trick, seed), recipe=variant, seed=seed,
              dtype_policy=dtype_policy, verbose=verbose)
    rows = table(out_dir)
    write_csv(rows, Path(out_dir) / "ablation.csv")
    return rows


def finished_runs(root) -> list[dict]:
    """run.json of every finished speedrun directly under `root`."""
    root = Path(root)
    if not root.is_dir():
        fail("`root` must be a folder of speedrun runs (e.g. results/speedrun-ablation-cpu).",
             root=str(root))
    infos = []
    for path in sorted(root.glob("*/run.json")):
        info = json.loads(path.read_text())
        if info.get("status") == "finished" and info.get("summary"):
            infos.append({**info, "folder": path.parent.name})
    return infos


def table(root) -> list[dict]:
    """One row per variant of the finished runs under `root`, the full recipe first: its seeds,
    the test accuracy (%) as the recipe evaluates it (with its test-time augmentation; the
    "no tta" row is the full runs without it) averaged over seeds, the seed-to-seed spread
    (sample standard deviation; None for one seed), the change from the full recipe (points),
    epochs and precision. The runs must share epochs, precision and data."""
    infos = finished_runs(root)
    _check_comparable(infos, root)
    groups: dict[str, list[float]] = {}
    for info in infos:
        name = _variant(info["config"]["recipe"]["name"])
        summary = info["summary"]
        groups.setdefault(name, []).append(100 * summary["tta_accuracy"])
        if name == "full" and summary["tta_level"]:
            groups.setdefault("no tta", []).append(100 * summary["accuracy"])
    order = ["full", *(f"no {t.replace('_', ' ')}" for t in TRICKS)]
    full = statistics.mean(groups["full"]) if "full" in groups else None
    config = infos[0]["config"] if infos else {}
    return [_row(name, groups[name], full, config) for name in order if name in groups]


def _variant(recipe_name: str) -> str:
    trick = recipe_name.partition("-no-")[2]
    return f"no {trick.replace('_', ' ')}" if trick else "full"


def _check_comparable(infos, root) -> None:
    settings = {(i["config"]["recipe"]["epochs"], i["config"]["dtype_policy"],
                 i["config"]["dataset"]["num_train"]) for i in infos}
    if len(settings) > 1:
        fail(f"the runs under {root} differ in epochs, precision or training images, so they "
             f"cannot be compared in one table (epochs, precision, images).",
             settings=sorted(settings))


def _row(name, values, full, config) -> dict:
    mean = statistics.mean(values)
    return {"variant": name, "seeds": len(values), "accuracy": round(mean, 2),
            "spread": round(statistics.stdev(values), 2) if len(values) > 1 else None,
            "change": None if full is None else round(mean - full, 2),
            "epochs": config.get("recipe", {}).get("epochs"),
            "dtype_policy": config.get("dtype_policy")}


def write_csv(rows, path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
