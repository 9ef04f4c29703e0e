"""Training: recipes as data, the papers' optimizer, schedules and losses, model surgery, and a
resumable `train` that records each run in a run folder.

    recipes.py    Recipe, paper_recipe, scaled_recipe, fast_recipe, with_low_res (Keras-free)
    imagenet_recipes.py  the papers' ImageNet recipes, every value sourced (Keras-free)
    optim.py      L2SGD, L2RMSprop (coupled weight decay), GroupSGD (PyTorch-style groups),
                  weight_decay_paths
    schedules.py  StepSchedule, OneCycleSchedule, EpochSchedule, TriangleSchedule
    distribute.py data_parallel (MirroredStrategy / keras.distribution), join (several hosts),
                  synchronize_batch_norm
    losses.py     SmoothedSparseCrossentropy
    surgery.py    augment_in_model, any_image_size
    folder.py     RunFolder (checkpoint, progress, history, lock), history files (Keras-free)
    export.py     with_preprocessing: the finished model for raw [0, 255] images (model.keras)
    run.py        train, Engine

(airbench's CIFAR-10 speedrun recipe and its training loop are `cnn_keras.speedrun`.)
The names are imported on first use, so `cnn_keras.training.recipes` (and this package) can be
imported without Keras or TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_WHERE = {
    "recipes": ("FAST_EPOCHS", "LR_SCHEDULES", "Recipe", "fast_recipe", "low_res_epochs",
                "paper_recipe", "scaled_recipe", "with_low_res"),
    "imagenet_recipes": ("ImageNetRecipe", "IMAGENET_RECIPES"),
    "distribute": ("data_parallel", "join", "synchronize_batch_norm"),
    "optim": ("GroupSGD", "L2RMSprop", "L2SGD", "weight_decay_paths"),
    "schedules": ("EpochSchedule", "OneCycleSchedule", "StepSchedule", "TriangleSchedule"),
    "losses": ("SmoothedSparseCrossentropy",),
    "surgery": ("any_image_size", "augment_in_model"),
    "folder": ("HISTORY_FIELDS", "PROGRESS", "RunFolder", "load_checkpoint_model",
               "read_history_csv", "write_history_csv"),
    "export": ("MODEL_FILE", "save_with_preprocessing", "with_preprocessing"),
    "run": ("DTYPE_POLICIES", "PIPELINES", "Engine", "TrainingDiverged", "jit_compile_default",
            "train"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
_MODULE_OF["fuse_batch_norm"] = "cnn_keras.backends.tensorflow"
_MODULE_OF["compile_activations"] = "cnn_keras.backends.tensorflow"
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name in _WHERE:  # a submodule: training.recipes, training.losses, ...
        return importlib.import_module(f"{__name__}.{name}")
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    path = module if "." in module else f"{__name__}.{module}"
    value = getattr(importlib.import_module(path), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and IDEs see
    from cnn_keras.backends.tensorflow import compile_activations, fuse_batch_norm  # noqa: F401
    from cnn_keras.training.folder import (  # noqa: F401
        HISTORY_FIELDS, PROGRESS, RunFolder, load_checkpoint_model, read_history_csv,
        write_history_csv)
    from cnn_keras.training.losses import SmoothedSparseCrossentropy  # noqa: F401
    from cnn_keras.training.distribute import (  # noqa: F401
        data_parallel, join, synchronize_batch_norm)
    from cnn_keras.training.imagenet_recipes import (  # noqa: F401
        IMAGENET_RECIPES, ImageNetRecipe)
    from cnn_keras.training.optim import (  # noqa: F401
        GroupSGD, L2RMSprop, L2SGD, weight_decay_paths)
    from cnn_keras.training.recipes import (  # noqa: F401
        FAST_EPOCHS, LR_SCHEDULES, Recipe, fast_recipe, low_res_epochs, paper_recipe,
        scaled_recipe, with_low_res)
    from cnn_keras.training.run import (  # noqa: F401
        DTYPE_POLICIES, PIPELINES, Engine, TrainingDiverged, jit_compile_default, train)
    from cnn_keras.training.schedules import (  # noqa: F401
        EpochSchedule, OneCycleSchedule, StepSchedule, TriangleSchedule)
    from cnn_keras.training.surgery import any_image_size, augment_in_model  # noqa: F401
