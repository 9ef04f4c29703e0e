"""The `cnn-keras` command (also `python -m cnn_keras`).

    cnn-keras list [PATTERN]
    cnn-keras summary MODEL [--input-shape H W C] [--classes N]
    cnn-keras train MODEL --epochs N --batch-size B --subset N --seed S --out DIR
    cnn-keras degradation --mode quick|demo|full --out DIR
    cnn-keras ablation alexnet|fig1|vgg|googlenet|densenet|mobilenet|efficientnet --mode MODE
    cnn-keras speedrun [--epochs E] [--without TRICK ...] --out DIR
    cnn-keras bench MODEL --what train|infer|data [--batch-size B --steps N --backend NAME]

Every argument is checked before any data is loaded (and, where the check needs no model,
before Keras or TensorFlow is imported): a bad value is one line on stderr,
``cnn-keras COMMAND: error: ... Received: ...``, and exit status 2, and nothing in an existing
run folder is touched. The checks come in two steps: argparse ``type=`` functions for what one
value alone must be (a positive integer, a finite number, an existing folder), then one small
`_check_*` function per concern that relates options to each other (`_CHECKS`).
"""


from __future__ import annotations

import os
import sys
from pathlib import Path

from cnn_keras.cli.parser import PROG, _parser
from cnn_keras.cli.validate import _experiment_out, _train_batch_size, _train_epochs, validate

def _one_line(exc: BaseException) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def main(argv=None) -> int:
    # An application sets TensorFlow's environment (the library does not), before anything
    # imports Keras: oneDNN's CPU kernels on unless the user chose, and less start-up logging.
    from cnn_keras.backends.tensorflow import import_tensorflow_quietly, use_onednn_by_default

    use_onednn_by_default()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    try:
        validate(args)  # --help and bad values need no TensorFlow: it is imported after them
        import_tensorflow_quietly()
        return {"list": _list, "summary": _summary, "train": _train,
                "degradation": _degradation, "ablation": _ablation, "transfer": _transfer,
                "bench": _bench, "claims": _claims, "speedrun": _speedrun, "distill": _distill,
                "record": _record}[args.command](args)
    except (ValueError, OSError) as exc:  # OSError: data not found, an unwritable --out, ...
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted; run the same command again to resume.", file=sys.stderr)
        return 130


# --- The commands -------------------------------------------------------------------------------
def _list(args) -> int:
    from cnn_keras.registry import build, list_models

    names = list_models(args.pattern)
    if not names:
        raise ValueError(f"No registered model name contains {args.pattern!r} (`cnn-keras "
                         f"list` shows them all). Received: pattern={args.pattern!r}")
    for name in names:
        if args.params:
            from cnn_keras.analysis import count_params

            print(f"{name:<14}{count_params(build(name))['trainable']:>14,}")
        else:
            print(name)
    return 0


def _summary(args) -> int:
    from cnn_keras.registry import build, get_builder

    get_builder(args.model)  # unknown name: one line with close matches
    kwargs = {}
    if args.input_shape:
        kwargs["input_shape"] = tuple(args.input_shape)
    if args.classes:
        kwargs["classes"] = args.classes
    try:
        model = build(args.model, **kwargs)
    except ValueError as exc:
        if args.input_shape and "input" in str(exc).lower():
            shape = " ".join(map(str, args.input_shape))
            raise ValueError(f"`--input-shape` {shape} does not fit {args.model}: {exc}") from None
        raise
    from cnn_keras.analysis import count_macs, count_params

    if not args.brief:
        model.summary()
    p = count_params(model)
    print(f"{args.model}: input {tuple(model.inputs[0].shape[1:])}, "
          f"trainable params {p['trainable']:,}, non-trainable {p['non_trainable']:,}, "
          f"total {p['total']:,}, MACs {count_macs(model) / 1e6:,.1f}M")
    return 0


def _recipe(args, depth: int | None):
    """The training.Recipe of `cnn-keras train` (Keras-free)."""
    from cnn_keras import training

    if args.recipe == "imagenet-paper":
        from cnn_keras.registry import model_info
        from cnn_keras.training import imagenet_recipes

        family = model_info(args.model)["family"]
        if family not in imagenet_recipes.RECIPES:
            raise ValueError(f"--recipe imagenet-paper has the ImageNet recipes of the papers' "
                             f"nets ({', '.join(imagenet_recipes.RECIPES)}); {args.model} "
                             f"({family}) has none: use --recipe scaled or fast. Received: "
                             f"model={args.model!r} with --recipe imagenet-paper")
        paper = imagenet_recipes.get(family)
        return imagenet_recipes.rescaled(paper, batch_size=args.batch_size, epochs=args.epochs,
                                         warmup_epochs=args.warmup_epochs)
    if args.recipe == "paper":
        recipe = training.paper_recipe(depth)
    elif args.recipe == "fast":
        recipe = training.fast_recipe(_train_epochs(args), batch_size=_train_batch_size(args),
                                      lr=args.lr or 0.2)
    else:
        recipe = training.scaled_recipe(_train_epochs(args), batch_size=_train_batch_size(args),
                                        lr=args.lr or 0.1, warmup_epochs=args.warmup_epochs or 0.0)
    if args.low_res:
        recipe = training.with_low_res(recipe, args.low_res)
    return recipe


def _train(args) -> int:
    from cnn_keras.registry import model_info

    depth = model_info(args.model).get("depth")  # unknown name: one line with close matches
    recipe = _recipe(args, depth)
    from cnn_keras import data as data_lib
    from cnn_keras import training

    engine = training.Engine(pipeline=args.pipeline, dtype_policy=args.dtype_policy,
                             steps_per_execution=args.steps_per_execution,
                             fused_bn=not args.unfused_bn, devices=args.devices)
    if args.coordinator or args.num_processes or args.process_id is not None:
        training.distribute.join(args.coordinator, args.num_processes, args.process_id)
    if args.recipe == "imagenet-paper":
        from cnn_keras.data import streaming

        size = args.image_size or 224
        data = (streaming.open_tfds(args.tfds, size=size, download=True,
                                    data_dir=os.environ.get("TFDS_DATA_DIR") or None)
                if args.tfds else streaming.open_folder(args.image_folder, size=size))
    elif args.image_folder:
        data = data_lib.load_image_folder(args.image_folder, seed=args.seed)
    else:
        data = data_lib.load_cifar10(args.data_dir)
    if args.subset or args.test_subset:
        data = data.subset(args.subset, seed=args.seed, num_test=args.test_subset)
    history = training.train(args.model, data, args.out, recipe=recipe, seed=args.seed,
                             verbose=0 if args.quiet else "auto", restart=args.restart,
                             engine=engine)
    last = history[-1]
    print(f"{args.model}: {len(history)} epochs; train error {100 * (1 - last['accuracy']):.2f}%, "
          f"test error {100 * (1 - last['val_accuracy']):.2f}%  ->  {args.out}/history.csv")
    return 0


def _degradation(args) -> int:
    from cnn_keras.experiments import degradation

    degradation.run(args.mode, _experiment_out(args), data_dir=args.data_dir, seed=args.seed,
                    epochs=args.epochs, warmup_epochs=args.warmup_epochs,
                    dtype_policy=args.dtype_policy, pipeline=args.pipeline,
                    steps_per_execution=args.steps_per_execution,
                    models=tuple(args.models or degradation.MODELS),
                    verbose=0 if args.quiet else "auto")
    return 0


def _ablation(args) -> int:
    from cnn_keras.experiments import ablation

    ablation.run(args.name, args.mode, args.out, data_dir=args.data_dir, seed=args.seed,
                 epochs=args.epochs, variants=args.variants, dtype_policy=args.dtype_policy,
                 steps_per_execution=args.steps_per_execution,
                 verbose=0 if args.quiet else "auto")
    return 0


def _transfer(args) -> int:
    from cnn_keras.experiments import transfer_study

    out = args.out or f"runs/transfer-{args.mode}"
    transfer_study.run(args.mode, out, shots=args.shots, seeds=args.seeds,
                       data_dir=args.data_dir, verbose=0 if args.quiet else 2)
    return 0


def _distill(args) -> int:
    from cnn_keras.experiments import distillation

    out = args.out or f"runs/distill-{args.mode}"
    rows = distillation.run(args.mode, out, seeds=args.seeds, data_dir=args.data_dir,
                            results_dir=args.results,
                            verbose=0 if args.quiet else 1)
    for row in rows:
        print(f"{row['arm']:>9s}  seed {row['seed']}: {row['final_test_error']:.2f} % test "
              f"error ({row['seconds']:.0f} s)")
    return 0


def _speedrun(args) -> int:
    import dataclasses
    import time

    from cnn_keras import data as data_lib
    from cnn_keras.speedrun import SpeedrunRecipe, ablated
    from cnn_keras.speedrun.run import train

    started = time.time()  # the wall time counts decoding the data
    recipe = SpeedrunRecipe()
    for trick in args.without:
        recipe = ablated(recipe, trick)
    changes = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                 ("whiten_eps", args.whiten_eps)) if v is not None}
    recipe = dataclasses.replace(recipe, **changes)
    data = data_lib.load_cifar10(args.data_dir)
    if args.subset or args.test_subset:
        data = data.subset(args.subset, seed=args.seed, num_test=args.test_subset)
    if args.ablation:
        return _speedrun_ablation(args, data, recipe)
    s = train(data, args.out, recipe=recipe, seed=args.seed, dtype_policy=args.dtype_policy,
              restart=args.restart, verbose=0 if args.quiet else "auto", started=started)
    print(f"airbench94: test accuracy {100 * s['tta_accuracy']:.2f}% with TTA, "
          f"{100 * s['accuracy']:.2f}% without, after {s['epochs']:g} epochs; "
          f"{s['wall_seconds'] / 60:.1f} min with set-up  ->  {args.out}/run.json")
    return 0


def _speedrun_ablation(args, data, recipe) -> int:
    from cnn_keras.speedrun import ablation

    rows = ablation.run(data, args.out, recipe=recipe, seed=args.seed,
                        dtype_policy=args.dtype_policy, verbose=0 if args.quiet else "auto")
    for line in ablation.lines(rows):
        print(line)
    print(f"-> {args.out}/ablation.csv, {args.out}/ablation.png")
    return 0


def _record(args) -> int:
    from cnn_keras.experiments.record import copy_record

    written = copy_record(args.run_dir, args.dest)
    print(f"{len(written)} files -> {args.dest}")
    return 0


def _claims(args) -> int:
    from cnn_keras import claims

    if args.notebook:
        print(claims.table(claims.evaluate(args.results, notebook=args.notebook)))
        return 0
    # the repository's README beside results/ gets the summary block (not for another --out)
    readme = None if args.out else Path(args.results).resolve().parent / "README.md"
    out, rows = claims.write(args.results, args.out, readme=readme)
    for nb, paper in claims.PAPERS.items():
        print(f"{nb} {paper}: {claims.summary_line([r for r in rows if r['notebook'] == nb])}")
    print(f"Scoreboard: {out}")
    return 0


def _bench(args) -> int:
    import subprocess

    current = os.environ.get("KERAS_BACKEND", "tensorflow")
    if args.backend and args.backend != current:
        argv = ["bench", args.model, "--what", args.what, "--batch-size", str(args.batch_size),
                "--steps", str(args.steps), "--warmup", str(args.warmup), "--pipeline",
                args.pipeline, "--dtype-policy", args.dtype_policy, "--seed", str(args.seed),
                "--steps-per-execution", str(args.steps_per_execution), "--jit-compile",
                args.jit_compile]
        env = {**os.environ, "KERAS_BACKEND": args.backend}
        return subprocess.call([sys.executable, "-m", "cnn_keras", *argv], env=env)
    from cnn_keras import bench

    bench.run(args.model, args.what, batch_size=args.batch_size, steps=args.steps,
              warmup=args.warmup, dtype_policy=args.dtype_policy, pipeline=args.pipeline,
              steps_per_execution=args.steps_per_execution,
              jit_compile={"on": True, "off": False}.get(args.jit_compile, "default"),
              seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
