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


def caption(info: dict, seeds: str | None = None) -> str:
    """Data, length, seed, precision and machine of a speedrun's run.json (`seeds` in place of
    its one seed, for a caption over several runs)."""
    config = info["config"]
    ds = config["dataset"]
    recipe = config["recipe"]
    seeds = f"seed {config['seed']}" if seeds is None else seeds
    return (f"airbench94, recipe {recipe['name']}: {ds.get('name', 'CIFAR-10')} "
            f"({ds['num_train']:,} training / {ds['num_test']:,} test images), "
            f"{recipe['epochs']:g} epochs of batch {recipe['batch_size']}, {seeds}, "
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
