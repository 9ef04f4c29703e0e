"""Reading a recorded speedrun (a run folder, or its record under results/): the history, the
summary and a caption that says what was run on what."""

from __future__ import annotations

import json
from pathlib import Path

from cnn_keras.training.folder import read_history_csv


def load(run_dir) -> dict:
    """{"history": rows, "summary": the final numbers, "info": run.json, "caption": str}."""
    run_dir = Path(run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    return {"history": read_history_csv(run_dir / "history.csv"), "info": info,
            "summary": info.get("summary"), "caption": caption(info)}


def caption(info: dict, seeds: str | None = None, epochs: str | None = None,
            recipe_name: str | None = None) -> str:
    """Data, length, seed, precision and machine of a speedrun's run.json (`seeds`, `epochs`
    and `recipe_name` in place of its own, for a caption over several runs)."""
    config = info["config"]
    ds = config["dataset"]
    recipe = config["recipe"]
    seeds = f"seed {config['seed']}" if seeds is None else seeds
    epochs = f"{recipe['epochs']:g}" if epochs is None else epochs
    recipe_name = f"recipe {recipe['name']}" if recipe_name is None else recipe_name
    return (f"airbench94, {recipe_name}: {ds.get('name', 'CIFAR-10')} "
            f"({ds['num_train']:,} training / {ds['num_test']:,} test images), "
            f"{epochs} epochs of batch {recipe['batch_size']}, {seeds}, "
            f"{config['dtype_policy']}; {machine(info)}, Keras "
            f"{info.get('versions', {}).get('keras', '?')} on "
            f"{info.get('versions', {}).get('keras_backend', '?')}")


def machine(info: dict) -> str:
    """The CPU (cores, family/model, vector instructions) or the accelerators a run used."""
    hw = info.get("hardware", {})
    if hw.get("accelerators"):
        return ", ".join(hw["accelerators"])
    return (f"{hw.get('cpu', '?')} ({hw.get('cores', '?')} cores, family/model "
            f"{hw.get('cpu_family_model', '?')}, {hw.get('cpu_simd', '?')})")


def progress_figure(run_dirs, path=None, *, minutes: float = 30.0):
    """`plots.speedrun_figure` of the speedruns (run folders or their records) in `run_dirs`,
    each curve labelled with its folder, seed and final accuracy with TTA; the caption is the
    first run's with every run's seed (the runs are meant to share data, recipe and machine)."""
    from cnn_keras import plots

    records = {Path(d).name: load(d) for d in run_dirs}
    curves = {f"{name}: seed {r['info']['config']['seed']}, "
              f"{r['info']['config']['recipe']['epochs']:g} epochs, "
              f"{100 * r['summary']['tta_accuracy']:.2f} % with TTA": r["history"]
              for name, r in records.items()}
    first = next(iter(records.values()))["info"]
    seeds = sorted({r["info"]["config"]["seed"] for r in records.values()})
    epochs = sorted({r["info"]["config"]["recipe"]["epochs"] for r in records.values()})
    caption_ = caption(first, seeds="seed" + ("s " if len(seeds) > 1 else " ") + listed(seeds),
                       epochs=" or ".join(f"{e:g}" for e in epochs))
    return plots.speedrun_figure(curves, path, minutes=minutes, caption=caption_)


def listed(seeds) -> str:
    """Seeds as text, in order: "0, 1, 2"."""
    return ", ".join(str(s) for s in sorted(seeds))
