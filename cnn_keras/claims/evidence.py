"""Reading the recorded runs under ``results/`` that claims rest on (Keras-free).

A *record* is a study run folder written by `experiments.runner.run` (its ``summary.csv`` and
``run.json``), and its repeats with other seeds in sibling folders named ``<record>-seed<N>``.
`load_record` gathers, per variant, the metric's value of every seed, with the set-up that a
reader needs to judge the number: data size, epochs, seeds and hardware.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from cnn_keras import runinfo
from cnn_keras.claims import verdict

# What a claim may compare (lower is better for each): summary.csv's columns, and the
# overfitting gap that AlexNet's dropout claim is about: the final test error minus the error
# on training images evaluated the same way (fit's training error has dropout active)
GAP = "generalisation_gap"
# the test error at the test scale Q of VGG's Table 3: the images' own size for a net trained
# there, the middle of its range (densely evaluated) for one trained with scale jittering
AT_SCALE = "final_test_error_q"
METRICS = ("final_train_error", "final_test_error", "final_train_error_clean",
           "epochs_to_threshold", GAP, AT_SCALE)
# The metrics made from the clean training error: they count only where it was measured on all
# the training images (summary.csv's clean_train_images). Records made before that column
# measured the first 10,000, which in the class-sorted JPEG copy are two classes.
CLEAN_METRICS = ("final_train_error_clean", GAP)


@dataclasses.dataclass
class Record:
    name: str
    folders: list[Path]
    values: dict  # metric -> variant -> [value per seed]
    seeds: list[int]
    setup: str
    params: dict  # variant -> trainable parameters
    macs: dict  # variant -> multiply-adds
    censored: set = dataclasses.field(default_factory=set)  # (metric, variant): a lower bound
    # (metric, variant, seed): a clean training error measured on part of the training images
    # only, left out of `values`
    partial: set = dataclasses.field(default_factory=set)
    seeds_of: dict = dataclasses.field(default_factory=dict)  # variant -> the seeds it ran with


def record_folders(results: Path, name: str) -> list[Path]:
    """`results/name` and its seed repeats `results/name-seed<N>`, those that finished."""
    candidates = [results / name, *sorted(results.glob(f"{name}-seed*"))]
    return [f for f in candidates if (f / "run.json").is_file() and (f / "summary.csv").is_file()]


def _number(text: str):
    if text in ("", "None"):
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def _rows(folder: Path) -> list[dict]:
    with open(folder / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


def _metric(row: dict, m: str):
    if m == AT_SCALE and m not in row:  # a summary from before scale jittering, whose nets
        m = "final_test_error"  # were all tested at the scale they were trained at
    if m != GAP:
        return _number(row.get(m, ""))
    test, train = (_number(row.get(c, "")) for c in ("final_test_error",
                                                       "final_train_error_clean"))
    return None if test is None or train is None else round(test - train, 2)


def load_record(results: Path, name: str) -> Record | None:
    """The record `name` under `results`, or None when no run of it has finished."""
    folders = record_folders(Path(results), name)
    if not folders:
        return None
    values = {m: {} for m in METRICS}
    params, macs, infos, censored, partial, seeds_of = {}, {}, [], set(), set(), {}
    for folder in folders:
        infos.append(json.loads((folder / "run.json").read_text()))
        counted = infos[-1].get("threshold_train_error") is not None  # else: no threshold
        num_train = infos[-1].get("dataset", {}).get("num_train")
        seed = infos[-1].get("seed", 0)
        for row in _rows(folder):
            key = row.get("variant") or row["model"]
            seeds_of.setdefault(key, set()).add(seed)
            clean_images = _number(row.get("clean_train_images", ""))
            whole = num_train is not None and clean_images == num_train
            for m in METRICS:
                v = _metric(row, m)
                if v is not None and m in CLEAN_METRICS and not whole:
                    partial.add((m, key, seed))
                    continue
                if v is None and m == "epochs_to_threshold" and counted and row.get("epochs"):
                    # never reached: it would take more than the run's epochs (a lower bound)
                    v = int(row["epochs"]) + 1
                    censored.add((m, key))
                if v is not None:
                    values[m].setdefault(key, []).append(v)
            params[key] = _number(row.get("trainable_params", ""))
            macs[key] = _number(row.get("macs", ""))
    seeds = sorted({i.get("seed", 0) for i in infos})
    return Record(name, folders, values, seeds, setup(infos, record_hardware(folders)), params,
                  macs, censored, partial, {k: sorted(v) for k, v in seeds_of.items()})


def setup(infos: list[dict], devices: str) -> str:
    """Data, epochs, seeds and hardware (`devices`, in words) of a record's runs, in one line."""
    first = infos[0]
    ds = first.get("dataset", {})
    epochs = sorted({r["epochs"] for i in infos for r in i.get("summary", [])})
    seeds = sorted({i.get("seed", 0) for i in infos})
    precision = first.get("dtype_policy", "float32")
    return (f"CIFAR-10 {ds.get('num_train', '?')}/{ds.get('num_test', '?')} images, "
            f"{'/'.join(map(str, epochs))} epochs, seed{'s' if len(seeds) > 1 else ''} "
            f"{', '.join(map(str, seeds))}, "
            f"{devices}" + ("" if precision == "float32" else f", {precision}"))


def device(info: dict) -> str:
    """The machine of a run.json in words: its `training_hardware` (a study's) or `hardware`."""
    return describe(info.get("training_hardware", info.get("hardware", {})))


def folder_devices(folder: Path) -> list[str]:
    """Every machine that trained a study run folder's variants, from each variant's own
    run.json and the sessions it was resumed in. The folder's run.json names only the machine
    of its last session, and a seed's variants may have run on different machines (one run
    with `--variants` per session); it is the answer only where no variant's run.json is kept."""
    found = [d for f in sorted(folder.glob("*/run.json")) for d in run_devices(f)]
    return list(dict.fromkeys(found)) or [device(json.loads((folder / "run.json").read_text()))]


def run_devices(run_json: Path) -> list[str]:
    """The machines, in words, that one training run's sessions ran on (its run.json)."""
    info = json.loads(run_json.read_text())
    return list(dict.fromkeys(map(describe, runinfo.machines(info) or [{}])))


def record_hardware(folders: list[Path]) -> str:
    """Every machine a record's seeds and variants ran on, in words ("2 cores AMD EPYC
    (avx512_bf16) + ...")."""
    return " + ".join(dict.fromkeys(d for f in folders for d in folder_devices(f)))


def describe(hw: dict) -> str:
    """One machine of a run.json's hardware, in words."""
    device = hw.get("device", "?")
    if "CPU" in device:
        device = f"{hw.get('cores', '?')} cores {hw.get('cpu', '?')}"
        if hw.get("cpu_simd"):
            device += f" ({hw['cpu_simd']})"
    return device


def training_time(results, name: str) -> dict | None:
    """The training behind the record `name`: the nets trained (a variant with one seed each)
    with their time spent in `fit` (summary.csv's train_seconds, summed over resumed sessions),
    split by the kind of machine (CPU or GPU) each seed folder ran on. None without a record."""
    folders = record_folders(Path(results), name)
    if not folders:
        return None
    nets, hours, untimed = 0, {"CPU": 0.0, "GPU": 0.0}, 0
    for folder in folders:
        for row in _rows(folder):
            nets += 1
            seconds = _number(row.get("train_seconds", ""))
            untimed += seconds is None
            hours[_kind(folder, row.get("variant") or row["model"])] += (seconds or 0) / 3600
    return {"record": name, "nets": nets, "hours": hours, "untimed": untimed,
            "hardware": record_hardware(folders)}


def _kind(folder: Path, variant: str) -> str:
    """"GPU" or "CPU": where a variant of a study run folder trained (its first machine)."""
    own = folder / variant / "run.json"
    info = json.loads((own if own.is_file() else folder / "run.json").read_text())
    return "GPU" if "GPU" in device(info) else "CPU"


def record_summary(results, name: str) -> list[dict]:
    """Per variant of the record `name`: its seeds, and each metric's mean ± seed spread as
    text (a never-reached threshold as "≥ epochs + 1"), for a notebook's table of a record."""
    rec = load_record(results, name)
    if rec is None:
        return []
    variants = list(dict.fromkeys(k for m in METRICS for k in rec.values[m]))
    rows = []
    for key in variants:
        row = {"variant": key, "params": rec.params.get(key), "macs": rec.macs.get(key)}
        for m in METRICS:
            vs = rec.values[m].get(key)
            if vs:
                row["seeds"] = len(vs)
                row[m] = _mean_spread(vs, (m, key) in rec.censored)
        rows.append(row)
    return rows


def _mean_spread(values: list, lower_bound: bool) -> str:
    s = verdict.spread(values)
    return (("≥ " if lower_bound else "") + f"{verdict.mean(values):.2f}"
            + ("" if s is None else f" ± {s:.2f}"))
