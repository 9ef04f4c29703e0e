"""Training recipes as data: the papers' optimizer, schedule and loss settings, and their
arithmetic (steps, learning-rate drops, progressive-resizing split).

Keras-free on purpose: a benchmark script or the command line can size a schedule without
importing TensorFlow. `Recipe.schedule`, `.optimizer` and `.loss` build the Keras objects
(`schedules`, `optim`, `losses`) when asked.

The ResNet CIFAR-10 recipe (He et al. 2015, Sec. 4.2): SGD with momentum 0.9, weight decay 1e-4,
batch 128, learning rate 0.1 divided by 10 at 32k and 48k iterations, stop at 64k iterations,
He initialisation, BN, no dropout.
"""

from __future__ import annotations

import dataclasses

from cnn_keras.checks import (check_bool, check_choice, check_int, check_low_res, check_number,
                              check_scale_jitter, fail)

LR_SCHEDULES = ("step", "onecycle")
WARMUPS = ("constant", "linear")
FAST_EPOCHS = 32  # the fast recipe's default length (its record: docs/training-fast.md)


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
    augment: bool = True  # the pad-crop-flip augmentation (off: AlexNet's Fig. 1, "no
    # regularization of any kind")
    scale_jitter: tuple[int, int] | None = None  # VGG's multi-scale training (Sec. 3.1) on
    # top of it: each image rescaled to a random side S in [S_min, S_max], then a random crop
    # of the images' size (`augment.scale_jitter`); None: off

    def __post_init__(self):
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("warmup", self.warmup, WARMUPS)
        if self.epochs is None and self.iterations is None:
            fail("A recipe needs `epochs` or `iterations`.", epochs=self.epochs)
        if self.epochs is not None:
            check_int("epochs", self.epochs)
        if self.iterations is not None:
            check_int("iterations", self.iterations)
        check_int("batch_size", self.batch_size)
        check_number("lr", self.lr, low=0, low_open=True)
        check_number("momentum", self.momentum, low=0, high=1, high_open=True)
        check_number("weight_decay", self.weight_decay, low=0)
        # a warm-up may span a whole smoke run (quick modes: 1 epoch, 1 warm-up epoch), no more
        check_number("warmup_epochs", self.warmup_epochs, low=0, high=self.epochs)
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_number("warmup_lr", self.warmup_lr, low=0, low_open=True)
        check_number("label_smoothing", self.label_smoothing, low=0, high=1, high_open=True)
        for m in self.milestones:
            check_number("milestones", m, low=0, high=1)
        check_low_res(self.low_res_size, self.low_res_epochs)
        check_bool("augment", self.augment)
        check_bool("nesterov", self.nesterov)
        # a tuple, whatever sequence it came as (JSON gives lists): recipes compare equal
        object.__setattr__(self, "scale_jitter", check_scale_jitter(self.scale_jitter))
        if self.scale_jitter and not self.augment:
            fail(f"`augment` must be True with scale_jitter={self.scale_jitter}: scale "
                 "jittering is part of the augmentation.", augment=self.augment)

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

    def warmup_iterations(self, steps_per_epoch: int) -> int:
        return self.warmup_steps or int(round(self.warmup_epochs * steps_per_epoch))

    def schedule(self, steps_per_epoch: int):
        """The learning rate as a Keras schedule of the iteration number."""
        from cnn_keras.training.schedules import schedule_for

        return schedule_for(self, steps_per_epoch)

    def optimizer(self, steps_per_epoch: int):
        """`L2SGD` on this recipe's schedule (the papers' coupled weight decay)."""
        from cnn_keras.training.optim import L2SGD

        return L2SGD(self.schedule(steps_per_epoch), momentum=self.momentum,
                     l2=self.weight_decay, nesterov=self.nesterov)

    def loss(self, from_logits: bool = False):
        """The recipe's loss for a model that outputs probabilities (or logits)."""
        from cnn_keras.training.losses import loss_for

        return loss_for(self, from_logits=from_logits)

    def to_dict(self, steps_per_epoch: int | None = None) -> dict:
        d = dataclasses.asdict(self)
        # recorded only when not the default, so the runs recorded before them still resume
        if d["augment"]:
            del d["augment"]
        if d["scale_jitter"] is None:
            del d["scale_jitter"]
        if steps_per_epoch:
            d["steps_per_epoch"] = steps_per_epoch
            d["total_steps"] = self.total_steps(steps_per_epoch)
            d["lr_drops_at_steps"] = self.boundaries(steps_per_epoch)
        return d


def paper_recipe(depth: int | None = None) -> Recipe:
    """He et al. 2015, Sec. 4.2: 64k iterations of batch 128, lr 0.1 -> /10 at 32k and 48k.
    ResNet-110 (and deeper) starts with lr 0.01 for 400 iterations."""
    if depth is not None:
        check_int("depth", depth)
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
    stronger weight decay for the short run. The data and augmentation stay the paper's."""
    check_number("warmup_fraction", warmup_fraction, low=0, high=1, high_open=True)
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
    Convolutions cost in proportion to the pixels, so the low-resolution epochs are cheaper;
    the full-size epochs at the end adapt the weights and the batch-norm statistics to the
    test images' size (Touvron et al. 2019, "Fixing the train-test resolution discrepancy").
    The model must take any image size (global pooling before its classifier, as ResNet,
    GoogLeNet, DenseNet, MobileNet and EfficientNet have). Measured: docs/training-fast.md."""
    check_number("fraction", fraction, low=0, high=1, low_open=True, high_open=True)
    epochs = recipe.epochs
    if epochs is None or epochs < 2:
        raise ValueError(f"Progressive resizing needs a recipe counted in epochs, at least 2 "
                         f"(the paper's counts iterations). Received: recipe {recipe.name!r} "
                         f"with epochs={epochs!r}")
    low = low_res_epochs(epochs, fraction)
    return dataclasses.replace(recipe, name=f"{recipe.name}-lowres{size}x{low}",
                               low_res_size=size, low_res_epochs=low)
