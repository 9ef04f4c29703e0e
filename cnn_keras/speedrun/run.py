"""`train`: airbench94 with its speedrun recipe, resumable, recorded in a run folder.

The loop is `train_on_batch` over numpy batches (not `fit`) because lookahead rewrites the
weights between steps, which `fit` on JAX would not see (it keeps the weights in its own state
until the epoch ends). Each finished epoch is a commit of the run folder (checkpoint with the
optimizer, the lookahead average beside it, history), so an interrupted run resumes after its
last finished epoch with the same batches and the same result.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path

import keras
import numpy as np

from cnn_keras import runinfo
from cnn_keras.analysis import count_macs
from cnn_keras.backends.tensorflow import compile_activations, fuse_batch_norm
from cnn_keras.checks import check_choice, fail, is_int
from cnn_keras.registry import build
from cnn_keras.speedrun.batches import (EpochImages, channel_stats, epoch_order, normalise,
                                       whitening_sample)
from cnn_keras.speedrun.lookahead import Lookahead
from cnn_keras.speedrun.recipe import SpeedrunRecipe
from cnn_keras.speedrun.tta import accuracy, tta_logits
from cnn_keras.training.folder import RunFolder, comparable_dataset
from cnn_keras.training.losses import SmoothedSparseCrossentropy
from cnn_keras.training.optim import GroupSGD
from cnn_keras.training.run import jit_compile_default
from cnn_keras.training.schedules import TriangleSchedule

MODEL = "airbench94"
FIELDS = ("epoch", "steps", "loss", "accuracy", "val_accuracy", "lr", "seconds", "elapsed")
DTYPE_POLICIES = ("float32", "mixed_bfloat16")


@dataclasses.dataclass
class _State:
    """What the loop carries: the model, its lookahead, the history, the clock."""

    model: object
    lookahead: Lookahead | None
    history: list
    step: int
    elapsed: float  # wall seconds of the run so far, set-up included


def train(data, out_dir, *, recipe: SpeedrunRecipe | None = None, seed: int = 0,
          dtype_policy: str = "float32", restart: bool = False, verbose="auto",
          started: float | None = None) -> dict:
    """Train airbench94 on `data` (a `data.ImageData` of 32x32 images) with `recipe`, writing a
    run folder in `out_dir` (run.json, history.csv, a checkpoint per finished epoch). Returns
    the summary also written to run.json: final test accuracy with and without the recipe's
    test-time augmentation, epochs, wall time with set-up, and the time to 91 % and 94 %.

    `started` (a `time.time()`) counts the set-up from there (e.g. the process start, so that
    decoding the data counts); by default from the call. Same seed, same run; interrupted, it
    resumes after the last finished epoch.
    """
    started = time.time() if started is None else float(started)
    recipe = SpeedrunRecipe() if recipe is None else recipe
    _check(data, recipe, seed, dtype_policy)
    verbose = (1 if sys.stdout.isatty() else 2) if verbose == "auto" else int(verbose)
    folder = RunFolder(out_dir, fields=FIELDS)
    folder.check_usable()
    folder.path.mkdir(parents=True, exist_ok=True)
    config = {"model": MODEL, "recipe": recipe.to_dict(), "seed": int(seed),
              "dataset": data.describe(), "dtype_policy": dtype_policy}
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype_policy)
    try:
        with folder.lock(verbose):
            if restart:
                folder.discard()
                for old in folder.path.glob("lookahead-*.npz"):
                    old.unlink()
            return _run(folder, config, data, recipe, int(seed), verbose, started)
    finally:
        keras.config.set_dtype_policy(previous)


def _check(data, recipe, seed, dtype_policy) -> None:
    if not isinstance(recipe, SpeedrunRecipe):
        fail("`recipe` must be a speedrun.SpeedrunRecipe.", recipe=recipe)
    if not is_int(seed):
        fail("`seed` must be an integer.", seed=seed)
    check_choice("dtype_policy", dtype_policy, DTYPE_POLICIES)
    if not hasattr(data, "x_train") or data.x_train.dtype != np.uint8:
        fail("`data` must be a data.ImageData of uint8 images (e.g. data.load_cifar10()).",
             data=type(data).__name__)
    recipe.steps_per_epoch(len(data.x_train))  # a batch larger than the data fails here


def _comparable(config: dict | None) -> dict | None:
    """The settings that must agree to resume: all of them, the data by name and sizes."""
    if not config:
        return config
    return {**config, "dataset": comparable_dataset(config.get("dataset") or {})}


def _run(folder, config, data, recipe, seed, verbose, started) -> dict:
    saved = folder.progress()
    if saved is not None and _comparable(folder.info().get("config")) != _comparable(config):
        raise ValueError(f"{folder.path} holds a speedrun with other settings, so it cannot be "
                         f"resumed with these. Use another output directory, or restart=True "
                         f"(--restart). Saved: {folder.info().get('config')}; "
                         f"Received: {config}")
    info = folder.info() if saved else {**runinfo.run_metadata(), "config": config}
    if saved and info.get("status") == "finished":
        if verbose:
            print(f"{MODEL}: the run in {folder.path} has finished")
        return folder.info()["summary"]
    mean, std = channel_stats(data.x_train)
    x_test = normalise(data.x_test, mean, std)
    images = EpochImages(data.x_train, seed, recipe.flip, recipe.translate)
    spe, total = recipe.steps_per_epoch(len(data.x_train)), recipe.total_steps(len(data.x_train))
    state = (_resumed(folder, saved, recipe, total, verbose) if saved
             else _fresh(data, recipe, seed, mean, std, total, info))
    if saved is None:
        state.elapsed = time.time() - started
        info.update(setup_seconds=round(state.elapsed, 1), status="running",
                    channel_mean=mean.tolist(), channel_std=std.tolist())
    else:
        info.setdefault("resumed", []).append({"at_epoch": saved["epoch"], "time": runinfo.now()})
    folder.write_info(info)
    for epoch in range(len(state.history), recipe.num_epochs()):
        _epoch(state, epoch, images, data.y_train, x_test, data.y_test, recipe, seed, spe,
               total, mean, std, verbose)
        _commit(folder, state, epoch + 1)
    summary = _summary(state, x_test, data.y_test, recipe)
    info.update(summary=summary, status="finished", finished=runinfo.now())
    folder.write_info(info)
    if verbose:
        print(f"{MODEL}: {summary['tta_accuracy']:.2%} test accuracy (TTA level "
              f"{recipe.tta_level}) after {recipe.epochs:g} epochs, "
              f"{summary['wall_seconds'] / 60:.1f} min with set-up")
    return summary


def _fresh(data, recipe, seed, mean, std, total, info) -> _State:
    keras.utils.set_random_seed(seed)
    model = build(MODEL, input_shape=data.input_shape, classes=len(data.class_names),
                  **recipe.model_kwargs())
    info["macs"] = count_macs(model)
    if recipe.whiten:  # statistics of 5,000 training images, as the reference
        sample = whitening_sample(data.x_train, recipe.whiten_images, seed)
        model.get_layer("whiten").adapt(normalise(sample, mean, std))
    model.compile(optimizer=_optimizer(recipe, total), jit_compile=jit_compile_default(),
                  loss=SmoothedSparseCrossentropy(recipe.label_smoothing, from_logits=True,
                                                  reduction="sum"),
                  metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    info["fused_batch_norm_layers"] = fuse_batch_norm(model)  # TensorFlow: the same math, faster
    info["xla_activation_layers"] = compile_activations(model)
    info["params"] = model.count_params()
    info["trainable_params"] = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    lookahead = Lookahead(model, total) if recipe.lookahead else None
    return _State(model, lookahead, [], 0, 0.0)


def _optimizer(recipe, total) -> GroupSGD:
    # the summed loss and PyTorch's SGD, as the reference: the same hyperparameters, 1:1
    return GroupSGD(TriangleSchedule(recipe.sgd_lr(), total), momentum=recipe.momentum,
                    nesterov=True, l2=recipe.l2(), lr_multipliers={"beta": recipe.bias_scaler})


def _resumed(folder, saved, recipe, total, verbose) -> _State:
    model = folder.load_model()
    fuse_batch_norm(model)
    compile_activations(model)
    lookahead = None
    if recipe.lookahead:
        lookahead = Lookahead(model, total)
        with np.load(folder.path / _lookahead_file(saved["epoch"])) as state:
            lookahead.load(state)
    history = saved["history"]
    if verbose:
        print(f"{MODEL}: resuming after epoch {saved['epoch']}/{recipe.num_epochs()} from "
              f"{folder.path}")
    return _State(model, lookahead, history, int(model.optimizer.iterations.numpy()),
                  float(history[-1]["elapsed"]))


def _lookahead_file(epoch: int) -> str:
    return f"lookahead-{epoch:04d}.npz"


def _epoch(state, epoch, images, y_train, x_test, y_test, recipe, seed, spe, total, mean, std,
           verbose) -> None:
    t0 = time.time()
    model = state.model
    if recipe.whiten and epoch >= recipe.whiten_bias_epochs:
        model.optimizer.freeze(model.get_layer("whiten").bias)
    x_epoch, order = images.epoch(epoch), epoch_order(seed, epoch, len(y_train))
    steps = min(spe, total - state.step)
    bar = keras.utils.Progbar(steps, verbose=verbose, stateful_metrics=["loss", "accuracy"])
    if verbose:
        print(f"Epoch {epoch + 1}/{recipe.num_epochs()}")
    losses, hits = [], []
    for i in range(steps):
        idx = order[i * recipe.batch_size:(i + 1) * recipe.batch_size]
        logs = model.train_on_batch(normalise(x_epoch[idx], mean, std), y_train[idx],
                                    return_dict=True)
        state.step += 1
        if state.lookahead is not None:
            state.lookahead.after_step(state.step)
            if state.step >= total:
                state.lookahead.finish()
        losses.append(float(logs["loss"]) / recipe.batch_size)  # the summed loss, per image
        hits.append(float(logs["accuracy"]))
        bar.update(i + 1, [("loss", np.mean(losses)), ("accuracy", np.mean(hits))])
    if not math.isfinite(losses[-1]):
        raise FloatingPointError(f"{MODEL}: the training loss became {losses[-1]} in epoch "
                                 f"{epoch + 1}; the epochs before it are kept.")
    val = accuracy(tta_logits(model, x_test, 0), y_test)
    seconds = time.time() - t0
    state.elapsed += seconds
    # the rate of the epoch's last step (the optimizer's own attribute is the next step's)
    lr = float(np.asarray(TriangleSchedule(recipe.sgd_lr(), total)(state.step - 1)))
    state.history.append({"epoch": epoch + 1, "steps": state.step,
                          "loss": float(np.mean(losses)), "accuracy": float(np.mean(hits)),
                          "val_accuracy": val, "lr": lr, "seconds": round(seconds, 2),
                          "elapsed": round(state.elapsed, 1)})
    if verbose:
        print(f"  test accuracy {val:.2%}, {seconds:.0f} s, {state.elapsed / 60:.1f} min in all",
              flush=True)


def _commit(folder, state, epoch) -> None:
    if state.lookahead is not None:
        path = folder.path / _lookahead_file(epoch)
        tmp = path.with_name(f".{path.name}.partial.npz")
        np.savez(tmp, **state.lookahead.state())
        tmp.replace(path)
    folder.commit_epoch(state.model, epoch, state.history)
    for old in Path(folder.path).glob("lookahead-*.npz"):
        if old.name != _lookahead_file(epoch):
            old.unlink(missing_ok=True)


def _summary(state, x_test, y_test, recipe) -> dict:
    t0 = time.time()
    tta = accuracy(tta_logits(state.model, x_test, recipe.tta_level), y_test)
    tta_seconds = time.time() - t0
    history = state.history
    return {
        "tta_accuracy": tta,
        "tta_level": recipe.tta_level,
        "accuracy": history[-1]["val_accuracy"],
        "epochs": recipe.epochs,
        "tta_seconds": round(tta_seconds, 1),
        "wall_seconds": round(state.elapsed + tta_seconds, 1),
        "minutes_to_91": _minutes_to(history, 0.91),
        "minutes_to_94": _minutes_to(history, 0.94),
    }


def _minutes_to(history, target) -> float | None:
    """Wall minutes (set-up included) at the end of the first epoch whose test accuracy
    (without TTA) reached `target`; None if none did."""
    for row in history:
        if row["val_accuracy"] >= target:
            return round(row["elapsed"] / 60, 2)
    return None
