"""A resumable, reproducible `train`, and the run folder it writes.

`train(model_name, data, out_dir, recipe=...)` builds a registry model, compiles it with the
recipe's optimizer and loss, feeds it one of the input pipelines and records every finished
epoch in a `RunFolder`. The settings come in groups: what to train (the model name, its
keyword arguments, an optional run to initialise from), the data, the `Recipe` (optimizer,
schedule, loss, length), the seed, and the `Engine` (how the steps are computed: the input
pipeline, the dtype policy, steps per execution, the fused batch norm).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from cnn_keras import runinfo
from cnn_keras.analysis import count_macs, count_params
from cnn_keras.backends.tensorflow import (build_training_state, compile_activations,
                                           fuse_batch_norm)
from cnn_keras.checks import (check_bool, check_choice, check_int, check_jitter_size,
                              check_low_res, fail, is_int)
from cnn_keras.registry import build, check_kwargs, get_builder
from cnn_keras.training import losses, surgery
from cnn_keras.training.export import save_with_preprocessing
from cnn_keras.training import distribute
from cnn_keras.training.folder import PROGRESS, RunFolder, write_history_csv
from cnn_keras.training.recipes import Recipe

PIPELINES = ("auto", "tf.data", "numpy", "layer")
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


class TrainingDiverged(ValueError):
    """The training loss became NaN or infinite; the epochs finished before it are kept."""


@dataclasses.dataclass(frozen=True)
class Engine:
    """How `train` computes the steps: the speed changes, the result does not (the dtype policy
    aside).

    ``pipeline``: "tf.data" (`data.train_dataset`), "numpy" (`data.NumpyTrainBatches`, for
    backends without TensorFlow, e.g. JAX on a GPU machine), "layer" (the augmentation on the
    device: `augment.PadCropFlip` in front of the model, see `surgery.augment_in_model`, fed
    batches that are only shuffled, scaled and mean-subtracted) or "auto" (tf.data when
    TensorFlow is installed). ``dtype_policy``: "float32" (the papers), or "mixed_bfloat16" /
    "mixed_float16" (BN statistics and the loss stay float32). ``steps_per_execution`` (Keras
    ``compile``): steps per call from Python; "auto" takes the largest divisor of the epoch's
    steps up to 8, so epochs stay whole. ``fused_bn``: train batch norm with TensorFlow's
    fused kernel (`backends.tensorflow.fuse_batch_norm`; the same math). ``devices`` > 1:
    data-parallel over that many devices of this host (`distribute.data_parallel`; the recipe's
    batch is the global batch, split across them; batch norm synchronized).
    """

    pipeline: str = "auto"
    dtype_policy: str = "float32"
    steps_per_execution: int | str = 1
    fused_bn: bool = True
    devices: int = 1

    def __post_init__(self):
        check_choice("pipeline", self.pipeline, PIPELINES)
        check_choice("dtype_policy", self.dtype_policy, DTYPE_POLICIES)
        spe = self.steps_per_execution
        if spe != "auto" and (not is_int(spe) or spe < 1):
            fail("`steps_per_execution` must be 'auto' or an integer >= 1.",
                 steps_per_execution=spe)
        check_int("devices", self.devices)
        check_bool("fused_bn", self.fused_bn)

    def resolved(self) -> Engine:
        """"auto" replaced by the pipeline this machine has."""
        if self.pipeline != "auto":
            return self
        from cnn_keras.data import tf

        return dataclasses.replace(self, pipeline="numpy" if tf is None else "tf.data")

    def steps_per_execution_for(self, steps: int) -> int:
        spe = self.steps_per_execution
        if spe == "auto":
            return max(d for d in range(1, 9) if steps % d == 0)
        if steps % spe:
            fail(f"`steps_per_execution` must divide the {steps} steps of an epoch, so that "
                 f"epochs stay whole.", steps_per_execution=spe)
        return int(spe)


class _RecordEpochs(keras.callbacks.Callback):
    """After each finished epoch: a history row, then `RunFolder.commit_epoch`. An epoch whose
    loss is not finite is not committed, and training stops."""

    def __init__(self, folder: RunFolder, history: list[dict], schedule):
        super().__init__()
        self.folder, self.history, self.schedule = folder, history, schedule
        self.diverged_at = None
        self._t0 = time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not math.isfinite(float(logs.get("loss", float("nan")))):
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            return
        row = {
            "epoch": epoch + 1,
            "loss": logs.get("loss"),
            # a model with auxiliary heads (GoogLeNet) reports its main output's accuracy
            "accuracy": logs.get("accuracy", logs.get("predictions_accuracy")),
            "val_loss": logs.get("val_loss"),
            "val_accuracy": logs.get("val_accuracy", logs.get("val_predictions_accuracy")),
            # the rate of the epoch's last step (the optimizer's own attribute is the next's)
            "lr": float(np.asarray(self.schedule(self.model.optimizer.iterations - 1))),
            "seconds": round(time.time() - self._t0, 2),
        }
        self.history.append({k: (float(v) if isinstance(v, (np.floating, float)) else v)
                             for k, v in row.items()})
        self.folder.commit_epoch(self.model, epoch + 1, self.history)
        distribute.barrier(f"epoch {epoch + 1} committed")


def _verbose_default():
    return 1 if sys.stdout.isatty() else 2


@dataclasses.dataclass(frozen=True)
class _Job:
    """What one call of `train` resolved: everything the fitting steps need."""

    model_name: str
    model_kwargs: dict
    init_from: Path | None
    data: object
    recipe: Recipe
    seed: int
    engine: Engine
    folder: RunFolder
    steps: int
    epochs: int
    steps_per_execution: int
    verbose: int
    callbacks: tuple


def train(
    model_name: str,
    data,
    out_dir,
    *,
    recipe: Recipe,
    seed: int = 0,
    model_kwargs: dict | None = None,
    init_from=None,
    engine: Engine = Engine(),
    restart: bool = False,
    verbose: int | str = "auto",
    meta: dict | None = None,
    callbacks=(),
) -> list[dict]:
    """Train registry model `model_name` on `data` (a `data.ImageData`) with `recipe`, writing
    a `RunFolder` in `out_dir`: run.json, history.csv and a checkpoint after every epoch.

    Started again with the same arguments after an interruption, it resumes after the last
    finished epoch (none lost, none repeated); a finished run returns its history at once.
    A second process given the same `out_dir` waits for the first (a lock file), then resumes.
    The same seed gives the same losses on CPU: weights are initialised from `seed`, and the
    order and augmentation of epoch e depend only on (seed, e). A loss that becomes NaN stops
    the run with `TrainingDiverged`, keeping the epochs finished before. Returns the history.

    ``init_from`` is the directory of a finished run of VGG configuration A: a new VGG model
    then starts from its first four convs and three FC layers (`vgg.preinitialize`, the paper's
    Sec. 3.1). A model with auxiliary outputs (``model_kwargs={"aux_logits": True}``) is
    trained with the paper's loss weights (`googlenet.compile_with_aux`); its history records
    the main output's accuracy. ``engine``: see `Engine`. ``meta`` is added to run.json.
    """
    job = _resolve(model_name, data, out_dir, recipe, seed, model_kwargs, init_from, engine,
                   verbose, callbacks)
    config = _config(job)
    folder = job.folder
    folder.path.mkdir(parents=True, exist_ok=True)
    distribute.barrier("the chief's last commit read")
    with folder.lock(job.verbose):
        if restart:
            folder.discard()
        state = folder.progress()
        if state is not None:
            folder.check_resumable(config)
            history, initial_epoch = state["history"], int(state["epoch"])
            info = folder.info()
            info.setdefault("resumed", []).append({"at_epoch": initial_epoch,
                                                   "time": runinfo.now(),
                                                   "hardware": runinfo.hardware()})
        else:
            history, initial_epoch = [], 0
            info = {**runinfo.run_metadata(), **(meta or {}), "config": config,
                    "status": "running"}
        if initial_epoch >= job.epochs:
            if job.verbose:
                print(f"{model_name}: all {job.epochs} epochs already finished in {folder.path}")
            if folder.writes:
                write_history_csv(folder.history_csv, history)
            return history
        keras.utils.set_random_seed(seed)
        info.update(input_pipeline=job.engine.pipeline,
                    steps_per_execution=job.steps_per_execution,
                    backend=keras.backend.backend())
        with _dtype_policy(job.engine.dtype_policy):
            return _fit(job, state, history, initial_epoch, info)


def _resolve(model_name, data, out_dir, recipe, seed, model_kwargs, init_from, engine,
             verbose, callbacks) -> _Job:
    """Check every argument before any work, and derive the run's numbers."""
    from cnn_keras.data.dataset import ImageData
    from cnn_keras.data.streaming import StreamingData

    get_builder(model_name)  # ValueError for unknown names
    if not isinstance(data, (ImageData, StreamingData)):
        fail("`data` must be a data.ImageData (e.g. data.load_cifar10()) or a streamed image "
             "folder (data.streaming).", data=type(data).__name__)
    _check_recipe_for(recipe, data)
    if not isinstance(engine, Engine):
        fail("`engine` must be a training.Engine.", engine=engine)
    check_int("seed", seed, minimum=0)  # keras.utils.set_random_seed takes 0 .. 2**32 - 1
    _check_model_kwargs(model_kwargs)
    check_kwargs(model_name, model_kwargs or {})
    engine = engine.resolved()
    _check_pipeline(engine, recipe, data)
    folder = RunFolder(out_dir, writes=distribute.is_chief())
    folder.check_usable()
    if init_from is not None and not (Path(init_from) / PROGRESS).exists():
        fail(f"`init_from` must be the directory of a finished training run (with {PROGRESS}).",
             init_from=str(init_from))
    from cnn_keras.data import steps_per_epoch

    steps = steps_per_epoch(data.num_train, recipe.batch_size)
    return _Job(model_name=model_name, model_kwargs=dict(model_kwargs or {}),
                init_from=None if init_from is None else Path(init_from), data=data,
                recipe=recipe, seed=int(seed), engine=engine, folder=folder, steps=steps,
                epochs=recipe.num_epochs(steps),
                steps_per_execution=engine.steps_per_execution_for(steps),
                verbose=_verbose_default() if verbose == "auto" else verbose,
                callbacks=tuple(callbacks))


def _check_pipeline(engine, recipe, data) -> None:
    """The input pipeline against what the run needs of it: tf.data where batches are shared
    between processes, a folder is streamed or the images are resized; augmentation outside
    the model where the recipe has none."""
    from cnn_keras.data.streaming import StreamingData

    processes = distribute.process_share()[1]
    if processes > 1 and (engine.pipeline != "tf.data" or recipe.batch_size % processes):
        fail(f"A run of {processes} processes shares each batch out by tf.data: `pipeline` "
             f"must be 'tf.data' and the batch size a multiple of {processes}.",
             pipeline=engine.pipeline, batch_size=recipe.batch_size)
    if isinstance(data, StreamingData) and engine.pipeline != "tf.data":
        fail("Streamed image folders are read by tf.data: `pipeline` must be 'tf.data' (or "
             "'auto' with TensorFlow installed).", pipeline=engine.pipeline)
    check_low_res(recipe.low_res_size, recipe.low_res_epochs, data.input_shape[:2])
    if not recipe.augment and engine.pipeline == "layer":
        raise ValueError(f"Recipe {recipe.name!r} trains without augmentation, but the 'layer' "
                         "pipeline augments inside the model: use pipeline 'tf.data' or "
                         "'numpy'. Received: pipeline='layer'")
    check_jitter_size(recipe.scale_jitter, data.input_shape[:2])
    if recipe.scale_jitter and engine.pipeline != "tf.data":
        raise ValueError(f"Scale jittering (recipe {recipe.name!r}) is done by the tf.data "
                         f"pipeline: `pipeline` must be 'tf.data' or 'auto' with TensorFlow "
                         f"installed. Received: pipeline={engine.pipeline!r}")
    if recipe.low_res_epochs and engine.pipeline != "tf.data":
        raise ValueError(f"Progressive resizing (recipe {recipe.name!r}) is done by the tf.data "
                         f"pipeline: `pipeline` must be 'tf.data' or 'auto' with TensorFlow "
                         f"installed. Received: pipeline={engine.pipeline!r}")


def _check_model_kwargs(model_kwargs) -> None:
    """A dict of builder options, without the two that `train` takes from the data."""
    if model_kwargs is None:
        return
    if not isinstance(model_kwargs, dict):
        fail("`model_kwargs` must be a dict of builder options or None.",
             model_kwargs=model_kwargs)
    if set(model_kwargs) & {"classes", "input_shape"}:
        fail("`model_kwargs` must not set 'classes' or 'input_shape': `train` takes them from "
             "the data (its class names and image size).", model_kwargs=model_kwargs)


def _check_recipe_for(recipe, data) -> None:
    """In-memory data trains on a `Recipe`; streamed image folders on an `ImageNetRecipe`."""
    from cnn_keras.data.streaming import StreamingData
    from cnn_keras.training.imagenet_recipes import ImageNetRecipe

    if isinstance(data, StreamingData):
        if not isinstance(recipe, ImageNetRecipe):
            fail("Streamed image folders train on a paper's ImageNet recipe "
                 "(training.imagenet_recipes.get('resnet')).", recipe=recipe)
    elif not isinstance(recipe, Recipe):
        fail("`recipe` must be a training.Recipe (e.g. training.scaled_recipe(10)).",
             recipe=recipe)


def _config(job: _Job) -> dict:
    """The settings recorded in run.json (and compared on resume)."""
    return {
        "model": job.model_name,
        "model_kwargs": job.model_kwargs,
        "recipe": job.recipe.to_dict(job.steps),
        "epochs": job.epochs,
        "seed": job.seed,
        "dataset": job.data.describe(),
        "dtype_policy": job.engine.dtype_policy,
        "augment_in_model": job.engine.pipeline == "layer",  # checkpoints hold a PadCropFlip
        # relative to the run, so that a moved or copied experiment folder still resumes
        "init_from": None if job.init_from is None else os.path.relpath(
            job.init_from.resolve(), job.folder.path.resolve()),
    }


@contextlib.contextmanager
def _dtype_policy(policy: str):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _new_model(job: _Job, info: dict):
    """Build, adapt (augmentation layer, any image size, pre-initialisation) and compile."""
    data, recipe = job.data, job.recipe
    model = build(job.model_name, input_shape=data.input_shape,
                  classes=len(data.class_names), **job.model_kwargs)
    info["macs"] = count_macs(model)  # counted at the data's size, before `any_image_size`
    if job.engine.pipeline == "layer":
        model = surgery.augment_in_model(model, job.seed)
    if recipe.low_res_epochs:
        model = surgery.any_image_size(model, try_size=recipe.low_res_size)
    if job.init_from is not None:
        from cnn_keras.models.vgg import preinitialize

        info["preinitialized_layers"] = preinitialize(
            model, RunFolder(job.init_from).load_model())
    compile_kw = {
        "optimizer": recipe.optimizer(job.steps),
        "loss": recipe.loss(from_logits=losses.from_logits(job.model_kwargs)),
        "metrics": ["accuracy"],
        "jit_compile": jit_compile_default(),
        "steps_per_execution": job.steps_per_execution,
    }
    if len(model.outputs) > 1:
        from cnn_keras.models.googlenet import compile_with_aux

        compile_with_aux(model, **compile_kw)
    else:
        model.compile(**compile_kw)
    return model


def jit_compile_default():
    """XLA off on TensorFlow (slower on CPU: docs/benchmarks.md; and it bypasses the fused
    batch norm);
    Keras' "auto" elsewhere (on JAX, jit is what makes it fast)."""
    return False if keras.backend.backend() == "tensorflow" else "auto"


def _input_data(job: _Job, initial_epoch: int, outputs: int):
    """(training batches, validation data, extra `fit` arguments) for the engine's pipeline."""
    from cnn_keras import data as data_lib
    from cnn_keras.data.streaming import StreamingData

    data, recipe = job.data, job.recipe
    if isinstance(data, StreamingData):
        return _streamed_input(job, initial_epoch, outputs)
    mean = data_lib.per_pixel_mean(data.x_train)
    if job.engine.pipeline == "tf.data":
        share = distribute.process_share()
        train_ds = data_lib.train_dataset(data.x_train, data.y_train, mean=mean, seed=job.seed,
                                          batch_size=recipe.batch_size, epochs=job.epochs,
                                          initial_epoch=initial_epoch,
                                          low_res_size=recipe.low_res_size,
                                          low_res_epochs=recipe.low_res_epochs,
                                          augment=recipe.augment,
                                          scale_jitter=recipe.scale_jitter)
        train_ds = distribute.shard_batches(train_ds, recipe.batch_size, share)
        usable = len(data.x_test) - len(data.x_test) % share[1]
        val_batch = 256 // share[1] * share[1]
        val_ds = distribute.shard_batches(
            data_lib.eval_dataset(data.x_test[:usable], data.y_test[:usable],
                                  batch_size=val_batch, mean=mean),
            val_batch, share, drop_remainder=False)
        if outputs > 1:  # the same labels for every head
            train_ds, val_ds = (ds.map(lambda x, y: (x, (y,) * outputs))
                                for ds in (train_ds, val_ds))
        return train_ds, val_ds, {"steps_per_epoch": job.steps}
    train_ds = data_lib.NumpyTrainBatches(data.x_train, data.y_train, mean=mean, seed=job.seed,
                                          batch_size=recipe.batch_size,
                                          initial_epoch=initial_epoch, label_copies=outputs,
                                          augment=job.engine.pipeline == "numpy"
                                          and recipe.augment)
    x_val, y_val = data_lib.eval_arrays(data.x_test, data.y_test, mean=mean)
    return train_ds, (x_val, y_val if outputs == 1 else (y_val,) * outputs), {
        "validation_batch_size": 256}


def _streamed_input(job: _Job, initial_epoch: int, outputs: int):
    """`_input_data` for an image folder streamed with the recipe's augmentation."""
    from cnn_keras.data import streaming

    data, r = job.data, job.recipe
    share = distribute.process_share()
    train_ds = streaming.train_dataset(
        data.train, batch_size=r.batch_size, seed=job.seed, epochs=job.epochs,
        initial_epoch=initial_epoch, size=data.size, augmentation=r.augmentation,
        scale_range=_scaled(r.scale_range, data.size / r.train_size), area_range=r.area_range,
        colour=r.colour, mean=data.mean, std=data.std, shard=share)
    val_ds = streaming.eval_dataset(
        data.test, batch_size=min(256, r.batch_size) // share[1] * share[1], size=data.size,
        resize=round(r.eval_resize * data.size / r.train_size), mean=data.mean, std=data.std,
        shard=share)
    if outputs > 1:  # the same labels for every head
        train_ds, val_ds = (ds.map(lambda x, y: (x, (y,) * outputs)) for ds in (train_ds, val_ds))
    return train_ds, val_ds, {"steps_per_epoch": job.steps}


def _scaled(scale_range, factor: float) -> tuple[int, int]:
    """The recipe's shorter-side range for images of another size than its 224 (a small-image
    run of the same recipe)."""
    return tuple(round(v * factor) for v in scale_range)


def _export(job: _Job, model) -> None:
    """The model a user loads: raw images in, this run's preprocessing inside (export.py):
    the per-pixel mean, or a streamed run's per-channel mean and std (its images already
    resized and cropped to the run's size)."""
    from cnn_keras import data as data_lib
    from cnn_keras.data.streaming import StreamingData

    if not job.folder.writes:  # collective, as `RunFolder.commit_epoch`: the chief keeps it
        with tempfile.TemporaryDirectory() as scratch:
            return _export(dataclasses.replace(job, folder=RunFolder(scratch)), model)
    if isinstance(job.data, StreamingData):
        save_with_preprocessing(model, job.data.mean, job.folder.path, std=job.data.std)
    else:
        save_with_preprocessing(model, data_lib.per_pixel_mean(job.data.x_train),
                                job.folder.path)


def _fit(job: _Job, state, history, initial_epoch, info):
    with distribute.data_parallel(job.engine.devices):
        return _fit_here(job, state, history, initial_epoch, info)


def _fit_here(job: _Job, state, history, initial_epoch, info):
    folder = job.folder
    if state is not None:
        model = folder.load_model()
        model.steps_per_execution = job.steps_per_execution
        if job.verbose:
            print(f"{job.model_name}: resuming after epoch {initial_epoch}/{job.epochs} from "
                  f"{folder.path}")
    else:
        model = _new_model(job, info)
    info["devices"] = job.engine.devices
    if job.engine.devices > 1:  # statistics over the global batch, as on one device
        info["synchronized_batch_norm_layers"] = distribute.synchronize_batch_norm(model)
    info["fused_batch_norm_layers"] = fuse_batch_norm(model) if job.engine.fused_bn else 0
    info["xla_activation_layers"] = compile_activations(model)
    outputs = len(model.outputs)
    info["params"] = count_params(model)
    folder.write_info(info)

    train_ds, val_data, fit_kw = _input_data(job, initial_epoch, outputs)
    build_training_state(model, *job.data.sample(), outputs)
    record = _RecordEpochs(folder, history, job.recipe.schedule(job.steps))
    t0 = time.time()
    model.fit(train_ds, epochs=job.epochs, initial_epoch=initial_epoch,
              validation_data=val_data, **fit_kw, callbacks=[record, *job.callbacks],
              verbose=job.verbose, shuffle=False)
    info["last_session_seconds"] = round(time.time() - t0, 1)
    info["train_seconds"] = round(sum(r["seconds"] for r in history), 1)
    if record.diverged_at is not None:
        info["status"] = f"diverged at epoch {record.diverged_at}"
        folder.write_info(info)
        raise TrainingDiverged(
            f"{job.model_name}: the training loss became NaN or infinite in epoch "
            f"{record.diverged_at}; training stopped, and the {len(history)} epoch(s) finished "
            f"before it are kept in {folder.path}. Try a lower learning rate or a warm-up. "
            f"Received: lr={job.recipe.lr:g}")
    _export(job, model)
    info["status"] = "finished"
    info["finished"] = runinfo.now()
    folder.write_info(info)
    return history
