"""Learning-rate schedules of the recipes, as Keras schedules of the iteration number."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from cnn_keras.checks import check_choice, check_int, fail


@keras.saving.register_keras_serializable(package="cnn_keras")
class StepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The papers' step schedule: `lr`, divided by 10 at each step in `boundaries`.

    An optional warm-up covers the first `warmup_steps`: "constant" runs them at `warmup_lr`
    (the ResNet paper's 0.01 for ResNet-110), "linear" ramps from lr/warmup_steps up to `lr`.
    Keras' `PiecewiseConstantDecay` has no warm-up and wants every value spelled out; this is
    the papers' rule in one line of arguments.
    """

    def __init__(self, lr, boundaries=(), warmup_steps=0, warmup_lr=0.01, warmup="constant"):
        check_choice("warmup", warmup, ("constant", "linear"))
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
    `total_steps` (and 0 after it).

    Kept beside Keras' `CosineDecay(lr / div, total - warmup, warmup_target=lr, warmup_steps=
    warmup)`: the two agree after the warm-up, but this one reaches `lr` on the warm-up's last
    step (Keras' one step later), and the recorded fast-recipe runs, which a resumed run must
    continue exactly, were trained on it. The one-step offset is pinned by a test.
    """

    def __init__(self, lr, total_steps, warmup_steps, div=10.0):
        check_int("total_steps", total_steps)
        if not isinstance(warmup_steps, (int, np.integer)) or not 0 <= warmup_steps < total_steps:
            fail(f"`warmup_steps` must be an integer in [0, total_steps={total_steps}).",
                 warmup_steps=warmup_steps)
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
class EpochSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The ImageNet recipes' learning rate (`imagenet_recipes`) as a function of the iteration:
    a linear warm-up over `warmup_epochs` (from lr / warmup steps up to `lr`), then either
    ``step`` (divided by 10 at each epoch in `milestones`) or ``exponential`` (times
    `decay_rate` every `decay_epochs`, counted from the first step, staircase)."""

    def __init__(self, lr, steps_per_epoch, kind="step", milestones=(), decay_rate=1.0,
                 decay_epochs=1.0, warmup_epochs=0.0):
        check_choice("kind", kind, ("step", "exponential"))
        check_int("steps_per_epoch", steps_per_epoch)
        self.lr, self.steps_per_epoch, self.kind = float(lr), int(steps_per_epoch), kind
        self.milestones = [float(m) for m in milestones]
        self.decay_rate, self.decay_epochs = float(decay_rate), float(decay_epochs)
        self.warmup_epochs = float(warmup_epochs)

    @classmethod
    def from_recipe(cls, recipe, steps_per_epoch: int) -> EpochSchedule:
        return cls(recipe.lr, steps_per_epoch, recipe.lr_schedule, recipe.milestones,
                   recipe.decay_rate, recipe.decay_epochs, recipe.warmup_epochs)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        epoch = step / self.steps_per_epoch
        if self.kind == "step":
            lr = ops.convert_to_tensor(self.lr, "float32")
            for m in self.milestones:
                lr = ops.where(epoch >= m, lr * 0.1, lr)
        else:
            lr = self.lr * ops.power(self.decay_rate, ops.floor(epoch / self.decay_epochs))
        warmup_steps = self.warmup_epochs * self.steps_per_epoch
        if warmup_steps:
            lr = ops.where(step < warmup_steps, self.lr * (step + 1.0) / warmup_steps, lr)
        return lr

    def get_config(self):
        return {"lr": self.lr, "steps_per_epoch": self.steps_per_epoch, "kind": self.kind,
                "milestones": self.milestones, "decay_rate": self.decay_rate,
                "decay_epochs": self.decay_epochs, "warmup_epochs": self.warmup_epochs}


def schedule_for(recipe, steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """`recipe`'s learning rate (a `recipes.Recipe`) for an epoch of `steps_per_epoch`."""
    warmup = recipe.warmup_iterations(steps_per_epoch)
    if recipe.lr_schedule == "onecycle":
        return OneCycleSchedule(recipe.lr, recipe.total_steps(steps_per_epoch), warmup)
    return StepSchedule(recipe.lr, recipe.boundaries(steps_per_epoch), warmup, recipe.warmup_lr,
                        recipe.warmup)


@keras.saving.register_keras_serializable(package="cnn_keras")
class TriangleSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """airbench's schedule (`training.speedrun`): the rate rises linearly from ``start·lr`` to
    `lr` over the first ``warmup_fraction`` of `total_steps` (the warm-up counts
    ``int(warmup_fraction · total_steps)`` steps), then falls linearly to ``end·lr`` at the
    last step."""

    def __init__(self, lr, total_steps, warmup_fraction=0.23, start=0.2, end=0.07):
        check_int("total_steps", total_steps, minimum=2)
        self.lr, self.total_steps = float(lr), int(total_steps)
        self.warmup_fraction, self.start, self.end = (float(warmup_fraction), float(start),
                                                      float(end))
        self.warmup_steps = max(1, int(total_steps * warmup_fraction))

    def __call__(self, step):
        step = ops.cast(step, "float32")
        rise = ops.clip(step / self.warmup_steps, 0.0, 1.0)
        fall = ops.clip((step - self.warmup_steps) / (self.total_steps - self.warmup_steps),
                        0.0, 1.0)
        factor = ops.where(step < self.warmup_steps,
                           self.start + (1.0 - self.start) * rise,
                           1.0 + (self.end - 1.0) * fall)
        return self.lr * factor

    def get_config(self):
        return {"lr": self.lr, "total_steps": self.total_steps,
                "warmup_fraction": self.warmup_fraction, "start": self.start, "end": self.end}
