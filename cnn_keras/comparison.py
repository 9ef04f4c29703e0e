"""Every architecture of the course side by side (notebook 08): what counting tells (parameters,
multiply-adds, receptive field), what a clock tells (inference latency on this machine) and what
the recorded CIFAR-10 runs under ``results/`` tell (test accuracy over seeds).

    from cnn_keras import comparison
    comparison.static_table()                       # the ImageNet nets, counted
    comparison.latency_table(["resnet50"], batch_sizes=(1, 32))
    comparison.recorded_accuracy("results")         # every full-data record, mean over seeds

Keras is imported inside the functions that build or run a net: reading the records needs none.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from pathlib import Path
from typing import NamedTuple

from cnn_keras.checks import check_int, fail


class Architecture(NamedTuple):
    name: str  # the registry name, at its default (the paper's) input size
    notebook: str  # the course notebook that teaches it; names the paper (claims.PAPERS)


# One net per paper at its headline size: the ImageNet builders with 1000 classes.
ARCHITECTURES = (
    Architecture("alexnet", "01"),  # 227x227 input, conv2/4/5 in two groups, LRN
    Architecture("vgg16", "02"),  # configuration D
    Architecture("googlenet", "03"),  # without the auxiliary heads (dropped at inference)
    Architecture("resnet50", "04"),
    Architecture("densenet121", "05"),
    Architecture("mobilenet", "06"),  # alpha = 1.0, 224x224
    Architecture("efficientnet_b0", "07"),
)
NAMES = tuple(a.name for a in ARCHITECTURES)

FULL_TRAIN = 50_000  # CIFAR-10's training images: only records trained on all of them count
_SEED_SUFFIX = re.compile(r"-seed\d+.*$")  # `<record>-seed1`, `<record>-seed1-resnet56`


def _build(name: str):
    """The registered net `name`, its variables created at once (`keras.StatelessScope`: same
    weights, faster to build than variable by variable)."""
    import keras

    from cnn_keras.registry import build

    with keras.StatelessScope():
        return build(name)


def _check_names(names) -> list[str]:
    from cnn_keras.registry import get_builder

    if isinstance(names, str) or not names:
        fail("`names` must be a non-empty list of registered model names, e.g. "
             f"{list(NAMES[:2])}.", names=names)
    for name in names:
        get_builder(name)  # a clear error, with close matches, for an unknown name
    return list(names)


def _paper(name: str) -> str:
    """The paper of a net in `ARCHITECTURES` ("" for any other net)."""
    from cnn_keras.claims.catalog import PAPERS

    notebook = next((a.notebook for a in ARCHITECTURES if a.name == name), None)
    return PAPERS.get(notebook, "")


def final_feature_map(model) -> str:
    """The name of the layer whose output is the net's last feature map larger than 1x1: what
    the global pooling or the classifier reads. Its receptive field is the net's (a 1x1 map
    after global pooling would count the whole input)."""
    last = None
    for layer in model.layers:
        out = layer.output
        if hasattr(out, "shape") and len(out.shape) == 4 and out.shape[1] * out.shape[2] > 1:
            last = layer.name
    if last is None:
        fail(f"`model` must have a feature map larger than 1x1 ({model.name} has none).",
             model=model.name)
    return last


def static_row(model, name: str | None = None) -> dict:
    """Counting, for one built net: input size, parameters, multiply-adds (Conv2D,
    DepthwiseConv2D and Dense, for one image) and the receptive field of its last feature map
    (in input pixels; the theoretical field, which may exceed the input)."""
    from cnn_keras import analysis

    params = analysis.count_params(model)
    h, w = model.inputs[0].shape[1:3]
    return {"model": name or model.name, "paper": _paper(name or model.name),
            "input": f"{h}x{w}", "params": params["total"], "trainable": params["trainable"],
            "macs": analysis.count_macs(model),
            "receptive_field": analysis.receptive_field(model, final_feature_map(model))}


def static_table(names=NAMES) -> list[dict]:
    """`static_row` of each registered net in `names` (default: one per paper, `NAMES`), each
    built at its default input size. Deterministic: counting only, no weights read."""
    import keras

    rows = []
    for name in _check_names(names):
        rows.append(static_row(_build(name), name))
        keras.backend.clear_session(free_memory=False)  # one big net at a time in memory
    return rows


# --- latency ------------------------------------------------------------------------------------


def machine() -> str:
    """This machine as the latencies need it said: CPU (cores available to this process, widest
    SIMD) or accelerator, Keras backend and version, and the 1-minute load average (a load above
    the core count means other processes shared the CPU and the times are inflated)."""
    import keras

    from cnn_keras.runinfo import hardware

    hw = hardware()
    device = hw["device"]
    if not hw["accelerators"]:
        device = f"{hw['cores']} cores {hw['cpu']}" + (f" ({hw['cpu_simd']})"
                                                      if hw.get("cpu_simd") else "")
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{device}; Keras {keras.__version__} on {keras.backend.backend()}, "
            f"{keras.config.dtype_policy().name}{load}")


def latency(model, batch_size: int = 1, *, repeats: int = 10, warmup: int = 2,
            seed: int = 0) -> dict:
    """Milliseconds per batch of `model.predict_on_batch` on random inputs of `batch_size`
    images, measured here, in this process, one call at a time.

    `predict_on_batch` runs Keras' traced predict function (a `tf.function` on TensorFlow, XLA
    off on a CPU-only machine as Keras' "auto" decides; `jax.jit` on JAX) and returns numpy,
    so each timed call includes waiting for the result. The first call traces the function:
    `warmup` untimed calls come first. Returns the median of `repeats` timed calls, their
    min and max, the median per image and images per second.
    """
    import numpy as np

    batch_size = check_int("batch_size", batch_size)
    repeats = check_int("repeats", repeats)
    warmup = check_int("warmup", warmup, minimum=0)
    shape = tuple(model.inputs[0].shape[1:])
    if any(d is None for d in shape):
        fail("`model` must have a fixed input size (build it with input_shape=(H, W, C)).",
             model=f"{model.name} with input shape {shape}")
    x = np.random.default_rng(seed).standard_normal((batch_size, *shape)).astype("float32")
    for _ in range(warmup):
        model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(x)
        times.append(1000 * (time.perf_counter() - start))
    median = statistics.median(times)
    return {"batch_size": batch_size, "repeats": repeats, "median_ms": median,
            "min_ms": min(times), "max_ms": max(times), "ms_per_image": median / batch_size,
            "images_per_sec": 1000 * batch_size / median}


def latency_table(names=NAMES, batch_sizes=(1, 32), *, repeats: int = 10, warmup: int = 2,
                  seed: int = 0) -> list[dict]:
    """`latency` of each registered net in `names` at each batch size, one row per (net,
    batch size); each net built once, and freed before the next."""
    import keras

    names = _check_names(names)
    if isinstance(batch_sizes, int) or not batch_sizes:
        fail("`batch_sizes` must be a non-empty list of positive integers.",
             batch_sizes=batch_sizes)
    for b in batch_sizes:
        check_int("batch_sizes", b)
    rows = []
    for name in names:
        model = _build(name)
        for b in batch_sizes:
            rows.append({"model": name, **latency(model, b, repeats=repeats, warmup=warmup,
                                                  seed=seed)})
        del model
        keras.backend.clear_session(free_memory=False)
    return rows


# --- the recorded CIFAR-10 runs -----------------------------------------------------------------


def record_names(results) -> list[str]:
    """The records of studies under `results`: each folder with a finished study run (run.json
    with its summary, and summary.csv; not a transfer study's cells or a single training run),
    its seed repeats (`<record>-seed<N>...`) folded into it, in name order."""
    folders = sorted(p for p in Path(results).iterdir()
                     if (p / "summary.csv").is_file() and _is_study(p / "run.json"))
    return list(dict.fromkeys(_SEED_SUFFIX.sub("", p.name) for p in folders))


def _is_study(run_json: Path) -> bool:
    return run_json.is_file() and "summary" in json.loads(run_json.read_text())


def _infos(record) -> list[dict]:
    return [json.loads((f / "run.json").read_text()) for f in record.folders]


def _full_data(infos: list[dict], num_train: int) -> bool:
    return all(i.get("dataset", {}).get("num_train") == num_train for i in infos)


def _epochs(infos: list[dict], variant: str) -> str:
    """The epochs the variant trained for, over its seeds ("10", or "10/12" where they differ)."""
    epochs = sorted({s["epochs"] for i in infos for s in i.get("summary", [])
                     if (s.get("variant") or s.get("model")) == variant and s.get("epochs")})
    return "/".join(map(str, epochs))


def _models(infos: list[dict]) -> dict:
    return {(s.get("variant") or s["model"]): s["model"] for i in infos
            for s in i.get("summary", [])}


def _cifar_macs(model: str) -> int:
    """Multiply-adds of the registered CIFAR net `model` at its default 32x32 input: for the
    records written before summary.csv had a macs column (their variants are plain models)."""
    from cnn_keras.analysis import count_macs

    return count_macs(_build(model))


def recorded_accuracy(results_dir, *, num_train: int = FULL_TRAIN) -> list[dict]:
    """One row per variant of every record under `results_dir` that trained on `num_train`
    images in every run (all 50,000 CIFAR-10 training images by default; demo subsets are
    skipped), its seed repeats included: the final-epoch test error's mean over seeds and its
    seed-to-seed spread (sample standard deviation; None for one seed).

    Each row: record, variant, model, params (trainable), macs (for one 32x32 image), epochs,
    seeds, test_error, spread, test_accuracy (100 - test_error, %), setup (data, epochs,
    seeds, hardware and precision in one line) and hardware.
    """
    from cnn_keras.claims import evidence, verdict

    results = Path(results_dir)
    if not results.is_dir():
        fail("`results_dir` must be an existing folder of recorded runs (e.g. results/).",
             results_dir=str(results_dir))
    num_train = check_int("num_train", num_train)
    rows = []
    for name in record_names(results):
        record = evidence.load_record(results, name)
        infos = _infos(record)
        if not _full_data(infos, num_train):
            continue
        # every machine the seeds and variants ran on, as the claims scoreboard names them
        hardware = evidence.record_hardware(record.folders)
        models = _models(infos)
        for variant, errors in record.values["final_test_error"].items():
            model = models.get(variant, variant)
            macs = record.macs.get(variant) or _cifar_macs(model)
            mean = verdict.mean(errors)
            rows.append({"record": name, "variant": variant, "model": model,
                         "params": record.params.get(variant), "macs": macs,
                         "epochs": _epochs(infos, variant), "seeds": len(errors),
                         "test_error": round(mean, 2), "spread": _round(verdict.spread(errors)),
                         "test_accuracy": round(100 - mean, 2), "setup": record.setup,
                         "hardware": hardware})
    return rows


def _round(value):
    return None if value is None else round(value, 2)


def headline(rows: list[dict]) -> list[dict]:
    """One row per net and record, for a figure: of the variants of one model at one size
    (same multiply-adds) in a record, the one named "paper" (the paper's recipe) where there is
    one, else the one with the most seeds (the one the record repeated), else the first. Never
    chosen on the test error, which would select on the test set."""
    groups = {}
    for row in rows:
        groups.setdefault((row["record"], row["model"], row["macs"]), []).append(row)
    return [next((r for r in group if r["variant"] == "paper"),
                 max(group, key=lambda r: r["seeds"]))  # max keeps the first of equals
            for group in groups.values()]


def caption(rows: list[dict]) -> str:
    """Each record's set-up (data, epochs, seeds, hardware), one line per record."""
    setups = dict.fromkeys(f"{r['record']}: {r['setup']}" for r in rows)
    return "\n".join(setups)
