"""The checks of `cnn-keras` that relate options to each other, one small function per concern
(`_CHECKS`), run before any data is loaded."""

from __future__ import annotations

import os
from pathlib import Path

from cnn_keras.cli.parser import (
    CIFAR10_SIZE,
    PAPER_BATCH_SIZE,
    SCALED_EPOCHS,
    _check_out_path,
    _reject,
)


def _train_epochs(args) -> int | None:
    """The epochs `train` will run (None: the paper recipe, counted in iterations)."""
    if args.recipe == "paper":
        return None
    if args.recipe == "imagenet-paper":
        return args.epochs
    if args.recipe == "fast":
        from cnn_keras.training.recipes import FAST_EPOCHS  # Keras-free

        return args.epochs or FAST_EPOCHS
    return args.epochs or SCALED_EPOCHS


def _train_batch_size(args) -> int:
    return args.batch_size or PAPER_BATCH_SIZE


def _check_recipe_options(args) -> None:
    """Options a recipe does not use are an error, not silently ignored."""
    if args.recipe == "imagenet-paper":
        _check_imagenet_options(args)
    elif args.image_size is not None or args.tfds:
        option, value = ("--tfds", args.tfds) if args.tfds else ("--image-size", args.image_size)
        _reject(f"`{option}` is only used by --recipe imagenet-paper (streamed image folders "
                "and TFDS datasets).", option, value, f"--recipe {args.recipe}")
    if args.recipe == "paper":
        for option, value in (("--lr", args.lr), ("--batch-size", args.batch_size),
                              ("--epochs", args.epochs)):
            if value is not None:
                _reject(f"`{option}` is not used by --recipe paper (the paper's SGD: batch 128, "
                        "lr 0.1, 64k iterations); use --recipe scaled to set it.", option, value,
                        "--recipe paper")
    if args.image_folder and args.data_dir is not None:
        _reject("`--data-dir` is where CIFAR-10 is read from; with --image-folder the images "
                "come from that folder: give one of the two.", "--data-dir", str(args.data_dir),
                f"--image-folder {args.image_folder}")
    if args.recipe in ("paper", "fast") and args.warmup_epochs:
        _reject("`--warmup-epochs` is only used by --recipe scaled and imagenet-paper (the fast "
                "recipe warms up over 15% of its epochs, the paper's by its own rule).",
                "--warmup-epochs",
                args.warmup_epochs, f"--recipe {args.recipe}")


def _check_imagenet_options(args) -> None:
    """--recipe imagenet-paper streams --image-folder with the paper's own settings."""
    if not args.image_folder and not args.tfds:
        _reject("--recipe imagenet-paper trains on an image folder or a TFDS dataset: give "
                "--image-folder ROOT (ROOT/train/<class>/* and ROOT/val/<class>/*) or --tfds "
                "NAME.", "--image-folder", None, "--recipe imagenet-paper")
    if args.image_folder and args.tfds:
        _reject("Give --image-folder or --tfds, not both.", "--tfds", args.tfds,
                f"--image-folder {args.image_folder}")
    for option, value in (("--lr", args.lr), ("--low-res", args.low_res), ("--subset", args.subset),
                          ("--test-subset", args.test_subset), ("--data-dir", args.data_dir)):
        if value is not None:
            _reject(f"`{option}` is not used by --recipe imagenet-paper (the paper's settings, "
                    "scaled by --batch-size, --epochs and --warmup-epochs).", option, value,
                    "--recipe imagenet-paper")
    if args.pipeline not in ("auto", "tf.data"):
        _reject("--recipe imagenet-paper streams the images with tf.data.", "--pipeline",
                args.pipeline, "--recipe imagenet-paper")


def _check_train_warmup(args) -> None:
    epochs = _train_epochs(args)
    if args.warmup_epochs and epochs is not None and args.warmup_epochs >= epochs:
        _reject(f"`--warmup-epochs` must be less than the epochs ({epochs}).", "--warmup-epochs",
                args.warmup_epochs, f"{epochs} epochs")


def _check_low_res(args) -> None:
    """--low-res: a recipe counted in epochs (2 or more), the tf.data pipeline, and a size
    below CIFAR-10's 32 (an image folder's size is checked when it is loaded)."""
    if not args.low_res:
        return
    epochs = _train_epochs(args)
    if epochs is None:
        _reject("Progressive resizing needs a recipe counted in epochs, at least 2 (`--low-res` "
                "with --recipe scaled or fast; the paper's counts iterations).", "--low-res",
                args.low_res, "--recipe paper")
    if epochs < 2:
        _reject("Progressive resizing needs a recipe counted in epochs, at least 2 (`--low-res` "
                "with --epochs 2 or more).", "--low-res", args.low_res, f"{epochs} epoch")
    if args.pipeline not in ("auto", "tf.data"):
        _reject("`--low-res` is done by the tf.data pipeline: --pipeline must be auto or "
                "tf.data.", "--low-res", args.low_res, f"--pipeline {args.pipeline}")
    if not args.image_folder and args.low_res >= CIFAR10_SIZE:
        _reject(f"`--low-res` must be from 8 to below the CIFAR-10 images' size "
                f"({CIFAR10_SIZE}x{CIFAR10_SIZE}).", "--low-res", args.low_res)


def _check_batch_vs_subset(args) -> None:
    """With --subset, an epoch must have a full batch, and --steps-per-execution divide its
    steps (without it the split's size is only known once loaded; `train` checks it then)."""
    if not args.subset:
        return
    batch = _train_batch_size(args)
    if batch > args.subset:
        _reject(f"`--batch-size` must not exceed --subset ({args.subset}), or an epoch has no "
                f"full batch.", "--batch-size", batch, f"--subset {args.subset}")
    steps = args.subset // batch
    if args.steps_per_execution != "auto" and steps % args.steps_per_execution:
        _reject(f"`--steps-per-execution` must divide the {steps} steps of an epoch (--subset "
                f"{args.subset} // --batch-size {batch}).", "--steps-per-execution",
                args.steps_per_execution)


def _check_speedrun_batch(args) -> None:
    """With --subset, an epoch needs one full batch (the recipe drops the last partial one)."""
    batch = args.batch_size or 1024
    if args.subset and batch > args.subset:
        _reject(f"`--batch-size` must not exceed --subset ({args.subset}), or an epoch has no "
                f"full batch.", "--batch-size", batch, f"--subset {args.subset}")


def _check_speedrun_ablation(args) -> None:
    """--ablation removes each trick itself, and keeps the finished runs it finds."""
    if args.ablation and args.without:
        _reject("`--ablation` removes each trick in turn by itself, so it takes no --without.",
                "--without", " ".join(args.without))
    if args.ablation and args.restart:
        _reject("`--ablation` keeps the finished runs in --out (remove a variant's folder to "
                "train it again), so it takes no --restart.", "--restart", True)


def _study(args):
    from cnn_keras.experiments import studies  # Keras-free

    return studies.DEGRADATION if args.command == "degradation" else studies.ABLATIONS[args.name]


def _check_experiment_warmup(args) -> None:
    if args.command != "degradation" or not args.warmup_epochs:
        return
    epochs = args.epochs or _study(args).epochs[args.mode]
    if epochs is None:
        _reject(f"`--warmup-epochs` in --mode {args.mode} needs --epochs (the paper's recipe "
                f"has its own warm-up rule).", "--warmup-epochs", args.warmup_epochs,
                f"--mode {args.mode}")
    if args.warmup_epochs >= epochs:
        _reject(f"`--warmup-epochs` must be less than the epochs ({epochs}).", "--warmup-epochs",
                args.warmup_epochs, f"{epochs} epochs")


def _experiment_keys(args) -> tuple[str, list[str], list[str]]:
    """(option, what it selects, the allowed keys) of --models / --variants."""
    study = _study(args)
    if args.command == "degradation":
        return "--models", args.models, [v.model for v in study.variants]
    return "--variants", args.variants, [v.key for v in study.variants]


def _check_experiment_selection(args) -> None:
    option, chosen, allowed = _experiment_keys(args)
    for key in chosen or ():
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, allowed, n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            what = "models" if option == "--models" else "variants"
            _reject(f"`{option}` must name {what} of {_study(args).name!r}: "
                    f"{', '.join(allowed)}.{hint}", option, key)


def _experiment_out(args) -> Path:
    if args.out:
        return Path(args.out)
    from cnn_keras.experiments import runner  # Keras-free at import

    return runner.default_out_dir(_study(args), args.mode)


def _check_experiment_out(args) -> None:
    """The output folder (also the default one) and each variant's run folder in it."""
    out = _experiment_out(args)
    _check_out_path(out)
    _, chosen, allowed = _experiment_keys(args)
    if args.command == "degradation":
        keys = chosen or allowed
    else:
        study = _study(args)
        keys = [v.key for v in study.variants if not chosen or v.key in chosen]
        keys += [study.variant(k).init_from for k in keys if study.variant(k).init_from]
    for key in dict.fromkeys(keys):
        _check_out_path(out / key)


def _check_bench_backend(args) -> None:
    import importlib.util

    if args.backend and args.backend != os.environ.get("KERAS_BACKEND", "tensorflow"):
        if importlib.util.find_spec(args.backend) is None:
            _reject(f"`--backend {args.backend}` needs `pip install {args.backend}`.",
                    "--backend", args.backend)


def _check_claims_out(args) -> None:
    if args.out is not None and Path(args.out).expanduser().is_dir():
        _reject("The scoreboard must be a file path, not a folder.", "--out", args.out)


_CHECKS = {
    "list": (),
    "summary": (),
    "train": (_check_recipe_options, _check_train_warmup, _check_low_res,
              _check_batch_vs_subset),
    "degradation": (_check_experiment_warmup, _check_experiment_selection, _check_experiment_out),
    "ablation": (_check_experiment_selection, _check_experiment_out),
    "bench": (_check_bench_backend,),
    "transfer": (),
    "distill": (),
    "claims": (_check_claims_out,),
    "record": (),
    "speedrun": (_check_speedrun_batch, _check_speedrun_ablation),
}


def validate(args) -> None:
    """Every check of `args.command` (ValueError, one line, at the first failing one). The
    single values were checked by the parser."""
    for check in _CHECKS[args.command]:
        check(args)
