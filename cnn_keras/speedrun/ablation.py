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
from cnn_keras.claims.verdict import spread
from cnn_keras.speedrun import report
from cnn_keras.speedrun.recipe import TRICKS, SpeedrunRecipe, ablated

ABLATED = tuple(trick for trick in TRICKS if trick != "tta")
COLUMNS = ("variant", "seeds", "accuracy", "spread", "change", "epochs", "dtype_policy")
# The reference repository's own ablation runs the other way (each trick added to a baseline,
# epochs to 94 % on an A100); the epochs each trick saved there, drawn beside our bars.
REFERENCE_EPOCHS_SAVED = {"no whitening": "saved 14 ep.", "no dirac": "3 ep.",
                          "no bias scaler": "4.5 ep.", "no lookahead": "1.5 ep.",
                          "no tta": "1.2 ep.", "no alternating flip": "0.9 ep."}


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
    figure(out_dir, Path(out_dir) / "ablation.png")
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
    mean, sd = statistics.mean(values), spread(values)
    return {"variant": name, "seeds": len(values), "accuracy": round(mean, 2),
            "spread": None if sd is None else round(sd, 2),
            "change": None if full is None else round(mean - full, 2),
            "epochs": config.get("recipe", {}).get("epochs"),
            "dtype_policy": config.get("dtype_policy")}


def write_csv(rows, path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def caption(root) -> str:
    """What the runs under `root` are: data, epochs, precision, the seeds of each variant and
    every machine they ran on (a variant is trained on one machine type where it can be)."""
    infos = finished_runs(root)
    if not infos:
        return ""
    seeds: dict[str, list[int]] = {}
    for info in infos:
        seeds.setdefault(_variant(info["config"]["recipe"]["name"]), []).append(
            info["config"]["seed"])
    full = seeds.pop("full", [])
    text = f"seeds {report.listed(full)}" + (" (full recipe)" if seeds else "")
    if seeds:
        common = set.intersection(*(set(values) for values in seeds.values()))
        text += f", {report.listed(common)} (each removal)" + "".join(
            f", {name} also {report.listed(set(values) - common)}"
            for name, values in seeds.items() if set(values) - common)
    first = report.caption(infos[0], seeds=text, recipe_name="speedrun recipe")
    others = sorted({report.machine(i) for i in infos} - {report.machine(infos[0])})
    return first + "".join(f"; also {m}" for m in others)


def figure(root, path=None):
    """The ablation figure of the runs under `root` (`plots.speedrun_ablation_figure`), with the
    reference's epochs saved and a caption; saved to `path` when given."""
    from cnn_keras import plots

    return plots.speedrun_ablation_figure(table(root), path, reference=REFERENCE_EPOCHS_SAVED,
                                          caption=caption(root))


def lines(rows) -> list[str]:
    """The table as text, one line a variant."""
    out = []
    for r in rows:
        sd = f" ± {r['spread']:.2f}" if r["spread"] is not None else "       "
        change = "" if r["change"] is None else f"  change {r['change']:+.2f} points"
        out.append(f"{r['variant']:20s} {r['accuracy']:6.2f} %{sd} ({r['seeds']} seed"
                   f"{'s' if r['seeds'] > 1 else ''}){change}")
    return out
