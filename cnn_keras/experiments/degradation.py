"""The degradation experiment of He et al. 2015 (Fig. 6): plain-20/56 vs ResNet-20/56 on CIFAR-10.

Deeper *plain* nets have higher **training** error than shallower ones — not overfitting, an
optimisation difficulty — while the same nets with identity shortcuts do not degrade. It is the
study `studies.DEGRADATION`, trained by the one runner; this module keeps its names.

Modes: ``quick`` (a smoke run for CI: a few hundred images, 2 epochs), ``demo`` (a balanced
10k-image subset, 2k test images, the paper's recipe scaled to 6 epochs with a one-epoch linear
warm-up; minutes on 2 CPU cores) and ``full`` (the paper's recipe: 64k iterations of batch 128 on
all 50k images, lr 0.1 /10 at 32k and 48k, weight decay 1e-4, momentum 0.9; for a GPU).
"""

from __future__ import annotations

from cnn_keras import training
from cnn_keras.experiments import runner
from cnn_keras.experiments.runner import degradation_shown  # noqa: F401  (re-exported)
from cnn_keras.experiments.studies import DEGRADATION, MODES  # noqa: F401
from cnn_keras.registry import model_info

MODELS = tuple(v.model for v in DEGRADATION.variants)


def mode_settings(mode: str) -> dict:
    """The mode's data size, epochs, batch size and warm-up."""
    runner.check_mode(mode)
    num_train, num_test = DEGRADATION.sizes[mode]
    return {"num_train": num_train, "num_test": num_test, "epochs": DEGRADATION.epochs[mode],
            "batch_size": DEGRADATION.batch_size[mode],
            "warmup_epochs": DEGRADATION.warmup(mode)}


def recipe_for(mode: str, model: str, epochs: int | None = None,
               warmup_epochs: float | None = None) -> training.Recipe:
    """The mode's recipe for `model`; `epochs` scales the paper's schedule to that length."""
    return runner.recipe(DEGRADATION, mode, epochs, model=model, warmup_epochs=warmup_epochs)


def run(mode: str = "demo", out_dir=None, *, data_dir=None, seed: int = 0, models=MODELS,
        epochs: int | None = None, warmup_epochs: float | None = None,
        dtype_policy: str = "float32", pipeline: str = "auto",
        steps_per_execution: int | str = 1, verbose="auto", data=None) -> list[dict]:
    """Train `models` (a selection of `MODELS`) and write out_dir/<model>/, summary.csv,
    degradation.png and run.json. Returns the summary rows; resumes an interrupted run."""
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"`models` must be a non-empty selection of {list(MODELS)}. "
                         f"Received: models={list(models)}")
    engine = training.Engine(pipeline=pipeline, dtype_policy=dtype_policy,
                             steps_per_execution=steps_per_execution)
    return runner.run(DEGRADATION, mode, out_dir, data_dir=data_dir, seed=seed, epochs=epochs,
                      warmup_epochs=warmup_epochs, variants=list(models), engine=engine,
                      verbose=verbose, data=data)


def paper_comparison(rows: list[dict]) -> list[dict]:
    """Summary rows next to the paper's Table 6 test error (ResNets only; the paper gives the
    plain nets as curves in Fig. 6, not numbers)."""
    from cnn_keras.models.resnet import PAPER_CIFAR10_ERRORS

    out = []
    for r in rows:
        info = model_info(r["model"])
        paper = (PAPER_CIFAR10_ERRORS.get(info["depth"], (None, None))[1]
                 if info.get("residual") else None)
        out.append({"model": r["model"], "epochs": r["epochs"],
                    "train error %": r["final_train_error"], "test error %": r["final_test_error"],
                    "paper test error %": "-" if paper is None else paper,
                    "seconds": r["train_seconds"]})
    return out
