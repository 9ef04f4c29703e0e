"""The argument parser of `cnn-keras`: its options, and argparse `type=` functions for what one
value alone must be (a positive integer, a finite number, an existing folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnn_keras.checks import check_int, check_number
from cnn_keras.experiments.studies import ABLATIONS, MODES

PROG = "cnn-keras"
CIFAR10_SIZE = 32  # the images of `cnn-keras train` without --image-folder
ABLATION_NAMES = tuple(ABLATIONS)  # the studies are Keras-free data
# transfer_study.MODES' keys (that module imports TensorFlow; a test keeps the two equal)
TRANSFER_MODES = ("quick", "demo", "record")
DISTILL_MODES = ("quick", "demo", "record")  # experiments.distillation.MODES
SCALED_EPOCHS = 10  # `--recipe scaled` without --epochs
PAPER_BATCH_SIZE = 128  # `training.paper_recipe`'s batch size; --batch-size 128 is the default


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr, ``cnn-keras train: error: argument
    --epochs: must be ... Received: '0'``, exit status 2 (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


# --- One value alone: argparse `type=` functions ------------------------------------------------
def _int_type(minimum: int = 1):
    """`type=`: an integer >= `minimum`."""
    allowed = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"

    def parse(text):
        try:
            return check_int("value", int(text), minimum=minimum)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}. Received: {text!r}") from None

    parse.__name__ = allowed.replace(" ", "_")
    return parse


def _number_type(**bounds):
    """`type=`: a finite number within `bounds` (`checks.check_number`'s): no NaN, no inf."""

    def parse(text):
        try:
            return check_number("value", float(text), **bounds)
        except ValueError as exc:
            allowed = str(exc).partition(" must be ")[2].partition(" Received:")[0].rstrip(".")
            raise argparse.ArgumentTypeError(f"must be {allowed}. Received: {text!r}") from None

    parse.__name__ = "number"
    return parse


_positive_int = _int_type(1)


def _steps_per_execution(text):
    """`type=` of an experiment's --steps-per-execution: "auto" or a positive integer."""
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be 'auto' or a positive integer. Received: {text!r}") from None


_seed = _int_type(0)
_positive_number = _number_type(low=0, low_open=True)
_non_negative_number = _number_type(low=0)


def _data_dir(text):
    """`type=` of --data-dir: a path that exists (its form is checked when it is read)."""
    if not Path(text).expanduser().exists():
        raise argparse.ArgumentTypeError(
            "must be an existing CIFAR-10 folder (train/<class>/ and test/<class>/ images), a "
            f"folder holding cifar10-jpeg.zip, or that zip; it does not exist. Received: {text!r}")
    return text


def _results_dir(text):
    """`type=` of --results: an existing folder (of recorded runs)."""
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(
            f"must be an existing folder of recorded runs (e.g. results). Received: {text!r}")
    return text


def _run_dir(text):
    """`type=` of `record`'s RUN_DIR: an existing folder."""
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(
            f"must be an existing folder (a finished run's --out). Received: {text!r}")
    return text


def _image_folder(text):
    """`type=` of --image-folder: an existing folder with a train/ folder."""
    root = Path(text).expanduser()
    if not (root / "train").is_dir():
        why = "has no train/ folder" if root.is_dir() else "is not an existing folder"
        raise argparse.ArgumentTypeError(
            f"must be a folder of ROOT/train/<class>/* images (and test/ or val/); it {why}. "
            f"Received: {text!r}")
    return text


_OUT_ALLOWED = "a folder (new, or a run to resume)"


def _out_problem(path: Path) -> str | None:
    """Why `path` cannot be an output folder (it, or a folder above it, is a file), or None."""
    for p in (path, *path.parents):
        if p.exists():
            if p.is_dir():
                return None
            return "it is an existing file" if p == path else f"{p} above it is a file"
    return None


def _out_dir(text):
    """`type=` of --out: a folder, new or existing."""
    problem = _out_problem(Path(text).expanduser())
    if problem:
        raise argparse.ArgumentTypeError(f"must be {_OUT_ALLOWED}; {problem}. "
                                         f"Received: {text!r}")
    return text


def _check_out_path(path: Path) -> None:
    """ValueError unless `path` is, or can be made, a folder (the experiments' default --out
    and their run folders inside it)."""
    problem = _out_problem(path)
    if problem:
        _reject(f"The output folder must be {_OUT_ALLOWED}; {problem}.", "--out", str(path))


def _reject(message: str, option: str, value, *context: str):
    """ValueError ``MESSAGE Received: --option=value[ with CONTEXT]``, `checks.fail`'s form."""
    with_ = f" with {', '.join(context)}" if context else ""
    raise ValueError(f"{message} Received: {option}={value!r}{with_}")


# --- The parser ---------------------------------------------------------------------------------
def _add_dtype_policy(parser):
    parser.add_argument("--dtype-policy", default="float32",
                        choices=("float32", "mixed_bfloat16", "mixed_float16"),
                        help="float32 (default, as the papers) or mixed precision (GPUs)")


def _add_mode_and_out(parser, modes, default_out: str):
    """An experiment's --mode (default demo) and --out (default `default_out`)."""
    parser.add_argument("--mode", choices=modes, default="demo")
    parser.add_argument("--out", type=_out_dir, default=None,
                        help=f"output directory (default {default_out})")


def _add_steps_per_execution(parser):
    parser.add_argument("--steps-per-execution", type=_steps_per_execution, default=1,
                        metavar="N|auto", help="training steps per call from Python (default "
                        "1); auto: the largest divisor of an epoch's steps up to 8 (on a GPU, "
                        "fewer calls; the same math)")


def _add_train_pipeline(parser):
    parser.add_argument("--pipeline", choices=("auto", "tf.data", "numpy", "layer"),
                        default="auto", help="input pipeline: tf.data (auto with TensorFlow), "
                        "numpy (auto without), or layer: augment on the device, with a "
                        "data.PadCropFlip layer in front of the model")


def _add_seed(parser):
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (0)")


def _add_data_dir(parser, *, name_default: bool = False):
    """--data-dir; `name_default` also says where CIFAR-10 is looked for without it (the
    commands that print this are those a new user runs first)."""
    where = " (default: $CNN_KERAS_DATA, ./data, then TFDS)" if name_default else ""
    parser.add_argument("--data-dir", type=_data_dir,
                        help=f"CIFAR-10 folder or cifar10-jpeg.zip{where}")


def _add_subsets(parser):
    parser.add_argument("--subset", type=_positive_int, help="use a class-balanced subset of N "
                        "training images")
    parser.add_argument("--test-subset", type=_positive_int, help="evaluate on N test images")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Landmark CNN papers in Keras 3: build, inspect and train the models.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The order of the subcommands is the order `cnn-keras --help` lists them in.
    for add in (_add_list, _add_summary, _add_train, _add_degradation, _add_ablation,
                _add_bench, _add_transfer, _add_distill, _add_speedrun, _add_record,
                _add_claims):
        add(sub)
    return p


# --- One function per subcommand: `sub` is the parser's subparsers action ------------------------
def _add_list(sub):
    s = sub.add_parser("list", help="list the model names", description="List the model names.")
    s.add_argument("pattern", nargs="?", help="only names containing this text")
    s.add_argument("--params", action="store_true",
                   help="also build each model and print its trainable parameters (slower)")


def _add_summary(sub):
    s = sub.add_parser("summary", help="layer table, parameter count and MACs of a model",
                       description="Print a model's layers, parameter counts and MACs.")
    s.add_argument("model", help="a name from `cnn-keras list`")
    s.add_argument("--input-shape", type=_positive_int, nargs=3, metavar=("H", "W", "C"),
                   help="input shape (default: the paper's)")
    s.add_argument("--classes", type=_positive_int, help="number of classes")
    s.add_argument("--brief", action="store_true", help="counts only, no layer table")


def _add_train(sub):
    s = sub.add_parser(
        "train", help="train a model on CIFAR-10 (resumable)",
        description="Train a model on CIFAR-10 (or an image folder) with the paper's recipe "
        "scaled to --epochs. Writes OUT/history.csv (one row per finished epoch) and "
        "OUT/run.json. Interrupted, the same command resumes after the last finished epoch.")
    s.add_argument("model", help="a name from `cnn-keras list` (e.g. resnet20)")
    # train has the most options; in three parts, in the order `train --help` lists them.
    _add_train_recipe_options(s)
    _add_train_data_options(s)
    _add_train_execution_options(s)
    s.add_argument("--quiet", action="store_true", help="no per-step progress output")


def _add_train_recipe_options(s):
    """What is trained how long: epochs, batch, learning rate, recipe, image sizes."""
    s.add_argument("--epochs", type=_positive_int,
                   help="epochs (default 10; fast recipe: 32, 27 min for ResNet-20 on 2 AVX-512 "
                   "cores)")
    s.add_argument("--batch-size", type=_positive_int, default=None,
                   help="batch size (128, as the paper's CIFAR recipe)")
    s.add_argument("--lr", type=_positive_number,
                   help="initial (fast: peak) learning rate (0.1; fast 0.2; not with the paper "
                   "recipe)")
    s.add_argument("--recipe", choices=("scaled", "paper", "fast", "imagenet-paper"),
                   default="scaled",
                   help="scaled: lr /10 at 50%% and 75%% of --epochs; paper: 64k iterations, "
                   "/10 at 32k and 48k (no --epochs); fast: one-cycle lr, Nesterov, label "
                   "smoothing 0.1, weight decay 5e-4 (ResNet-20: 87.4%% in 27 min on 2 AVX-512 "
                   "CPU cores); imagenet-paper: the model's paper's ImageNet recipe "
                   "(docs/imagenet-recipes.md) on --image-folder, streamed from its files "
                   "(--batch-size scales the lr linearly, --epochs the schedule)")
    s.add_argument("--image-size", type=_int_type(32), metavar="SIZE",
                   help="imagenet-paper: the side of the training crops (default 224; the "
                   "evaluation resize scales with it)")
    s.add_argument("--warmup-epochs", type=_non_negative_number, default=None,
                   help="linear learning-rate warm-up over the first N epochs (scaled and "
                   "imagenet-paper recipes, e.g. 5 with a large --batch-size as Goyal et al. "
                   "2017; fewer than the epochs)")
    s.add_argument("--low-res", type=_int_type(8), metavar="SIZE",
                   help="progressive resizing: train the first 2/3 of the epochs on images "
                   "resized to SIZE x SIZE (e.g. 24; from 8 to below the image size), then at "
                   "full size (needs global pooling, e.g. ResNet, and a recipe in epochs)")


def _add_train_data_options(s):
    """Which images, which seed, and the run folder."""
    _add_subsets(s)
    _add_seed(s)
    s.add_argument("--out", type=_out_dir, required=True, help="output directory")
    _add_data_dir(s, name_default=True)
    s.add_argument("--image-folder", type=_image_folder,
                   help="train on your own ROOT/train/<class>/* images instead")
    s.add_argument("--tfds", metavar="NAME", help="imagenet-paper: stream a TensorFlow "
                   "Datasets image dataset instead (imagenette, imagenet2012, ...), downloaded "
                   "and prepared where missing (under $TFDS_DATA_DIR, else TFDS's default)")
    s.add_argument("--restart", action="store_true", help="discard a previous run in --out")


def _add_train_execution_options(s):
    """How it runs, not what it computes: precision, devices, hosts, input pipeline."""
    _add_dtype_policy(s)
    # Not _add_steps_per_execution: train's help says more (it must divide an epoch's steps).
    s.add_argument("--steps-per-execution", type=_steps_per_execution, default=1,
                   metavar="N|auto", help="training steps per call from Python; must divide the "
                   "epoch's steps (default 1: more measured no faster on CPU in float32); auto: "
                   "the largest divisor of an epoch's steps up to 8")
    s.add_argument("--unfused-bn", action="store_true", help="train batch norm with Keras' "
                   "own ops instead of TensorFlow's fused kernel (same math, slower)")
    s.add_argument("--devices", type=_positive_int, default=1, metavar="N",
                   help="data-parallel over N devices of this machine (GPUs, else CPU "
                   "devices): --batch-size is the global batch (default 1)")
    s.add_argument("--coordinator", metavar="HOST:PORT", help="several hosts (JAX): join the "
                   "run whose process 0 listens there; with --num-processes and --process-id, "
                   "--devices counting every host's devices")
    s.add_argument("--num-processes", type=_positive_int, metavar="N",
                   help="processes of the several-host run (one per host)")
    s.add_argument("--process-id", type=_int_type(0), metavar="I",
                   help="this process's index, 0 .. N-1 (0 writes the run folder)")
    _add_train_pipeline(s)


def _add_degradation(sub):
    s = sub.add_parser(
        "degradation", help="plain-20/56 vs ResNet-20/56 (the paper's Fig. 6)",
        description="Train plain-20, plain-56, ResNet-20 and ResNet-56 on CIFAR-10 and draw the "
        "paper's Fig. 6. quick: seconds (CI); demo: ~12 min on 2 AMD EPYC cores (10k images); "
        "record: the decisive CPU run (all 50k images, 10 epochs: about 1.7 hours on 2 "
        "cores); full: the paper's recipe (GPU). Resumes if interrupted.")
    _add_mode_and_out(s, MODES, "runs/degradation-MODE")
    s.add_argument("--epochs", type=_positive_int, help="override the mode's epochs")
    s.add_argument("--warmup-epochs", type=_non_negative_number,
                   help="override the mode's linear warm-up (fewer than the epochs)")
    s.add_argument("--models", nargs="+", metavar="MODEL", help="train only these of plain20 "
                   "plain56 resnet20 resnet56 (e.g. one per process on a GPU)")
    _add_dtype_policy(s)
    _add_train_pipeline(s)
    _add_steps_per_execution(s)
    _add_seed(s)
    _add_data_dir(s)
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress output")


# `ablation NAME`'s help: one phrase per study of `studies.ABLATIONS`
_ABLATION_NAME_HELP = (
    "alexnet: ReLU/tanh, LRN, pooling; fig1: AlexNet's Fig. 1 (four-layer "
    "CNN, ReLU vs tanh); fig1_lr: the same with a learning-rate sweep per "
    "activation; fig1_lrn: LRN on/off (Sec. 3.3) and batch norm in that net; alexnet_reg: "
    "dropout, weight decay, overlapping pooling, augmentation; vgg: depth A vs D, "
    "pre-initialisation; vgg_depth: A, A-LRN, B, B-5x5, C, D, D from A, D with scale "
    "jittering at a quarter "
    "width; googlenet: auxiliary heads; googlenet_aux: the same at a quarter "
    "width; googlenet_naive: with vs without the 1x1 reductions, at the same "
    "width and the same cost; densenet: vs "
    "ResNet-20 at the same budget, growth rate, compression; densenet_bc28: the "
    "same at L=28 (ResNet-20's cost, 0.38x its parameters); mobilenet: width "
    "and resolution multipliers; mobilenet_conv: separable vs full convs, "
    "thinner vs shallower; mobilenet_resample: what resizing CIFAR's 32 px "
    "images costs; efficientnet: depth, width, resolution or compound "
    "scaling at ~3x FLOPs; efficientnet_scaling: the same from B0 at half "
    "width (the record); efficientnet_sd: stochastic depth on/off")


def _add_ablation(sub):
    s = sub.add_parser(
        "ablation", help="one idea of a paper on/off, the experiments of notebooks 01-07",
        description="Train the variants of an ablation on CIFAR-10 (same data, recipe and seed) "
        "and draw their curves. quick: seconds (CI); demo: minutes on 2 CPU cores (a subset); "
        "record: the decisive CPU run of the claims scoreboard, where the study has one (all "
        "50k images, from half an hour to about 3 hours a seed); full: all 50k images (GPU). "
        "Resumes if interrupted.")
    s.add_argument("name", choices=ABLATION_NAMES, help=_ABLATION_NAME_HELP)
    _add_mode_and_out(s, MODES, "runs/ablation-NAME-MODE")
    s.add_argument("--epochs", type=_positive_int, help="override the mode's epochs")
    s.add_argument("--variants", nargs="+", metavar="KEY",
                   help="train only these variants (e.g. relu tanh; one per process on a GPU)")
    _add_dtype_policy(s)
    _add_steps_per_execution(s)
    _add_seed(s)
    _add_data_dir(s)
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress output")


def _add_bench(sub):
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
    s.add_argument("--warmup", type=_int_type(0), default=5,
                   help="untimed steps first (5; 0 or more)")
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
    _add_seed(s)


def _add_transfer(sub):
    s = sub.add_parser(
        "transfer", help="fine-tune vs linear probe vs scratch on a CIFAR-10 class split "
        "(notebook 10)",
        description="Train ResNet-20 on five CIFAR-10 classes, then learn the other five from a "
        "few images per class three ways (from scratch, linear probe, fine-tuning) with the "
        "same batches, over seeds. quick: seconds (CI); demo: minutes on 2 CPU cores; record: "
        "the decisive run (41 minutes measured on 2 CPU cores). Resumes if interrupted, cell by "
        "cell; `cnn-keras record OUT results/transfer-cpu` keeps the finished run.")
    _add_mode_and_out(s, TRANSFER_MODES, "runs/transfer-MODE")
    s.add_argument("--shots", type=_positive_int, nargs="+", metavar="N",
                   help="training images per target class (the mode's)")
    s.add_argument("--seeds", type=_seed, nargs="+", metavar="S", help="seeds (the mode's)")
    _add_data_dir(s)
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress output")


def _add_distill(sub):
    s = sub.add_parser(
        "distill", help="knowledge distillation: the recorded AlexNet teaches a MobileNet "
        "(notebook 06)",
        description="Train mobilenet_cifar(alpha=0.25) on CIFAR-10 twice per seed, on the "
        "labels alone and with half its loss from the recorded AlexNet's softened outputs "
        "(Hinton et al. 2015, T = 4), and print each net's final test error. quick: seconds "
        "(CI); demo: 5,000 images, 6 epochs; record: all images, 10 epochs. Resumes after the "
        "last finished epoch if interrupted; `cnn-keras record OUT results/distill-cpu` keeps "
        "the finished run.")
    _add_mode_and_out(s, DISTILL_MODES, "runs/distill-MODE")
    s.add_argument("--seeds", type=_seed, nargs="+", metavar="S", default=[0],
                   help="seeds (0)")
    s.add_argument("--results", type=_results_dir, default="results",
                   help="the folder of recorded runs, where the teacher's weights are (results)")
    _add_data_dir(s)
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress output")


_SPEEDRUN_TRICKS = ("whitening", "dirac", "bias_scaler", "lookahead", "label_smoothing",
                    "alternating_flip", "tta")


def _add_speedrun(sub):
    s = sub.add_parser(
        "speedrun", help="airbench94 with its speedrun recipe on CIFAR-10 (the speed chapter)",
        description="Train airbench94 (Jordan 2024) on CIFAR-10 with the reference's speedrun "
        "recipe (whitening, identity init, lookahead, label smoothing 0.2, alternating flips, "
        "batch-norm biases at 64x the learning rate, flip-and-translate test-time "
        "augmentation), and print its test accuracy and wall time with set-up. Writes "
        "OUT/history.csv and OUT/run.json; interrupted, the same command resumes.")
    s.add_argument("--epochs", type=_positive_number, default=None,
                   help="epochs, may be fractional (the reference's 9.9)")
    s.add_argument("--without", nargs="+", metavar="TRICK", default=(), choices=_SPEEDRUN_TRICKS,
                   help="switch tricks off (the ablation): whitening, dirac, bias_scaler, "
                   "lookahead, label_smoothing, alternating_flip, tta")
    s.add_argument("--ablation", action="store_true",
                   help="the ablation: the full recipe, then each trick removed in turn, each "
                   "in OUT/<variant>-seed<S>; writes OUT/ablation.csv and OUT/ablation.png")
    s.add_argument("--batch-size", type=_positive_int, default=None, help="batch size (1024)")
    s.add_argument("--whiten-eps", type=_positive_number, default=None, metavar="EPS",
                   help="epsilon added to the patch covariance's eigenvalues before whitening "
                   "(the reference's 5e-4)")
    _add_subsets(s)
    _add_seed(s)
    s.add_argument("--out", type=_out_dir, default="runs/speedrun", help="output directory "
                   "(runs/speedrun)")
    _add_data_dir(s, name_default=True)
    s.add_argument("--dtype-policy", choices=("float32", "mixed_bfloat16"), default="float32",
                   help="float32 (default) or mixed_bfloat16")
    s.add_argument("--restart", action="store_true", help="discard a previous run in --out")
    s.add_argument("--quiet", action="store_true", help="no per-step progress output")


def _add_record(sub):
    s = sub.add_parser(
        "record", help="copy a finished study run under results/ (without its checkpoints)",
        description="Copy what a record needs from a finished `degradation`, `ablation` or "
        "`transfer` run "
        "(summary.csv, run.json, the figures, and each variant's history.csv and run.json) to "
        "DEST, leaving out the checkpoints, progress and lock files. For a repeat with another "
        "seed, name DEST RECORD-seed<N>: the claims read both.")
    s.add_argument("run_dir", type=_run_dir, metavar="RUN_DIR", help="the finished run's --out")
    s.add_argument("dest", type=_out_dir, metavar="DEST", help="e.g. results/degradation-cpu-10ep")


def _add_claims(sub):
    s = sub.add_parser(
        "claims", help="the papers' claims and their verdicts: write results/CLAIMS.md",
        description="Evaluate every claim of the notebooks against the recorded runs (measured "
        "gaps against the seed-to-seed spread; counting claims from the built nets) and write "
        "the scoreboard. Prints one summary line per paper.")
    s.add_argument("--results", type=_results_dir, default="results",
                   help="the folder of recorded runs (results)")
    s.add_argument("--out", help="where to write the scoreboard (RESULTS/CLAIMS.md)")
    s.add_argument("--notebook", choices=("01", "02", "03", "04", "05", "06", "07"),
                   help="print only this notebook's claims as a table (writes nothing)")
