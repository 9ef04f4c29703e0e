"""The ablations of notebooks 01-07: `run("vgg", "demo")` trains one study of `studies.ABLATIONS`
with the one runner (`runner.run`); the names the notebooks use, in one place."""

from __future__ import annotations

from cnn_keras import training
from cnn_keras.experiments.runner import (  # noqa: F401  (re-exported)
    SUMMARY_FIELDS,
    epochs_to_error,
    load,
    load_data,
    print_summary,
    recipe,
)
from cnn_keras.experiments.runner import run as _run
from cnn_keras.experiments.studies import ABLATIONS, MODES, Ablation, Study, Variant  # noqa: F401
from cnn_keras.checks import check_choice


def get(name: str) -> Ablation:
    """The ablation called `name` (a key of `ABLATIONS`)."""
    check_choice("name", name, ABLATIONS)
    return ABLATIONS[name]


def run(name: str | Ablation, mode: str = "demo", out_dir=None, *, data_dir=None, seed: int = 0,
        epochs: int | None = None, variants=None, dtype_policy: str = "float32",
        steps_per_execution: int | str = 1, verbose="auto", data=None) -> list[dict]:
    """Train the variants of an ablation (`runner.run`); default out_dir
    runs/ablation-NAME-MODE. Returns the summary rows. `steps_per_execution`: see
    `training.Engine`."""
    study = name if isinstance(name, Ablation) else get(name)
    engine = training.Engine(dtype_policy=dtype_policy, steps_per_execution=steps_per_execution)
    return _run(study, mode, out_dir, data_dir=data_dir, seed=seed, epochs=epochs,
                variants=variants, engine=engine, verbose=verbose, data=data)
