"""Transfer learning on a class split of CIFAR-10 (notebook 10): a net trained on five classes
(the *source* task), then a few images per class of the other five (the *target* task) learned
three ways, each on the same images with the same batches:

* ``scratch``: the same architecture from random weights;
* ``probe`` (linear probe): the source net frozen (batch norm in inference mode), a new
  classifier on its pooled features, the only weights trained;
* ``finetune``: the source net's weights as the start, a new classifier, every layer trained
  (at a fifth of the learning rate).

The split is the design of Yosinski et al. (2014), who cut ImageNet's classes into two halves A
and B and moved features from a net trained on A to B: the target classes are never seen by the
source net, so what transfers is what the net learned about images, not about the target's
classes.

    from cnn_keras.experiments import transfer_study
    rows = transfer_study.run("demo", "runs/transfer-demo")   # one row per (shots, regime, seed)

The source net is a `training.train` run folder (``OUT/source/``: resumable per epoch); each
(shots, regime, seed) *cell* trains with the package's recipe, tf.data pipeline (pad-crop-flip,
per-pixel mean) and `fit`, and is scored once, after its last epoch, on all of the target
classes' test images (no selection on the test set). A finished cell is a row of
``OUT/summary.csv`` and is not trained again: an interrupted run resumes at the next cell.

Reference: https://arxiv.org/abs/1411.1792 (Yosinski et al. 2014, "How transferable are
features in deep neural networks?")
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from cnn_keras import runinfo
from cnn_keras.checks import check_choice, check_int, fail, is_int
from cnn_keras.data.dataset import ImageData
from cnn_keras.experiments.transfer_results import (  # noqa: F401  (re-exported)
    FIGURE,
    RECORD_FILES,
    REGIME_LABELS,
    REGIMES,
    SUMMARY_FIELDS,
    aggregate,
    copy_record,
    figure,
    figure_caption,
    load,
    ordered_rows,
    plural,
    print_summary,
    read_summary,
    write_json,
    write_summary,
)

# The first five of CIFAR-10 (two vehicles, three animals); the target is the other five (dog,
# frog, horse, ship, truck), each with a relative among the source classes.
SOURCE_CLASSES = ("airplane", "automobile", "bird", "cat", "deer")
MODEL = "resnet20"
LR = {"scratch": 0.05, "probe": 0.05, "finetune": 0.01}  # peak of the one-cycle schedule
WEIGHT_DECAY = 5e-4


@dataclasses.dataclass(frozen=True)
class Settings:
    """One mode's sizes. A target cell trains for ``max(min_epochs, ceil(min_steps / steps per
    epoch))`` epochs of batch ``min(batch_size, images)``: the same number of steps for every
    regime at one shots value, and at least `min_epochs` passes over the larger sets."""

    source_images: int | None  # source training images (None: all 25,000)
    source_test_images: int | None  # scored after each source epoch (None: all 5,000)
    source_epochs: int
    shots: tuple[int, ...]  # training images per target class
    seeds: tuple[int, ...]
    test_images: int | None  # target test images (None: all 5,000)
    min_steps: int
    min_epochs: int
    batch_size: int = 32


# quick: CI smoke run (seconds); demo: minutes on 2 CPU cores; record: the decisive CPU run
MODES = {
    "quick": Settings(source_images=250, source_test_images=100, source_epochs=1, shots=(2, 5),
                      seeds=(0,), test_images=100, min_steps=4, min_epochs=1),
    "demo": Settings(source_images=None, source_test_images=1_000, source_epochs=3,
                     shots=(10, 50, 250), seeds=(0,), test_images=None, min_steps=150,
                     min_epochs=10),
    "record": Settings(source_images=None, source_test_images=None, source_epochs=20,
                       shots=(10, 50, 250), seeds=(0, 1, 2), test_images=None, min_steps=400,
                       min_epochs=30),
}


# --- The data: a class split, and few images per class -----------------------------------------


def _check_classes(arg: str, classes, names) -> tuple[str, ...]:
    chosen = (classes,) if isinstance(classes, str) else tuple(classes or ())
    if not chosen or len(set(chosen)) != len(chosen) or not set(chosen) <= set(names):
        fail(f"`{arg}` must be distinct class names of the data: {list(names)}.",
             **{arg: classes})
    return chosen


def class_split(data: ImageData, classes) -> ImageData:
    """The images of `classes` (names of ``data.class_names``) alone, their labels renumbered
    0 .. len(classes) - 1 in the order given; training and test images alike."""
    names = _check_classes("classes", classes, data.class_names)
    old = np.array([data.class_names.index(c) for c in names])
    new_label = np.full(len(data.class_names), -1, np.int32)
    new_label[old] = np.arange(len(old), dtype=np.int32)
    train, test = np.isin(data.y_train, old), np.isin(data.y_test, old)
    return ImageData(data.x_train[train], new_label[data.y_train[train]], data.x_test[test],
                     new_label[data.y_test[test]], names,
                     source=f"{data.source}; classes {', '.join(names)}", name=data.name)


def source_target_split(data: ImageData, source_classes=None) -> tuple[ImageData, ImageData]:
    """(source, target): `class_split` on `source_classes` (default: the first half of the
    data's classes, for CIFAR-10 `SOURCE_CLASSES`) and on the other classes, in the data's
    order. Each side needs at least two classes."""
    names = tuple(data.class_names)
    if source_classes is None:
        source_classes = names[: len(names) // 2]
    chosen = _check_classes("source_classes", source_classes, names)
    if not 2 <= len(chosen) <= len(names) - 2:
        fail(f"`source_classes` must leave at least two classes on each side (the data has "
             f"{len(names)}).", source_classes=source_classes)
    return (class_split(data, chosen),
            class_split(data, [c for c in names if c not in chosen]))


def few_shot(data: ImageData, shots: int, seed: int = 0) -> ImageData:
    """`shots` training images of each class, drawn at random with `seed` (the same seed, the
    same images; a smaller `shots` at one seed takes the first of a larger one's images); the
    test images all kept. ValueError when a class has fewer than `shots`."""
    shots = check_int("shots", shots)
    counts = np.bincount(data.y_train, minlength=len(data.class_names))
    if shots > counts.min():
        fail(f"`shots` must be at most the smallest class's training images ({counts.min()}).",
             shots=shots)
    return data.subset(shots * len(data.class_names), seed=seed)


# --- The three regimes ---------------------------------------------------------------------------


def check_regime(regime) -> None:
    check_choice("regime", regime, REGIMES)


def target_model(regime: str, classes: int, *, backbone=None, model: str = MODEL,
                 input_shape=None, seed: int | None = None):
    """The net for the target task in `regime`: registry model `model` built with
    ``include_top=False, pooling="avg"`` (the features before its classifier), then a new
    ``predictions`` layer (Dense, `classes` softmax outputs) on them. ``probe`` and ``finetune``
    copy the features' weights from `backbone` (the trained source net, same architecture, by
    layer name); ``probe`` freezes them (batch norm then runs in inference mode). `seed` seeds
    Keras before building, so a seed gives the same new head in every regime."""
    import keras

    from cnn_keras.inspect_net import last_hidden_layer
    from cnn_keras.registry import build
    from cnn_keras.transfer import transfer_weights

    check_regime(regime)
    classes = check_int("classes", classes)
    if regime != "scratch" and backbone is None:
        fail(f"Regime {regime!r} starts from a trained net: `backbone` must be one (the "
             f"source net).", backbone=backbone)
    if input_shape is None:
        input_shape = tuple(backbone.input_shape[1:]) if backbone is not None else (32, 32, 3)
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    features = build(model, input_shape=tuple(input_shape), include_top=False, pooling="avg")
    if regime != "scratch":
        headless = keras.Model(backbone.inputs,
                               backbone.get_layer(last_hidden_layer(backbone)).output)
        transfer_weights(headless, features, by="name")
        features.trainable = regime == "finetune"
    head = keras.layers.Dense(classes, activation="softmax", name="predictions")
    return keras.Model(features.input, head(features.output), name=f"{features.name}_{regime}")


def target_recipe(regime: str, images: int, settings: Settings, lr: float | None = None):
    """The recipe of one cell: SGD with Nesterov momentum, a one-cycle learning rate up to
    `LR`[regime] (or `lr`), weight decay `WEIGHT_DECAY`, no label smoothing; its length and
    batch from `settings` (see `Settings`)."""
    from cnn_keras import training

    check_regime(regime)
    images = check_int("images", images)
    batch = min(settings.batch_size, images)
    steps = images // batch
    epochs = max(settings.min_epochs, math.ceil(settings.min_steps / steps))
    return training.Recipe(name=f"transfer-{regime}-{epochs}ep", epochs=epochs, batch_size=batch,
                           lr=LR[regime] if lr is None else lr, weight_decay=WEIGHT_DECAY,
                           lr_schedule="onecycle", nesterov=True, warmup_epochs=0.15 * epochs,
                           milestones=())


def accuracy(model, x, y, mean, batch_size: int = 250) -> float:
    """The share of `x` (uint8 images) that `model` classifies as `y`, on x / 255 - `mean`,
    in inference mode. Called eagerly, batch by batch (a `predict` traces a function for every
    new model)."""
    import keras

    from cnn_keras import data as data_lib

    x, y = data_lib.eval_arrays(x, y, mean=mean)
    right = 0
    for i in range(0, len(x), batch_size):
        probs = keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
        right += int(np.sum(probs.argmax(axis=-1) == y[i:i + batch_size]))
    return right / len(x)


@contextlib.contextmanager
def _quiet_retracing():
    """TensorFlow's logger at ERROR: every cell is a new model with a new traced step, which
    TensorFlow takes for a loop that retraces one function, and says so after the fifth."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def train_target(model, data: ImageData, recipe, mean, *, seed: int = 0,
                 verbose: int = 0) -> dict:
    """Compile `model` with `recipe` (optimizer, loss) and fit it on ``data``'s training images
    through `data.train_dataset` (pad-crop-flip, minus `mean`), then score it once on the test
    images. Returns the final epoch's training accuracy (on augmented batches, as `fit`
    reports it), the test accuracy, the trainable parameters, epochs, steps and seconds."""
    from cnn_keras import data as data_lib
    from cnn_keras import training
    from cnn_keras.analysis import count_params
    from cnn_keras.backends.tensorflow import build_training_state, fuse_batch_norm

    steps = data_lib.steps_per_epoch(len(data.x_train), recipe.batch_size)
    model.compile(optimizer=recipe.optimizer(steps), loss=recipe.loss(), metrics=["accuracy"],
                  jit_compile=training.jit_compile_default())
    fuse_batch_norm(model)
    build_training_state(model, data.x_train[:1], data.y_train[:1], 1)
    batches = data_lib.train_dataset(data.x_train, data.y_train, mean=mean, seed=seed,
                                     batch_size=recipe.batch_size, epochs=recipe.epochs)
    started = time.time()
    with _quiet_retracing():
        history = model.fit(batches, epochs=recipe.epochs, steps_per_epoch=steps,
                            verbose=verbose, shuffle=False)
    seconds = time.time() - started
    return {"images": len(data.x_train), "batch_size": recipe.batch_size,
            "epochs": recipe.epochs, "steps": recipe.epochs * steps, "lr": recipe.lr,
            "trainable_params": count_params(model)["trainable"],
            "train_accuracy": round(float(history.history["accuracy"][-1]), 4),
            "test_accuracy": round(accuracy(model, data.x_test, data.y_test, mean), 4),
            "test_images": len(data.x_test), "seconds": round(seconds, 1)}


# --- The experiment ------------------------------------------------------------------------------


def settings(mode: str, *, shots=None, seeds=None) -> Settings:
    """`MODES`[mode], with `shots` and `seeds` (non-empty tuples) in place of its own."""
    check_choice("mode", mode, MODES)
    s = MODES[mode]
    if shots is not None:
        shots = tuple(shots) if isinstance(shots, (list, tuple)) else shots
        if not isinstance(shots, tuple) or not shots or len(set(shots)) != len(shots) or not all(
                is_int(v) and v >= 1 for v in shots):
            fail("`shots` must be a non-empty list of distinct positive integers (training "
                 "images per target class).", shots=shots)
        s = dataclasses.replace(s, shots=tuple(sorted(int(v) for v in shots)))
    if seeds is not None:
        seeds = tuple(seeds) if isinstance(seeds, (list, tuple)) else seeds
        if not isinstance(seeds, tuple) or not seeds or len(set(seeds)) != len(seeds) or not all(
                is_int(v) and v >= 0 for v in seeds):
            fail("`seeds` must be a non-empty list of distinct integers >= 0.", seeds=seeds)
        s = dataclasses.replace(s, seeds=tuple(int(v) for v in seeds))
    return s


def _check_regimes(regimes) -> tuple[str, ...]:
    chosen = (regimes,) if isinstance(regimes, str) else tuple(regimes or ())
    if not chosen or len(set(chosen)) != len(chosen) or not set(chosen) <= set(REGIMES):
        fail(f"`regimes` must be a non-empty selection of {list(REGIMES)}.", regimes=regimes)
    return tuple(r for r in REGIMES if r in chosen)


def source_recipe(s: Settings, images: int):
    """The source net's recipe: `training.fast_recipe` (one-cycle up to lr 0.2, batch 128 or
    all `images` where fewer, Nesterov, weight decay 5e-4) for `Settings.source_epochs`,
    without label smoothing (it makes the penultimate layer's features transfer worse:
    Kornblith et al. 2019)."""
    from cnn_keras import training

    return training.fast_recipe(s.source_epochs, batch_size=min(128, images),
                                label_smoothing=0.0)


def _config(mode, s: Settings, model, data: ImageData, source: ImageData,
            target: ImageData) -> dict:
    """What the rows of summary.csv depend on (compared when a run resumes); the shots and
    seeds are cells, which a later call may add to."""
    cell = {k: v for k, v in dataclasses.asdict(s).items() if k not in ("shots", "seeds")}
    return {"mode": mode, "model": model, "data": data.name, "settings": cell,
            "source_classes": list(source.class_names),
            "target_classes": list(target.class_names),
            "lr": {r: LR[r] for r in REGIMES}, "weight_decay": WEIGHT_DECAY}


def run(mode: str = "demo", out_dir=None, *, shots=None, seeds=None, regimes=REGIMES,
        source_classes=None, model: str = MODEL, data: ImageData | None = None, data_dir=None,
        verbose="auto") -> list[dict]:
    """Train the source net on `source_classes` (default: the first five of CIFAR-10), then
    every (shots, regime, seed) cell on the other classes, and write ``OUT/summary.csv`` (one
    row per cell), ``OUT/transfer.png`` and ``OUT/run.json`` (settings, hardware, the source
    net's accuracy, the rows). `shots` / `seeds` replace the mode's; cells already in
    summary.csv are skipped, so an interrupted run resumes, and a later call with more seeds
    adds rows. `data`: an `ImageData` to split instead of CIFAR-10 (tests). Returns every row
    in summary.csv, the ones of other calls included."""
    from cnn_keras import data as data_lib
    from cnn_keras import training
    from cnn_keras.registry import get_builder

    s = settings(mode, shots=shots, seeds=seeds)  # every argument checked before any work
    regimes = _check_regimes(regimes)
    get_builder(model)
    if data is not None and not isinstance(data, ImageData):
        fail("`data` must be a cnn_keras.data.ImageData (or None: CIFAR-10).", data=data)
    out_dir = Path(out_dir or Path("runs") / f"transfer-{mode}")
    if out_dir.exists() and not out_dir.is_dir():
        fail("`out_dir` must be a folder (new, or a run to resume).", out_dir=str(out_dir))
    say = print if verbose else (lambda *a, **k: None)
    started = time.time()
    if data is None:
        data = data_lib.cifar10_subset(None, None, data_dir=data_dir, verbose=bool(verbose),
                                       synthetic_fallback=mode == "quick")
    source, target = experiment_data(s, data, source_classes)
    few_shot(target, max(s.shots), 0)  # every shots value fits the data
    config = _config(mode, s, model, data, source, target)
    recipe = source_recipe(s, len(source.x_train))
    info = _start(out_dir, config)

    say(f"Source: {model} on {', '.join(source.class_names)} ({len(source.x_train):,} images, "
        f"{plural(s.source_epochs, 'epoch')})", flush=True)
    history = training.train(model, source, out_dir / "source", recipe=recipe, seed=0,
                             verbose=verbose, meta={"experiment": f"transfer/{mode}/source"})
    backbone = load_backbone(out_dir)
    source_mean = data_lib.per_pixel_mean(source.x_train)

    rows = _train_cells(out_dir, s, regimes, target, backbone, source_mean,
                        model=model, input_shape=data.x_train.shape[1:], say=say)
    rows = _finish(out_dir, info, source, target, history, rows, started)
    if verbose:
        print_summary(rows)
        print(f"Figure: {out_dir / FIGURE}")
    return rows


def _train_cells(out_dir, s, regimes, target, backbone, source_mean, *, model, input_shape,
                 say):
    """Train every (shots, regime, seed) cell not yet in summary.csv, writing the summary
    after each one (so an interruption loses at most the cell in progress); returns all rows."""
    from cnn_keras import data as data_lib

    rows = read_summary(out_dir)
    done = {(r["shots"], r["regime"], r["seed"]) for r in rows}
    cells = [(n, r, seed) for seed in s.seeds for n in s.shots for r in regimes]
    todo = [c for c in cells if c not in done]
    say(f"Target: {', '.join(target.class_names)}; {len(todo)} of {len(cells)} cells to train, "
        f"each scored on {len(target.x_test):,} test images", flush=True)
    for i, (n, regime, seed) in enumerate(todo, 1):
        few = few_shot(target, n, seed)
        net = target_model(regime, len(target.class_names), backbone=backbone, model=model,
                           input_shape=input_shape, seed=seed)
        # the transferred nets see what the backbone was trained on (its pixel mean), as
        # ImageNet weights need their preprocess_input; from scratch: the images' own mean
        mean = data_lib.per_pixel_mean(few.x_train) if regime == "scratch" else source_mean
        row = {"shots": n, "regime": regime, "seed": seed,
               **train_target(net, few, target_recipe(regime, len(few.x_train), s), mean,
                              seed=seed)}
        rows.append(row)
        write_summary(out_dir, rows)
        say(f"[{i}/{len(todo)}] {n:>4} shots, {regime:<8} seed {seed}: test accuracy "
            f"{100 * row['test_accuracy']:5.1f} % ({row['epochs']} epochs, {row['steps']} "
            f"steps, {row['seconds']:.0f} s)", flush=True)
    return rows


def _finish(out_dir, info, source, target, history, rows, started):
    """Write the ordered summary, the figure and run.json; returns the ordered rows."""
    from cnn_keras import plots

    rows = ordered_rows(rows)
    write_summary(out_dir, rows)
    caption = figure_caption(info, source, target, history, rows)
    plots.plt.close(figure(rows, out_dir / FIGURE, caption=caption,
                           chance=1 / len(target.class_names)))
    last = history[-1]
    info.update(status="finished", finished=runinfo.now(), caption=caption,
                source={"images": len(source.x_train), "test_images": len(source.x_test),
                        "epochs": len(history), "test_accuracy": round(last["val_accuracy"], 4),
                        "train_seconds": round(sum(r["seconds"] for r in history), 1)},
                target={"train_images_per_class": {c: int(v) for c, v in zip(
                    target.class_names, np.bincount(target.y_train))},
                    "test_images": len(target.x_test)},
                wall_seconds_this_session=round(time.time() - started, 1), rows=rows)
    write_json(out_dir / "run.json", info)
    return rows


def experiment_data(s: Settings, data: ImageData, source_classes=None):
    """(source, target) as `run` trains on them: `source_target_split`, then the mode's
    class-balanced subsets (seed 0) of the source images and of the target's test images."""
    source, target = source_target_split(data, source_classes)
    return (source.subset(s.source_images, seed=0, num_test=s.source_test_images),
            target.subset(None, seed=0, num_test=s.test_images))


def load_backbone(out_dir):
    """The trained source net of the run in `out_dir` (its last checkpoint, ``source/``)."""
    from cnn_keras import training

    return training.RunFolder(Path(out_dir) / "source").load_model()


def _start(out_dir: Path, config: dict) -> dict:
    """run.json's contents: a new run's (its hardware and versions), or the one to resume,
    after checking that it has `config`."""
    path = out_dir / "run.json"
    if path.is_file():
        info = json.loads(path.read_text())
        if info.get("config") != json.loads(json.dumps(config)):
            raise ValueError(
                f"{out_dir} holds a transfer run with other settings, so it cannot be resumed "
                f"with these: use another out_dir. Saved: {info.get('config')}; "
                f"Received: {config}")
        info.setdefault("resumed", []).append(runinfo.now())
        info["status"] = "running"
    else:
        info = {**runinfo.run_metadata(), "experiment": "transfer", "config": config,
                "status": "running"}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(path, info)
    return info


# --- ImageNet weights --------------------------------------------------------------------------

# where keras.applications downloads its ImageNet weights from
IMAGENET_WEIGHTS_HOST = ("storage.googleapis.com", 443)


def imagenet_weights_reachable(timeout: float = 3.0) -> bool:
    """Whether the host of keras.applications' weights answers within `timeout` seconds, so
    that a notebook can skip the download offline instead of waiting for it to fail."""
    from cnn_keras.data.cifar10 import host_reachable

    return host_reachable(IMAGENET_WEIGHTS_HOST, timeout)


# --- python -m cnn_keras.experiments.transfer_study -------------------------------------------


def main(argv=None) -> int:
    """``python -m cnn_keras.experiments.transfer_study [--mode M] [--out DIR] [--shots N ...]
    [--seeds S ...] [--record-to DEST]``: `run`, then (``--record-to``) `copy_record`. A bad
    value is one line on stderr and exit status 2, before any data is loaded."""
    import argparse

    from cnn_keras.backends.tensorflow import use_onednn_by_default

    if "tensorflow" not in sys.modules:  # `python -m` has imported it with the package
        use_onednn_by_default()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(prog="python -m cnn_keras.experiments.transfer_study",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=tuple(MODES), default="demo")
    p.add_argument("--out", help="output folder (default runs/transfer-MODE)")
    p.add_argument("--shots", type=int, nargs="+", help="images per target class (the mode's)")
    p.add_argument("--seeds", type=int, nargs="+", help="seeds (the mode's)")
    p.add_argument("--record-to", help="when finished, copy the record here "
                   "(e.g. results/transfer-cpu)")
    args = p.parse_args(argv)
    try:
        settings(args.mode, shots=args.shots, seeds=args.seeds)
        if args.record_to and Path(args.record_to).exists() and not Path(
                args.record_to).is_dir():
            fail("`--record-to` must be a folder.", record_to=args.record_to)
        out = args.out or f"runs/transfer-{args.mode}"
        run(args.mode, out, shots=args.shots, seeds=args.seeds, verbose=2)
        if args.record_to:
            print(f"{len(copy_record(out, args.record_to))} files -> {args.record_to}")
    except (ValueError, OSError) as exc:
        print(f"{p.prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
