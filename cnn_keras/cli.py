"""The `cnn-keras` command (also `python -m cnn_keras`).

    cnn-keras list [PATTERN]
    cnn-keras summary MODEL [--input-shape H W C] [--classes N]
    cnn-keras train MODEL --epochs N --batch-size B --subset N --seed S --out DIR
    cnn-keras degradation --mode quick|demo|full --out DIR
    cnn-keras ablation alexnet|fig1|vgg|googlenet|densenet|mobilenet|efficientnet --mode MODE
    cnn-keras bench MODEL --what train|infer|data [--batch-size B --steps N --backend NAME]
"""

from __future__ import annotations

import argparse
import os
import sys


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_dtype_policy(parser):
    parser.add_argument("--dtype-policy", default="float32",
                        choices=("float32", "mixed_bfloat16", "mixed_float16"),
                        help="float32 (default, as the papers) or mixed precision (GPUs)")


def _add_train_pipeline(parser):
    parser.add_argument("--pipeline", choices=("auto", "tf.data", "numpy", "layer"),
                        default="auto", help="input pipeline: tf.data (auto with TensorFlow), "
                        "numpy (auto without), or layer: augment on the device, with a "
                        "data.PadCropFlip layer in front of the model")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnn-keras",
        description="Landmark CNN papers in Keras 3: build, inspect and train the models.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("list", help="list the model names", description="List the model names.")
    s.add_argument("pattern", nargs="?", help="only names containing this text")
    s.add_argument("--params", action="store_true",
                   help="also build each model and print its trainable parameters (slower)")

    s = sub.add_parser("summary", help="layer table, parameter count and MACs of a model",
                       description="Print a model's layers, parameter counts and MACs.")
    s.add_argument("model", help="a name from `cnn-keras list`")
    s.add_argument("--input-shape", type=_positive_int, nargs=3, metavar=("H", "W", "C"),
                   help="input shape (default: the paper's)")
    s.add_argument("--classes", type=_positive_int, help="number of classes")
    s.add_argument("--brief", action="store_true", help="counts only, no layer table")

    s = sub.add_parser(
        "train", help="train a model on CIFAR-10 (resumable)",
        description="Train a model on CIFAR-10 (or an image folder) with the paper's recipe "
        "scaled to --epochs. Writes OUT/history.csv (one row per finished epoch) and "
        "OUT/run.json. Interrupted, the same command resumes after the last finished epoch.")
    s.add_argument("model", help="a name from `cnn-keras list` (e.g. resnet20)")
    s.add_argument("--epochs", type=_positive_int,
                   help="epochs (default 10; fast recipe: 32, 27 min for ResNet-20 on 2 AVX-512 "
                   "cores)")
    s.add_argument("--batch-size", type=_positive_int, default=128, help="batch size (128)")
    s.add_argument("--lr", type=float, help="initial (fast: peak) learning rate (0.1; fast 0.2)")
    s.add_argument("--recipe", choices=("scaled", "paper", "fast"), default="scaled",
                   help="scaled: lr /10 at 50%% and 75%% of --epochs; paper: 64k iterations, "
                   "/10 at 32k and 48k (ignores --epochs); fast: one-cycle lr, Nesterov, label "
                   "smoothing 0.1, weight decay 5e-4 (ResNet-20: 87.4%% in 27 min on 2 AVX-512 "
                   "CPU cores)")
    s.add_argument("--warmup-epochs", type=float, default=0.0,
                   help="linear learning-rate warm-up over the first N epochs (scaled recipe)")
    s.add_argument("--low-res", type=_positive_int, metavar="SIZE",
                   help="progressive resizing: train the first 2/3 of the epochs on images "
                   "resized to SIZE x SIZE (e.g. 24), then at full size (needs global pooling, "
                   "e.g. ResNet)")
    s.add_argument("--subset", type=_positive_int, help="use a class-balanced subset of N "
                   "training images")
    s.add_argument("--test-subset", type=_positive_int, help="evaluate on N test images")
    s.add_argument("--seed", type=int, default=0, help="random seed (0)")
    s.add_argument("--out", required=True, help="output directory")
    s.add_argument("--data-dir", help="CIFAR-10 folder or cifar10-jpeg.zip (default: "
                   "$CNN_KERAS_DATA, ./data, then TFDS)")
    s.add_argument("--image-folder", help="train on your own ROOT/train/<class>/* images instead")
    s.add_argument("--restart", action="store_true", help="discard a previous run in --out")
    _add_dtype_policy(s)
    s.add_argument("--steps-per-execution", type=_positive_int, default=1,
                   help="training steps per call from Python; must divide the epoch's steps "
                   "(default 1: more measured no faster on CPU)")
    s.add_argument("--unfused-bn", action="store_true", help="train batch norm with Keras' "
                   "own ops instead of TensorFlow's fused kernel (same math, slower)")
    _add_train_pipeline(s)
    s.add_argument("--quiet", action="store_true", help="no per-step progress output")

    s = sub.add_parser(
        "degradation", help="plain-20/56 vs ResNet-20/56 (the paper's Fig. 6)",
        description="Train plain-20, plain-56, ResNet-20 and ResNet-56 on CIFAR-10 and draw the "
        "paper's Fig. 6. quick: seconds (CI); demo: ~10 min on 2 CPU cores (10k-image subset); "
        "full: the paper's recipe (GPU). Resumes if interrupted.")
    s.add_argument("--mode", choices=("quick", "demo", "full"), default="demo")
    s.add_argument("--out", default=None, help="output directory (default runs/degradation-MODE)")
    s.add_argument("--epochs", type=_positive_int, help="override the mode's epochs")
    s.add_argument("--warmup-epochs", type=float, help="override the mode's linear warm-up")
    s.add_argument("--models", nargs="+", metavar="MODEL", help="train only these of plain20 "
                   "plain56 resnet20 resnet56 (e.g. one per process on a GPU)")
    _add_dtype_policy(s)
    _add_train_pipeline(s)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--data-dir", help="CIFAR-10 folder or cifar10-jpeg.zip")
    s.add_argument("--quiet", action="store_true")

    s = sub.add_parser(
        "ablation", help="one idea of a paper on/off, the experiments of notebooks 01-07",
        description="Train the variants of an ablation on CIFAR-10 (same data, recipe and seed) "
        "and draw their curves. quick: seconds (CI); demo: minutes on 2 CPU cores (a subset); "
        "full: all 50k images (GPU). Resumes if interrupted.")
    s.add_argument("name", choices=("alexnet", "fig1", "vgg", "googlenet", "densenet", "mobilenet",
                                    "efficientnet"),
                   help="alexnet: ReLU/tanh, LRN, pooling; fig1: AlexNet's Fig. 1 (four-layer "
                   "CNN, ReLU vs tanh); vgg: depth A vs D, pre-initialisation; googlenet: "
                   "auxiliary heads; densenet: vs ResNet-20 at the same budget, growth rate, "
                   "compression; mobilenet: width and resolution multipliers; efficientnet: "
                   "depth, width, resolution or compound scaling at 2x FLOPs")
    s.add_argument("--mode", choices=("quick", "demo", "full"), default="demo")
    s.add_argument("--out", default=None, help="output directory (default runs/ablation-NAME-MODE)")
    s.add_argument("--epochs", type=_positive_int, help="override the mode's epochs")
    s.add_argument("--variants", nargs="+", metavar="KEY",
                   help="train only these variants (e.g. relu tanh; one per process on a GPU)")
    _add_dtype_policy(s)
    s.add_argument("--seed", type=int, default=0, help="random seed (0)")
    s.add_argument("--data-dir", help="CIFAR-10 folder or cifar10-jpeg.zip")
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress output")

    s = sub.add_parser(
        "bench", help="images/s of training, inference or the input pipeline",
        description="Measure images per second: `train` (fit steps with the course's optimizer "
        "on one random batch), `infer` (predict) or `data` (the CIFAR-10 augmentation pipeline "
        "alone). Prints a line and a final JSON line (model, what, images_per_sec, backend, "
        "device, precision, batch).")
    s.add_argument("model", help="a name from `cnn-keras list` (e.g. resnet20)")
    s.add_argument("--what", choices=("train", "infer", "data"), default="train")
    s.add_argument("--batch-size", type=_positive_int, default=128, help="batch size (128)")
    s.add_argument("--steps", type=_positive_int, default=30, help="timed steps (30)")
    s.add_argument("--warmup", type=_positive_int, default=5, help="untimed steps first (5)")
    s.add_argument("--pipeline", choices=("tf.data", "numpy", "layer"), default="tf.data",
                   help="for --what data: the tf.data pipeline, the numpy one (no TensorFlow), "
                   "or the augmentation as the data.PadCropFlip layer on the device")
    s.add_argument("--steps-per-execution", type=_positive_int, default=1,
                   help="training steps per compiled call (Keras compile option; 1)")
    s.add_argument("--jit-compile", choices=("default", "on", "off"), default="default",
                   help="XLA for training (default: off on TensorFlow, auto on JAX)")
    s.add_argument("--backend", choices=("tensorflow", "jax", "torch"),
                   help="Keras backend (default: KERAS_BACKEND or tensorflow); runs a fresh "
                   "process with KERAS_BACKEND set")
    _add_dtype_policy(s)
    s.add_argument("--seed", type=int, default=0, help="random seed (0)")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return {"list": _list, "summary": _summary, "train": _train,
                "degradation": _degradation, "ablation": _ablation,
                "bench": _bench}[args.command](args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"cnn-keras {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted; run the same command again to resume.", file=sys.stderr)
        return 130


def _list(args) -> int:
    import cnn_keras
    from cnn_keras.analysis import count_params

    for name in cnn_keras.list_models(args.pattern):
        if args.params:
            print(f"{name:<14}{count_params(cnn_keras.build(name))['trainable']:>14,}")
        else:
            print(name)
    return 0


def _summary(args) -> int:
    import cnn_keras
    from cnn_keras.analysis import count_macs, count_params

    kwargs = {}
    if args.input_shape:
        kwargs["input_shape"] = tuple(args.input_shape)
    if args.classes:
        kwargs["classes"] = args.classes
    model = cnn_keras.build(args.model, **kwargs)
    if not args.brief:
        model.summary()
    p = count_params(model)
    print(f"{args.model}: input {tuple(model.inputs[0].shape[1:])}, "
          f"trainable params {p['trainable']:,}, non-trainable {p['non_trainable']:,}, "
          f"total {p['total']:,}, MACs {count_macs(model) / 1e6:,.1f}M")
    return 0


def _train(args) -> int:
    from cnn_keras import data as data_lib
    from cnn_keras import training
    from cnn_keras.registry import get_builder

    get_builder(args.model)  # fail fast on a wrong name, before loading data
    if args.recipe == "paper":
        depth = int("".join(c for c in args.model if c.isdigit()) or 0)
        recipe = training.paper_recipe(depth)
    elif args.recipe == "fast":
        recipe = training.fast_recipe(args.epochs or training.FAST_EPOCHS,
                                      batch_size=args.batch_size, lr=args.lr or 0.2)
    else:
        recipe = training.scaled_recipe(args.epochs or 10, batch_size=args.batch_size,
                                        lr=args.lr or 0.1, warmup_epochs=args.warmup_epochs)
    if args.low_res:
        recipe = training.with_low_res(recipe, args.low_res)
    if args.image_folder:
        data = data_lib.load_image_folder(args.image_folder, seed=args.seed)
    else:
        data = data_lib.load_cifar10(args.data_dir)
    if args.subset or args.test_subset:
        data = data.subset(args.subset, seed=args.seed, num_test=args.test_subset)
    history = training.train(args.model, data, args.out, recipe=recipe, seed=args.seed,
                             verbose=0 if args.quiet else "auto", restart=args.restart,
                             dtype_policy=args.dtype_policy,
                             steps_per_execution=args.steps_per_execution,
                             fused_bn=not args.unfused_bn, pipeline=args.pipeline)
    last = history[-1]
    print(f"{args.model}: {len(history)} epochs; train error {100 * (1 - last['accuracy']):.2f}%, "
          f"test error {100 * (1 - last['val_accuracy']):.2f}%  ->  {args.out}/history.csv")
    return 0


def _degradation(args) -> int:
    from cnn_keras import degradation

    out = args.out or f"runs/degradation-{args.mode}"
    degradation.run(args.mode, out, data_dir=args.data_dir, seed=args.seed, epochs=args.epochs,
                    warmup_epochs=args.warmup_epochs, dtype_policy=args.dtype_policy,
                    pipeline=args.pipeline, models=tuple(args.models or degradation.MODELS),
                    verbose=0 if args.quiet else "auto")
    return 0


def _ablation(args) -> int:
    from cnn_keras import ablation

    ablation.run(args.name, args.mode, args.out, data_dir=args.data_dir, seed=args.seed,
                 epochs=args.epochs, variants=args.variants, dtype_policy=args.dtype_policy,
                 verbose=0 if args.quiet else "auto")
    return 0


def _bench(args) -> int:
    import importlib.util
    import subprocess

    current = os.environ.get("KERAS_BACKEND", "tensorflow")
    if args.backend and args.backend != current:
        if importlib.util.find_spec(args.backend) is None:
            raise ValueError(f"the {args.backend} backend needs `pip install {args.backend}`. "
                             f"Received: --backend {args.backend}")
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
