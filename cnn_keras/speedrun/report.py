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


def caption(info: dict) -> str:
    """Data, length, seed, precision and machine of a speedrun's run.json."""
    config, hw = info["config"], info.get("hardware", {})
    ds = config["dataset"]
    recipe = config["recipe"]
    machine = (f"{hw.get('cpu', '?')} ({hw.get('cores', '?')} cores, family/model "
               f"{hw.get('cpu_family_model', '?')}, {hw.get('cpu_simd', '?')})"
               if not hw.get("accelerators") else ", ".join(hw["accelerators"]))
    return (f"airbench94, recipe {recipe['name']}: {ds.get('name', 'CIFAR-10')} "
            f"({ds['num_train']:,} training / {ds['num_test']:,} test images), "
            f"{recipe['epochs']:g} epochs of batch {recipe['batch_size']}, seed "
            f"{config['seed']}, {config['dtype_policy']}; {machine}, Keras "
            f"{info.get('versions', {}).get('keras', '?')} on "
            f"{info.get('versions', {}).get('keras_backend', '?')}")
