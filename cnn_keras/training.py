"""Training recipes (the papers' optimizers and schedules) and a resumable, reproducible `train`.

The ResNet CIFAR-10 recipe (He et al. 2015, Sec. 4.2): SGD with momentum 0.9, weight decay 1e-4,
batch 128, learning rate 0.1 divided by 10 at 32k and 48k iterations, stop at 64k iterations,
He initialisation, BN, no dropout.

Weight decay "applied correctly": the paper's (Caffe/Torch) weight decay adds ``λ·w`` to each
weight's gradient *before* momentum — the gradient of the penalty ``λ/2·Σw²``. Keras'
``regularizers.l2(f)`` adds ``f·Σw²`` (gradient ``2f·w``), so λ = 1e-4 is ``l2(5e-5)``, not
``l2(1e-4)``; and the ``weight_decay`` argument of Keras 3 optimizers is *decoupled* decay
(``w -= lr·λ·w`` outside momentum, as in AdamW), which is a different algorithm once momentum is
on. `L2SGD` does the paper's version: SGD + momentum on ``grad + λ·w`` for conv/dense kernels
(biases and BN parameters are not decayed).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import re
import sys
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from cnn_keras import data as data_lib
from cnn_keras import runinfo
from cnn_keras.analysis import count_macs, count_params
from cnn_keras.registry import build, get_builder

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")


# --- Optimizer ------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="cnn_keras")
class L2SGD(keras.optimizers.SGD):
    """SGD (+ momentum) with coupled L2 weight decay: each kernel's gradient gets ``+ l2 · w``.

    This is the weight decay of the ResNet/VGG/AlexNet papers (Caffe, Torch): the update is
    ``v = m·v - lr·(g + λ·w); w += v``. Equivalent to adding ``keras.regularizers.l2(λ / 2)``
    to every kernel; different from Keras' decoupled ``weight_decay`` argument.
    """

    def __init__(self, learning_rate=0.1, momentum=0.9, l2=1e-4, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
                         **kwargs)
        if not isinstance(l2, (int, float)) or l2 < 0:
            raise ValueError(f"`l2` must be a number >= 0. Received: l2={l2!r}")
        self.l2 = float(l2)

    @staticmethod
    def _decayed(variable) -> bool:
        return variable.path.split("/")[-1] in ("kernel", "depthwise_kernel", "pointwise_kernel")

    def build(self, variables):
        super().build(variables)
        self._decay_mask = [self._decayed(v) for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        # Called per variable by every backend (JAX's stateless path too, which calls `apply`
        # without the variables).
        if self.l2 and self._decay_mask[self._get_variable_index(variable)]:
            gradient = ops.add(gradient, ops.multiply(ops.cast(self.l2, gradient.dtype),
                                                      ops.cast(variable, gradient.dtype)))
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}


def weight_decay_paths(steps: int = 30, lr: float = 0.1, momentum: float = 0.9,
                       decay: float = 0.1, w0: float = 1.0) -> dict[str, list[float]]:
    """One weight under four kinds of "weight decay", with a zero data gradient, so that only the
    decay moves it. Returns {variant: [w after 0, 1, ..., steps updates]}.

    * ``L2SGD(l2=λ)``: the papers' rule (AlexNet Sec. 5: ``v = 0.9 v - λ ε w - ε ∂L/∂w``);
    * ``SGD + l2(λ/2)``: Keras' L2 *penalty* ``λ/2·w²``, whose gradient is ``λ·w``: the same;
    * ``SGD + l2(λ)``: the common mistake, twice the decay;
    * ``SGD(weight_decay=λ)``: Keras' *decoupled* decay (``w -= lr·λ·w`` outside momentum, as in
      AdamW): a different trajectory once momentum is on.
    """
    variants = {
        "L2SGD(l2=λ)  [paper]": (lambda: L2SGD(lr, momentum, l2=decay), None),
        "SGD + regularizers.l2(λ/2)": (lambda: keras.optimizers.SGD(lr, momentum),
                                       keras.regularizers.l2(decay / 2)),
        "SGD + regularizers.l2(λ)": (lambda: keras.optimizers.SGD(lr, momentum),
                                     keras.regularizers.l2(decay)),
        "SGD(weight_decay=λ)  [decoupled]": (
            lambda: keras.optimizers.SGD(lr, momentum, weight_decay=decay), None),
    }
    x, y = np.ones((1, 1), "float32"), np.zeros((1, 1), "float32")
    paths = {}
    for label, (make_optimizer, regularizer) in variants.items():
        model = keras.Sequential([
            keras.Input((1,)),
            keras.layers.Dense(1, use_bias=False, kernel_regularizer=regularizer,
                               kernel_initializer=keras.initializers.Constant(w0)),
        ])
        model.compile(optimizer=make_optimizer(), loss=lambda t, p: 0.0 * ops.sum(p))
        path = [float(w0)]
        for _ in range(steps):
            model.train_on_batch(x, y)
            path.append(float(np.asarray(model.layers[-1].kernel).ravel()[0]))
        paths[label] = path
    return paths


# --- Recipes --------------------------------------------------------------------------------
LR_SCHEDULES = ("step", "onecycle")
FAST_EPOCHS = 32  # ResNet-20 on all 50k images: 27.4 minutes on this project's 2 CPU cores


@keras.saving.register_keras_serializable(package="cnn_keras")
class StepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The papers' step schedule: `lr`, divided by 10 at each step in `boundaries`.

    An optional warm-up covers the first `warmup_steps`: "constant" runs them at `warmup_lr`
    (the ResNet paper's 0.01 for ResNet-110), "linear" ramps from lr/warmup_steps up to `lr`.
    """

    def __init__(self, lr, boundaries=(), warmup_steps=0, warmup_lr=0.01, warmup="constant"):
        if warmup not in ("constant", "linear"):
            raise ValueError(
                f"`warmup` must be 'constant' or 'linear'. Received: warmup={warmup!r}")
        self.lr, self.boundaries = float(lr), [int(b) for b in boundaries]
        self.warmup_steps, self.warmup_lr, self.warmup = int(warmup_steps), float(warmup_lr), warmup

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr = ops.convert_to_tensor(self.lr, "float32")
        for b in self.boundaries:
            lr = ops.where(step >= b, lr * 0.1, lr)
        if self.warmup_steps:
            if self.warmup == "linear":
                warm = self.lr * (step + 1.0) / self.warmup_steps
            else:
                warm = ops.convert_to_tensor(self.warmup_lr, "float32")
            lr = ops.where(step < self.warmup_steps, warm, lr)
        return lr

    def get_config(self):
        return {"lr": self.lr, "boundaries": self.boundaries, "warmup_steps": self.warmup_steps,
                "warmup_lr": self.warmup_lr, "warmup": self.warmup}


@keras.saving.register_keras_serializable(package="cnn_keras")
class OneCycleSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate (Smith & Topin 2017, "Super-convergence"): a linear rise from
    ``lr / div`` to ``lr`` over the first `warmup_steps`, then a cosine descent to 0 at
    `total_steps` (and 0 after it). A short run spends most of its steps at a high rate and
    still ends fully annealed, which a step schedule cut to a few epochs does not.
    """

    def __init__(self, lr, total_steps, warmup_steps, div=10.0):
        if not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
            raise ValueError(f"`total_steps` must be an integer >= 1. "
                             f"Received: total_steps={total_steps!r}")
        if not isinstance(warmup_steps, (int, np.integer)) or not 0 <= warmup_steps < total_steps:
            raise ValueError(f"`warmup_steps` must be an integer in [0, total_steps={total_steps})."
                             f" Received: warmup_steps={warmup_steps!r}")
        self.lr, self.div = float(lr), float(div)
        self.total_steps, self.warmup_steps = int(total_steps), int(warmup_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        low = self.lr / self.div
        rise = low + (self.lr - low) * (step + 1.0) / max(self.warmup_steps, 1)
        done = ops.clip((step - self.warmup_steps) / (self.total_steps - self.warmup_steps), 0, 1)
        fall = 0.5 * self.lr * (1.0 + ops.cos(np.pi * done))
        return ops.where(step < self.warmup_steps, rise, fall)

    def get_config(self):
        return {"lr": self.lr, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "div": self.div}


@keras.saving.register_keras_serializable(package="cnn_keras")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing ε (Szegedy et al. 2016, Sec. 7):
    the target is ``(1 - ε)·one_hot(y) + ε / K``. Keras' sparse loss has no smoothing and its
    smoothed loss wants one-hot labels; this keeps the pipelines' integer labels."""

    def __init__(self, label_smoothing=0.1, name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(label_smoothing, (int, float)) or not 0 <= label_smoothing < 1:
            raise ValueError(f"`label_smoothing` must be a number in [0, 1). "
                             f"Received: label_smoothing={label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        y_true = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), classes,
                             dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(y_true, y_pred,
                                                     label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """An optimizer + schedule + loss.

    ``lr_schedule="step"``: learning rate `lr`, divided by 10 at each fraction of training in
    `milestones`, after an optional warm-up of `warmup_steps` iterations (or `warmup_epochs`).
    ``lr_schedule="onecycle"``: `OneCycleSchedule`, rising over the warm-up to `lr`, then a
    cosine to 0 at the end. `label_smoothing` > 0 trains on `SmoothedSparseCrossentropy`.
    """

    name: str
    epochs: int | None = None
    iterations: int | None = None  # the paper counts iterations; used when epochs is None
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple[float, ...] = (0.5, 0.75)
    warmup_steps: int = 0
    warmup_epochs: float = 0.0
    warmup: str = "constant"  # or "linear"
    warmup_lr: float = 0.01
    lr_schedule: str = "step"  # or "onecycle"
    nesterov: bool = False
    label_smoothing: float = 0.0
    low_res_size: int = 0  # progressive resizing: the first `low_res_epochs` epochs train on
    low_res_epochs: int = 0  # images resized to low_res_size^2 (see `with_low_res`)

    def __post_init__(self):
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"`lr_schedule` must be one of {list(LR_SCHEDULES)}. "
                             f"Received: lr_schedule={self.lr_schedule!r}")
        data_lib.check_low_res(self.low_res_size, self.low_res_epochs)

    def total_steps(self, steps_per_epoch: int) -> int:
        if self.iterations is not None:
            return int(self.iterations)
        return int(self.epochs) * steps_per_epoch

    def num_epochs(self, steps_per_epoch: int) -> int:
        if self.epochs is not None:
            return int(self.epochs)
        return max(1, round(self.iterations / steps_per_epoch))

    def boundaries(self, steps_per_epoch: int) -> list[int]:
        total = self.total_steps(steps_per_epoch)
        return [int(round(m * total)) for m in self.milestones]

    def schedule(self, steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
        """The learning rate as a Keras schedule of the iteration number."""
        warmup = self.warmup_steps or int(round(self.warmup_epochs * steps_per_epoch))
        if self.lr_schedule == "onecycle":
            return OneCycleSchedule(self.lr, self.total_steps(steps_per_epoch), warmup)
        return StepSchedule(self.lr, self.boundaries(steps_per_epoch), warmup, self.warmup_lr,
                            self.warmup)

    def optimizer(self, steps_per_epoch: int) -> L2SGD:
        return L2SGD(self.schedule(steps_per_epoch), momentum=self.momentum, l2=self.weight_decay,
                     nesterov=self.nesterov)

    def loss(self) -> keras.losses.Loss:
        if self.label_smoothing:
            return SmoothedSparseCrossentropy(self.label_smoothing)
        return keras.losses.SparseCategoricalCrossentropy()

    def to_dict(self, steps_per_epoch: int | None = None) -> dict:
        d = dataclasses.asdict(self)
        if steps_per_epoch:
            d["steps_per_epoch"] = steps_per_epoch
            d["total_steps"] = self.total_steps(steps_per_epoch)
            d["lr_drops_at_steps"] = self.boundaries(steps_per_epoch)
        return d


def paper_recipe(depth: int | None = None) -> Recipe:
    """He et al. 2015, Sec. 4.2: 64k iterations of batch 128, lr 0.1 -> /10 at 32k and 48k.
    ResNet-110 (and deeper) starts with lr 0.01 for 400 iterations."""
    return Recipe(name="paper", iterations=64_000, milestones=(0.5, 0.75),
                  warmup_steps=400 if (depth or 0) >= 110 else 0)


def scaled_recipe(epochs: int, batch_size: int = 128, lr: float = 0.1,
                  warmup_epochs: float = 0.0, weight_decay: float = 1e-4) -> Recipe:
    """The paper's recipe shrunk to `epochs`, keeping its shape (lr /10 at 50% and 75%).

    `warmup_epochs` adds a linear warm-up: in runs of a few hundred iterations the 56-layer nets
    are where the paper's ResNet-110 is ("0.1 is slightly too large to start converging").
    """
    name = f"scaled-{epochs}ep" + (f"-warmup{warmup_epochs:g}" if warmup_epochs else "")
    return Recipe(name=name, epochs=epochs, batch_size=batch_size, lr=lr,
                  warmup_epochs=warmup_epochs, warmup="linear", weight_decay=weight_decay)


def fast_recipe(epochs: int = FAST_EPOCHS, batch_size: int = 128, lr: float = 0.2,
                weight_decay: float = 5e-4, label_smoothing: float = 0.1,
                warmup_fraction: float = 0.15) -> Recipe:
    """ResNet-20 on CIFAR-10 in minutes: one-cycle lr (up to `lr` over the first
    `warmup_fraction` of training, cosine to 0), Nesterov momentum 0.9, label smoothing and a
    stronger weight decay for the short run. The data and augmentation stay the paper's.
    Measured in results/fast-resnet20-cpu."""
    if not 0 <= warmup_fraction < 1:
        raise ValueError(f"`warmup_fraction` must be in [0, 1). "
                         f"Received: warmup_fraction={warmup_fraction!r}")
    return Recipe(name=f"fast-{epochs}ep", epochs=epochs, batch_size=batch_size, lr=lr,
                  weight_decay=weight_decay, lr_schedule="onecycle", nesterov=True,
                  label_smoothing=label_smoothing, warmup_epochs=warmup_fraction * epochs,
                  milestones=())


def low_res_epochs(epochs: int, fraction: float = 2 / 3) -> int:
    """How many of `epochs` (>= 2) `with_low_res` trains at the low size: `fraction` of them,
    rounded, at least 1 and at most all but one."""
    return min(epochs - 1, max(1, round(fraction * epochs)))


def with_low_res(recipe: Recipe, size: int, fraction: float = 2 / 3) -> Recipe:
    """`recipe` with progressive resizing (as in fast.ai's DAWNBench runs and EfficientNetV2's
    "progressive learning"): the first `fraction` of its epochs train on the augmented images
    resized to `size` x `size`, the rest at full size, and every test pass is at full size.
    Convolutions cost in proportion to the pixels, so a 24x24 epoch of ResNet-20 took 0.58x
    the time of a 32x32 one on 2 CPU cores; the full-size epochs at the end adapt the weights
    and the batch-norm statistics to the test images' size (Touvron et al. 2019, "Fixing the
    train-test resolution discrepancy"). The model must take any image size (global pooling
    before its classifier, as ResNet, GoogLeNet, DenseNet, MobileNet and EfficientNet have).
    Measured in results/fast-resnet20-cpu-avx2-fit30-lowres24: ResNet-20, 7 of 10 epochs at
    24x24, 84.02 % after 24.4 min where 7 epochs at 32x32 reached 82.62 % after 24.2 min; 11 of
    16 epochs at 16x16 reached only 83.76 % (results/fast-resnet20-cpu-avx2-fit30-lowres16)."""
    if not 0 < fraction < 1:
        raise ValueError(f"`fraction` must be in (0, 1). Received: fraction={fraction!r}")
    epochs = recipe.epochs
    if epochs is None or epochs < 2:
        raise ValueError(f"Progressive resizing needs a recipe counted in epochs, at least 2 "
                         f"(the paper's counts iterations). Received: recipe {recipe.name!r} "
                         f"with epochs={epochs!r}")
    low = low_res_epochs(epochs, fraction)
    return dataclasses.replace(recipe, name=f"{recipe.name}-lowres{size}x{low}",
                               low_res_size=size, low_res_epochs=low)


def any_image_size(model, shape=(None, None), *, try_size: int | None = None):
    """`model` re-wired onto an input of height and width `shape` (default: any): the same
    layers and weights, under the same name. With `try_size`, the result is first run on one
    blank `try_size` x `try_size` image, and a model whose layers fix the image size (a Flatten
    before Dense layers, as in AlexNet; pooling past 1x1, as in VGG) is a ValueError naming it.
    """
    channels = model.inputs[0].shape[-1]
    inputs = keras.Input((*shape, channels), name=model.inputs[0].name)
    # `call` runs the functional graph on the new tensor: one flat model (`augment_in_model`)
    rewired = keras.Model(inputs, model.call(inputs), name=model.name)
    if try_size:
        try:
            rewired(np.zeros((1, try_size, try_size, channels), "float32"), training=False)
        except Exception as e:  # Keras' shape checks, or the backend's kernels
            lines = [ln for ln in re.sub(r"\x1b\[[0-9;]*m", "", str(e)).splitlines()
                     if ln.strip() and not ln.startswith("Exception encountered")]
            raise ValueError(
                f"Progressive resizing needs a model that takes {try_size}x{try_size} images "
                f"(global pooling before its classifier); {model.name!r} fails on them "
                f"({type(e).__name__}: {(lines or [''])[0].strip()[:300]}). "
                f"Received: low_res_size={try_size}") from None
    return rewired


# --- Resumable training ---------------------------------------------------------------------
PROGRESS = "progress.json"
PIPELINES = ("auto", "tf.data", "numpy", "layer")
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


class _Progress(keras.callbacks.Callback):
    """After each finished epoch: checkpoint (model + optimizer state), then atomically commit
    progress.json (epoch, checkpoint name, history rows), then rewrite history.csv."""

    def __init__(self, out_dir: Path, history: list[dict]):
        super().__init__()
        self.out_dir, self.history = out_dir, history
        self._t0 = time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        opt = self.model.optimizer
        lr = opt.learning_rate  # the rate for the next step; report the epoch's last step's:
        if isinstance(opt._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            lr = opt._learning_rate(opt.iterations - 1)
        row = {
            "epoch": epoch + 1,
            "loss": logs.get("loss"),
            # a model with auxiliary heads (GoogLeNet) reports its main output's accuracy
            "accuracy": logs.get("accuracy", logs.get("predictions_accuracy")),
            "val_loss": logs.get("val_loss"),
            "val_accuracy": logs.get("val_accuracy", logs.get("val_predictions_accuracy")),
            "lr": float(np.asarray(lr)),
            "seconds": round(time.time() - self._t0, 2),
        }
        self.history.append({k: (float(v) if isinstance(v, (np.floating, float)) else v)
                             for k, v in row.items()})
        ckpt = f"checkpoint-{epoch + 1:04d}.keras"
        _atomic(self.out_dir / ckpt, lambda p: self.model.save(p), suffix=".keras")
        state = {"epoch": epoch + 1, "checkpoint": ckpt, "history": self.history}
        _atomic(self.out_dir / PROGRESS, lambda p: Path(p).write_text(json.dumps(state, indent=1)))
        write_history_csv(self.out_dir / "history.csv", self.history)
        for old in self.out_dir.glob("checkpoint-*.keras"):
            if old.name != ckpt:
                old.unlink(missing_ok=True)


def _atomic(path: Path, write, suffix: str = ".tmp"):
    tmp = path.with_name(f".{path.name}.partial{suffix}")
    write(str(tmp))
    os.replace(tmp, path)


def write_history_csv(path: Path, rows: list[dict]):
    def write(p):
        with open(p, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=HISTORY_FIELDS)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k) for k in HISTORY_FIELDS})

    _atomic(Path(path), write)


def read_history_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v) if v not in ("", None) else None)
                 for k, v in row.items()} for row in csv.DictReader(f)]


def _verbose_default():
    return 1 if sys.stdout.isatty() else 2


def train(
    model_name: str,
    data: data_lib.ImageData,
    out_dir,
    *,
    recipe: Recipe,
    seed: int = 0,
    model_kwargs: dict | None = None,
    verbose: int | str = "auto",
    restart: bool = False,
    meta: dict | None = None,
    callbacks=(),
    pipeline: str = "auto",
    dtype_policy: str = "float32",
    init_from=None,
    steps_per_execution: int | str = 1,
    fused_bn: bool = True,
) -> list[dict]:
    """Train registry model `model_name` on `data` with `recipe`, writing `out_dir/history.csv`,
    `out_dir/run.json` and a checkpoint after every epoch.

    Started again with the same arguments after an interruption, it resumes after the last
    finished epoch (none lost, none repeated); a finished run returns its history at once.
    A second process given the same `out_dir` waits for the first (a lock file), then resumes.
    The same seed gives the same losses on CPU: weights are initialised from `seed`, and the
    order and augmentation of epoch e depend only on (seed, e). Returns the history rows.

    ``pipeline`` is "tf.data" (`data.train_dataset`), "numpy" (`data.NumpyTrainBatches`, for
    backends without TensorFlow, e.g. JAX on a GPU machine), "layer" (the augmentation on the
    device: `data.PadCropFlip` in front of the model, see `augment_in_model`, fed batches that
    are only shuffled, scaled and mean-subtracted) or "auto" (tf.data when TensorFlow is
    installed). ``dtype_policy`` is a Keras policy: "float32" (the papers), or
    "mixed_bfloat16" / "mixed_float16" for GPUs (BN statistics and the loss stay float32).

    ``init_from`` is the directory of a finished run of VGG configuration A: a new VGG model
    then starts from its first four convs and three FC layers (`vgg.preinitialize`, the paper's
    Sec. 3.1). A model with auxiliary outputs (``model_kwargs={"aux_logits": True}``) is
    trained with the paper's loss weights (`googlenet.compile_with_aux`); its history records
    the main output's accuracy.

    ``steps_per_execution`` (Keras ``compile``) runs that many steps per call from Python;
    "auto" takes the largest divisor of the epoch's steps up to 8, so epochs stay whole. It
    changes the speed, not the result, and measured no faster for ResNet-20 on 2 CPU cores
    (results/bench/cpu_compare-resnet20-2core-run3.log), so the default is 1. ``fused_bn``
    trains the batch-norm layers with TensorFlow's fused kernel (`fuse_batch_norm`; same math,
    1.2x faster for ResNet-20 on 2 CPU cores).
    """
    get_builder(model_name)  # ValueError for unknown names, before any work
    check_pipeline(pipeline)
    if dtype_policy not in DTYPE_POLICIES:
        raise ValueError(f"`dtype_policy` must be one of {list(DTYPE_POLICIES)}. "
                         f"Received: dtype_policy={dtype_policy!r}")
    if pipeline == "auto":
        pipeline = "numpy" if data_lib.tf is None else "tf.data"
    data_lib.check_low_res(recipe.low_res_size, recipe.low_res_epochs, data.x_train.shape[1:3])
    if recipe.low_res_epochs and pipeline != "tf.data":
        raise ValueError(f"Progressive resizing (recipe {recipe.name!r}) is done by the tf.data "
                         f"pipeline: `pipeline` must be 'tf.data' or 'auto' with TensorFlow "
                         f"installed. Received: pipeline={pipeline!r}")
    out_dir = Path(out_dir)
    if verbose == "auto":
        verbose = _verbose_default()
    model_kwargs = dict(model_kwargs or {})
    steps = data_lib.steps_per_epoch(len(data.x_train), recipe.batch_size)
    epochs = recipe.num_epochs(steps)
    spe = _steps_per_execution(steps_per_execution, steps)
    config = {
        "model": model_name,
        "model_kwargs": model_kwargs,
        "recipe": recipe.to_dict(steps),
        "epochs": epochs,
        "seed": seed,
        "dataset": data.describe(),
        "dtype_policy": dtype_policy,
        "augment_in_model": pipeline == "layer",  # the checkpoints hold a PadCropFlip layer
        # relative to the run, so that a moved or copied experiment folder still resumes
        "init_from": None if init_from is None else os.path.relpath(Path(init_from).resolve(),
                                                                    out_dir.resolve()),
    }
    if init_from is not None and not (Path(init_from) / PROGRESS).exists():
        raise ValueError(f"`init_from` must be the directory of a finished training run (with "
                         f"{PROGRESS}). Received: init_from={str(init_from)!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with _one_run_at_a_time(out_dir, verbose):
        run_json = out_dir / "run.json"
        progress_file = out_dir / PROGRESS
        if restart:
            for p in [progress_file, run_json, out_dir / "history.csv",
                      *out_dir.glob("checkpoint-*.keras")]:
                p.unlink(missing_ok=True)

        state = json.loads(progress_file.read_text()) if progress_file.exists() else None
        if state is not None:
            old = json.loads(run_json.read_text()).get("config", {}) if run_json.exists() else {}
            if _comparable(old) != _comparable(config):
                raise ValueError(
                    f"{out_dir} holds a run with other settings, so it cannot be resumed with "
                    f"these. Use another output directory, or restart=True (--restart) to "
                    f"discard it. "
                    f"Saved: {_comparable(old)}; Received: {_comparable(config)}"
                )
            history = state["history"]
            initial_epoch = int(state["epoch"])
            info = json.loads(run_json.read_text())
            info.setdefault("resumed", []).append({"at_epoch": initial_epoch,
                                                   "time": runinfo.now()})
        else:
            history, initial_epoch = [], 0
            info = {**runinfo.run_metadata(), **(meta or {}), "config": config, "status": "running"}

        if initial_epoch >= epochs:
            if verbose:
                print(f"{model_name}: all {epochs} epochs already finished in {out_dir}")
            write_history_csv(out_dir / "history.csv", history)
            return history

        keras.utils.set_random_seed(seed)
        info["input_pipeline"] = pipeline
        info["steps_per_execution"] = spe
        info["backend"] = keras.backend.backend()
        previous_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(dtype_policy)
        try:
            return _fit(model_name, data, out_dir, recipe, seed, model_kwargs, verbose, callbacks,
                        pipeline, state, history, initial_epoch, epochs, steps, info, run_json,
                        init_from, spe, fused_bn)
        finally:
            keras.config.set_dtype_policy(previous_policy)


@contextlib.contextmanager
def _one_run_at_a_time(out_dir: Path, verbose):
    """Hold `out_dir/.train.lock` while training into `out_dir`. A second process started on
    the same folder (two notebooks that share a run, or a command typed twice) waits, then
    resumes or reads back what the first left, instead of both writing the same checkpoints.
    (No lock where `fcntl` is missing, i.e. on Windows.)"""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(out_dir / ".train.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if verbose:
                print(f"{out_dir}: another process is training here; waiting for it", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _fit(model_name, data, out_dir, recipe, seed, model_kwargs, verbose, callbacks, pipeline,
         state, history, initial_epoch, epochs, steps, info, run_json, init_from, spe,
         fused_bn):
    if state is not None:
        model = keras.models.load_model(out_dir / state["checkpoint"])
        model.steps_per_execution = spe
        if verbose:
            print(f"{model_name}: resuming after epoch {initial_epoch}/{epochs} from {out_dir}")
    else:
        model = build(model_name, input_shape=data.x_train.shape[1:],
                      classes=len(data.class_names), **model_kwargs)
        info["macs"] = count_macs(model)  # multiply-adds per image (conv + dense); a resumed
        # run keeps the number in its run.json (with `any_image_size` the input has no size)
        if pipeline == "layer":
            model = augment_in_model(model, seed)
        if recipe.low_res_epochs:
            model = any_image_size(model, try_size=recipe.low_res_size)
        if init_from is not None:
            from cnn_keras.models.vgg import preinitialize

            info["preinitialized_layers"] = preinitialize(model, load_checkpoint_model(init_from))
        compile_kw = {
            "optimizer": recipe.optimizer(steps),
            "loss": recipe.loss(),
            "metrics": ["accuracy"],
            # TensorFlow on CPU: XLA measured slower; JAX: jit is what makes it fast.
            "jit_compile": False if keras.backend.backend() == "tensorflow" else "auto",
            "steps_per_execution": spe,
        }
        if len(model.outputs) > 1:
            from cnn_keras.models.googlenet import compile_with_aux

            compile_with_aux(model, **compile_kw)
        else:
            model.compile(**compile_kw)
    info["fused_batch_norm_layers"] = fuse_batch_norm(model) if fused_bn else 0
    outputs = len(model.outputs)
    info["params"] = count_params(model)
    _atomic(run_json, lambda p: Path(p).write_text(json.dumps(info, indent=1)))

    mean = data_lib.per_pixel_mean(data.x_train)
    if pipeline == "tf.data":
        train_ds = data_lib.train_dataset(data.x_train, data.y_train, mean=mean, seed=seed,
                                          batch_size=recipe.batch_size, epochs=epochs,
                                          initial_epoch=initial_epoch,
                                          low_res_size=recipe.low_res_size,
                                          low_res_epochs=recipe.low_res_epochs)
        val_ds = data_lib.eval_dataset(data.x_test, data.y_test, batch_size=256, mean=mean)
        if outputs > 1:  # the same labels for every head
            train_ds, val_ds = (ds.map(lambda x, y: (x, (y,) * outputs))
                                for ds in (train_ds, val_ds))
        fit_kw = {"steps_per_epoch": steps}
    else:
        train_ds = data_lib.NumpyTrainBatches(data.x_train, data.y_train, mean=mean, seed=seed,
                                              batch_size=recipe.batch_size,
                                              initial_epoch=initial_epoch, label_copies=outputs,
                                              augment=pipeline == "numpy")
        x_val, y_val = data_lib.eval_arrays(data.x_test, data.y_test, mean=mean)
        val_ds = (x_val, y_val if outputs == 1 else (y_val,) * outputs)
        fit_kw = {"validation_batch_size": 256}
    _build_training_state(model, data.x_train[:1], data.y_train[:1], outputs)
    t0 = time.time()
    model.fit(
        train_ds,
        epochs=epochs,
        initial_epoch=initial_epoch,
        validation_data=val_ds,
        **fit_kw,
        callbacks=[_Progress(out_dir, history), *callbacks],
        verbose=verbose,
        shuffle=False,
    )
    info["status"] = "finished"
    info["finished"] = runinfo.now()
    info["train_seconds"] = round(sum(r["seconds"] for r in history), 1)
    info["last_session_seconds"] = round(time.time() - t0, 1)
    _atomic(run_json, lambda p: Path(p).write_text(json.dumps(info, indent=1)))
    return history


def _build_training_state(model, x, y, outputs: int) -> None:
    """Create the loss, metric and optimizer variables before the first step.

    Keras does this before `fit` on JAX and PyTorch (`Trainer._symbolic_build`, shapes only),
    but on TensorFlow without a distribution strategy it leaves it to the traced train step,
    and TensorFlow then traces that step twice (the first trace only creates variables).
    Measured on 2 Zen 3 cores, a first `fit` of two batches (traces included): plain-56
    29.0 -> 14.2 s, ResNet-20 8.8 -> 6.1 s; `cnn-keras degradation --mode quick` 137 -> 96 s
    with the same losses (the variables made early are the same zeros)."""
    batch = (np.asarray(x, "float32"), y if outputs == 1 else (y,) * outputs)
    symbolic_build = getattr(model, "_symbolic_build", None)  # private (Keras 3.15 has it)
    if symbolic_build is not None:
        symbolic_build(data_batch=batch)
    elif not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def check_pipeline(pipeline) -> None:
    """ValueError unless `pipeline` is one of `PIPELINES`."""
    if pipeline not in PIPELINES:
        raise ValueError(f"`pipeline` must be one of {list(PIPELINES)}. "
                         f"Received: pipeline={pipeline!r}")


def augment_in_model(model, seed: int | None = None):
    """`model` with `data.PadCropFlip(seed=seed)` in front: the same layers and weights,
    re-wired behind the augmentation, under the same name. The layer is the identity at
    inference, so the result predicts like `model`; in ``fit`` it augments each batch on the
    device (the ``pipeline="layer"`` of `train`)."""
    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        raise ValueError(f"`model` must be a Keras model with one input. Received: model={model!r}")
    inputs = keras.Input(model.inputs[0].shape[1:], name=model.inputs[0].name)
    augmented = data_lib.PadCropFlip(seed=seed, name="pad_crop_flip")(inputs)
    # `call` (not `__call__`) runs the functional graph layer by layer on the new tensor, so the
    # result is one flat functional model, not `model` nested as a single layer
    return keras.Model(inputs, model.call(augmented), name=model.name)


def fuse_batch_norm(model) -> int:
    """On TensorFlow, train `model`'s BatchNormalization layers with TensorFlow's fused kernel.

    Keras 3 computes batch norm from separate ops (moments, then normalise), several passes over
    each activation forward and backward; TensorFlow's `FusedBatchNormV3` does one each (oneDNN
    on CPU). Measured on 2 cores, the 19 BN layers of ResNet-20 at batch 128 take ~104 ms per
    training step unfused and ~31 ms fused (forward + backward). The math is the layer's own:
    batch mean and biased variance, the same moving-average update, the same epsilon; inference
    and the saved model are untouched (only this instance's `call` is replaced, in training
    mode). Layers the kernel cannot do (not 4-D channels-last, no scale/centre, renorm,
    synchronized) keep Keras' path. Returns how many layers were fused.
    """
    if keras.backend.backend() != "tensorflow":
        return 0
    fused = 0
    for layer in model._flatten_layers(include_self=False):
        if (type(layer) is keras.layers.BatchNormalization and layer.center and layer.scale
                and not layer.renorm and not layer.synchronized and _rank(layer) == 4
                and layer.axis in (-1, 3) and not getattr(layer, "_cnn_keras_fused", False)):
            layer.call = _fused_call(layer)
            layer._cnn_keras_fused = True
            fused += 1
    return fused


def _rank(layer):
    try:  # a layer used more than once has no single input
        return len(layer.input.shape)
    except (AttributeError, ValueError):
        return None


def _fused_call(layer):
    import tensorflow as tf

    keras_call = layer.call

    def call(inputs, training=None, mask=None):
        if not (training and layer.trainable) or mask is not None:
            return keras_call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, "float32")
        empty = tf.constant([], "float32")
        # the raw op: tf.nn's wrapper would raise epsilon to cuDNN's minimum 1.001e-5
        y, mean, var = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=tf.cast(layer.gamma, "float32"), offset=tf.cast(layer.beta, "float32"),
            mean=empty, variance=empty, epsilon=layer.epsilon, data_format="NHWC",
            is_training=True)[:3]
        n = tf.cast(tf.size(x) // tf.shape(x)[-1], "float32")
        mean, var = tf.stop_gradient(mean), tf.stop_gradient(var * (n - 1.0) / n)  # biased
        m = layer.momentum
        layer.moving_mean.assign(layer.moving_mean * m + tf.cast(mean, layer.moving_mean.dtype)
                                 * (1.0 - m))
        layer.moving_variance.assign(layer.moving_variance * m
                                     + tf.cast(var, layer.moving_variance.dtype) * (1.0 - m))
        return tf.cast(y, inputs.dtype)

    return call


def _steps_per_execution(value, steps: int) -> int:
    if value == "auto":
        return max(d for d in range(1, 9) if steps % d == 0)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`steps_per_execution` must be 'auto' or an integer >= 1. "
                         f"Received: steps_per_execution={value!r}")
    if steps % value:
        raise ValueError(f"`steps_per_execution` must divide the {steps} steps of an epoch, so "
                         f"that epochs stay whole. Received: steps_per_execution={value}")
    return int(value)


def _comparable(config: dict) -> dict:
    keys = ("model", "model_kwargs", "epochs", "seed", "init_from")
    out = {k: config.get(k) for k in keys}
    out["dtype_policy"] = config.get("dtype_policy", "float32")  # runs recorded before it existed
    out["augment_in_model"] = config.get("augment_in_model", False)
    recipe = config.get("recipe") or {}
    out["recipe"] = {k: recipe.get(k) for k in ("name", "batch_size", "lr", "total_steps",
                                                 "warmup_steps", "warmup_epochs",
                                                 "weight_decay")}
    for k, default in (("lr_schedule", "step"), ("nesterov", False), ("label_smoothing", 0.0),
                       ("low_res_size", 0), ("low_res_epochs", 0)):
        out["recipe"][k] = recipe.get(k, default)  # runs recorded before these existed
    ds = config.get("dataset") or {}
    out["dataset"] = {k: ds.get(k) for k in ("num_train", "num_test")}
    return json.loads(json.dumps(out))


def load_checkpoint_model(out_dir):
    """The model of the last finished epoch of a run directory."""
    state = json.loads((Path(out_dir) / PROGRESS).read_text())
    return keras.models.load_model(Path(out_dir) / state["checkpoint"])

