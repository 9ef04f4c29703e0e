"""The ablations of notebooks 01-07: one idea of a paper switched on and off, everything else equal.

Each ablation trains a few *variants* of a CIFAR-10 net with `cnn_keras.training.train` (same
data, recipe, seed and pipeline), so a run is resumable and recorded like any other:
``OUT/<variant>/history.csv`` and ``run.json``, plus ``OUT/summary.csv``, ``OUT/ablation.png`` and
``OUT/run.json``. Modes: ``quick`` (a smoke run for CI, seconds), ``demo`` (minutes on 2 CPU
cores: a class-balanced subset) and ``full`` (all 50k images; for a GPU).

* ``alexnet`` (Krizhevsky et al. 2012): ReLU vs tanh (Sec. 3.1, Fig. 1: epochs to reach a
  training-error threshold), Local Response Normalization on/off (Sec. 3.3), overlapping 3x3/2 vs
  2x2/2 pooling (Sec. 3.4). `alexnet_cifar` with ``groups=1`` (the paper's two-GPU grouping is
  an implementation detail, and grouped convs run several times slower on CPUs) and He
  initialisation for every variant (with Keras' Glorot default the ReLU net barely moves in a
  CPU-sized run).
* ``fig1``: the paper's Fig. 1 itself — a four-layer CNN (`alexnet_fig1`) with ReLU vs tanh on
  all of CIFAR-10, constant lr, no weight decay or dropout: epochs to 25% training error, with
  He initialisation and with the paper's N(0, 0.01). Its ``demo`` is all 50k images for 20
  epochs (about 15 minutes on 2 CPU cores).
* ``vgg`` (Simonyan & Zisserman 2014): depth A (11 layers) vs D (16), and D pre-initialised from
  the trained A (Sec. 3.1), all without BatchNormalization as in the paper, He-initialised.
* ``googlenet`` (Szegedy et al. 2014): auxiliary classifiers on 4a and 4d on/off (Sec. 5).
* ``densenet`` (Huang et al. 2017): DenseNet-BC (L=52) against ResNet-20 at the same parameter
  budget (~0.27M), growth rate k = 12 vs 6, compression theta = 0.5 vs 1.0.
* ``mobilenet`` (Howard et al. 2017): the width multiplier alpha (1, 0.75, 0.5, 0.25) and the
  resolution multiplier rho (the 32x32 images resized to 28, 24, 20 pixels inside the net):
  accuracy against multiply-adds and parameters (Tables 6-7), in ``tradeoff.png``.
* ``efficientnet`` (Tan & Le 2019): the CIFAR B0 scaled by the compound rule (phi = 1: ~3x its
  multiply-adds on 32 px, where rounding the repeats up weighs more than on ImageNet) and by
  depth only, width only or resolution only to the same budget (Sec. 3.3 / Fig. 3); lr 0.05
  with a one-epoch warm-up, stochastic depth and dropout off (they only slow short runs).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from pathlib import Path

from cnn_keras import data as data_lib
from cnn_keras import plots, runinfo, training

MODES = ("quick", "demo", "full")
SUMMARY_FIELDS = ("variant", "label", "model", "trainable_params", "macs", "epochs",
                  "final_train_error", "final_test_error", "best_test_error",
                  "epochs_to_threshold", "train_seconds")


@dataclasses.dataclass(frozen=True)
class Variant:
    key: str  # a short name: the run's folder, and what `variants=` selects
    label: str
    model: str
    kwargs: dict = dataclasses.field(default_factory=dict)
    init_from: str | None = None  # the key of a variant whose trained net initialises this one


@dataclasses.dataclass(frozen=True)
class Ablation:
    name: str
    title: str
    variants: tuple[Variant, ...]
    lr: float
    weight_decay: float
    epochs: dict  # mode -> epochs
    sizes: dict  # mode -> (num_train, num_test); None: all
    threshold: dict  # mode -> training error (%) for "epochs to reach it"
    paper: str
    milestones: tuple = (0.5, 0.75)  # lr /10 at these fractions of the run; () for constant
    tradeoff: bool = False  # also draw tradeoff.png: error against multiply-adds and parameters
    warmup_epochs: float = 0.0  # linear lr warm-up over the first epochs

    def variant(self, key: str) -> Variant:
        keys = [v.key for v in self.variants]
        if key not in keys:
            raise ValueError(f"`variants` must name variants of {self.name!r}: {keys}. "
                             f"Received: {key!r}")
        return self.variants[keys.index(key)]


# quick: one batch of the recipes' 128 to train on (the least `train` accepts), half a batch to test
_SIZES = {"quick": (128, 64), "demo": (5_000, 1_000), "full": (None, None)}
_ALEX = {"groups": 1, "lrn": False, "init": "he"}
_VGG = {"batch_norm": False, "init": "he"}
_DENSE = {"depth": 52}
# Stochastic depth and dropout off: in runs of ~100 steps they only slow the start (measured:
# B0 on 2,000 images, 3 epochs, Adam: 19 % training accuracy with them, 31 % without).
_EFF = {"drop_connect_rate": 0.0, "dropout": 0.0}

ABLATIONS = {
    "alexnet": Ablation(
        name="alexnet",
        title="AlexNet on CIFAR-10: ReLU vs tanh, LRN, overlapping pooling",
        variants=(
            Variant("relu", "ReLU", "alexnet_cifar", _ALEX),
            Variant("tanh", "tanh", "alexnet_cifar", {**_ALEX, "activation": "tanh"}),
            Variant("relu_lrn", "ReLU + LRN", "alexnet_cifar", {**_ALEX, "lrn": True}),
            Variant("relu_pool2", "ReLU, 2x2/2 pooling", "alexnet_cifar",
                    {**_ALEX, "overlapping_pool": False}),
        ),
        lr=0.01, weight_decay=5e-4,
        epochs={"quick": 1, "demo": 4, "full": 15},
        sizes=_SIZES,
        threshold={"quick": 88.0, "demo": 75.0, "full": 25.0},
        paper="Fig. 1: a four-layer CNN with ReLUs reaches 25% training error on CIFAR-10 six "
              "times faster than with tanh; LRN: top-1 -1.4 points, overlapping pooling: -0.4 "
              "(ImageNet)",
    ),
    "fig1": Ablation(
        name="fig1",
        title="AlexNet Fig. 1 on CIFAR-10: a four-layer CNN with ReLU vs tanh",
        variants=(
            Variant("relu", "ReLU", "alexnet_fig1", {"init": "he"}),
            Variant("tanh", "tanh", "alexnet_fig1", {"init": "he", "activation": "tanh"}),
            Variant("relu_paper_init", "ReLU, paper's init N(0, 0.01)", "alexnet_fig1",
                    {"init": "paper"}),
            Variant("tanh_paper_init", "tanh, paper's init N(0, 0.01)", "alexnet_fig1",
                    {"init": "paper", "activation": "tanh"}),
        ),
        lr=0.01, weight_decay=0.0, milestones=(),
        epochs={"quick": 1, "demo": 20, "full": 40},
        sizes={"quick": (256, 128), "demo": (None, None), "full": (None, None)},
        threshold={"quick": 88.0, "demo": 25.0, "full": 25.0},
        paper="Fig. 1: the four-layer CNN with ReLUs reaches 25% training error on CIFAR-10 six "
              "times faster than with tanh (no regularization, lr chosen per net)",
    ),
    "vgg": Ablation(
        name="vgg",
        title="VGG on CIFAR-10: depth (A vs D) and pre-initialisation from A",
        variants=(
            Variant("A", "A (11 layers)", "vgg_cifar", {"config": "A", **_VGG}),
            Variant("D", "D (16 layers)", "vgg_cifar", {"config": "D", **_VGG}),
            Variant("D_from_A", "D, pre-initialised from A", "vgg_cifar",
                    {"config": "D", **_VGG}, init_from="A"),
        ),
        lr=0.01, weight_decay=5e-4,
        epochs={"quick": 1, "demo": 3, "full": 10},
        sizes=_SIZES,
        threshold={"quick": 88.0, "demo": 80.0, "full": 30.0},
        paper="Table 3: top-1 error 29.6% (A) -> 27.0% (D) at S=256 on ImageNet; deeper nets "
              "pre-initialised from A (Sec. 3.1)",
    ),
    "googlenet": Ablation(
        name="googlenet",
        title="GoogLeNet on CIFAR-10: auxiliary classifiers on/off",
        variants=(
            Variant("no_aux", "no auxiliary heads", "googlenet_cifar"),
            Variant("aux", "auxiliary heads (loss weight 0.3 each)", "googlenet_cifar",
                    {"aux_logits": True}),
        ),
        lr=0.01, weight_decay=2e-4,
        epochs={"quick": 1, "demo": 2, "full": 8},
        sizes={**_SIZES, "demo": (2_000, 500)},
        threshold={"quick": 88.0, "demo": 80.0, "full": 30.0},
        paper="Sec. 5: the auxiliary heads gave 'a minor effect ... around 0.5%'",
    ),
    "densenet": Ablation(
        name="densenet",
        title="DenseNet-BC vs ResNet-20 at ~0.27M parameters; growth rate k and compression",
        variants=(
            Variant("resnet20", "ResNet-20 (addition)", "resnet20"),
            Variant("k12", "DenseNet-BC L=52 k=12 theta=0.5", "densenet_bc", _DENSE),
            Variant("k6", "DenseNet-BC L=52 k=6", "densenet_bc", {**_DENSE, "growth_rate": 6}),
            Variant("theta1", "DenseNet-B L=52 k=12 theta=1 (no compression)", "densenet_bc",
                    {**_DENSE, "compression": 1.0}),
        ),
        lr=0.1, weight_decay=1e-4,
        epochs={"quick": 1, "demo": 6, "full": 60},
        sizes=_SIZES,
        threshold={"quick": 88.0, "demo": 50.0, "full": 10.0},
        paper="Table 2 / Fig. 4: DenseNet-BC (k=12) reaches ResNet's accuracy with about a third "
              "of the parameters; C10+ error 4.51% for L=100 (0.8M) vs 6.41% for ResNet-110 "
              "(1.7M)",
        tradeoff=True,
    ),
    "mobilenet": Ablation(
        name="mobilenet",
        title="MobileNet on CIFAR-10: width multiplier alpha and resolution multiplier rho",
        variants=(
            Variant("a1.0", "alpha=1.0, 32 px", "mobilenet_cifar", {"alpha": 1.0}),
            Variant("a0.75", "alpha=0.75, 32 px", "mobilenet_cifar", {"alpha": 0.75}),
            Variant("a0.5", "alpha=0.5, 32 px", "mobilenet_cifar", {"alpha": 0.5}),
            Variant("a0.25", "alpha=0.25, 32 px", "mobilenet_cifar", {"alpha": 0.25}),
            Variant("r28", "alpha=1.0, 28 px (rho=0.875)", "mobilenet_cifar",
                    {"alpha": 1.0, "resolution": 28}),
            Variant("r24", "alpha=1.0, 24 px (rho=0.75)", "mobilenet_cifar",
                    {"alpha": 1.0, "resolution": 24}),
            Variant("r20", "alpha=1.0, 20 px (rho=0.625)", "mobilenet_cifar",
                    {"alpha": 1.0, "resolution": 20}),
        ),
        lr=0.1, weight_decay=5e-5,
        epochs={"quick": 1, "demo": 6, "full": 60},
        sizes=_SIZES,
        threshold={"quick": 88.0, "demo": 50.0, "full": 10.0},
        paper="Tables 6-7 (ImageNet top-1): alpha 1.0/0.75/0.5/0.25: 70.6/68.4/63.7/50.6% at "
              "569/325/149/41M mult-adds; 224/192/160/128 px: 70.6/69.1/67.2/64.4% at "
              "569/418/290/186M",
        tradeoff=True,
    ),
    "efficientnet": Ablation(
        name="efficientnet",
        title="EfficientNet on CIFAR-10: B0 scaled to ~3x FLOPs by depth, width, resolution "
              "or all three",
        variants=(
            Variant("b0", "B0 (d=1, w=1, 32 px)", "efficientnet_cifar", _EFF),
            Variant("depth", "depth only (d=2.6)", "efficientnet_cifar",
                    {**_EFF, "depth_coefficient": 2.6}),
            Variant("width", "width only (w=1.7)", "efficientnet_cifar",
                    {**_EFF, "width_coefficient": 1.7}),
            Variant("resolution", "resolution only (50 px)", "efficientnet_cifar",
                    {**_EFF, "resolution": 50}),
            Variant("compound", "compound phi=1 (d=1.2, w=1.1, 36 px)", "efficientnet_cifar",
                    {**_EFF, "phi": 1}),
        ),
        lr=0.05, weight_decay=5e-5, warmup_epochs=1,
        epochs={"quick": 1, "demo": 6, "full": 60},
        sizes={**_SIZES, "demo": (2_500, 1_000)},
        threshold={"quick": 88.0, "demo": 70.0, "full": 10.0},
        paper="Fig. 3 / Table 3: scaling depth, width or resolution alone saturates near 80% "
              "top-1; compound scaling of B0 (MobileNet/ResNet too) gives up to +1.4 points "
              "at the same FLOPs",
        tradeoff=True,
    ),
}


def get(name: str) -> Ablation:
    if name not in ABLATIONS:
        raise ValueError(f"`name` must be one of {list(ABLATIONS)}. Received: name={name!r}")
    return ABLATIONS[name]


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {list(MODES)}. Received: mode={mode!r}")


def recipe(ablation: Ablation, mode: str, epochs: int | None = None) -> training.Recipe:
    """The paper's SGD (momentum 0.9, its weight decay and lr), lr /10 at 50% and 75%."""
    base = training.scaled_recipe(epochs or ablation.epochs[mode], lr=ablation.lr,
                                  weight_decay=ablation.weight_decay,
                                  warmup_epochs=ablation.warmup_epochs)
    if ablation.milestones == base.milestones:
        return base
    return dataclasses.replace(base, milestones=tuple(ablation.milestones),
                               name=f"{base.name}-constant-lr" if not ablation.milestones
                               else f"{base.name}-drops{list(ablation.milestones)}")


def load_data(ablation: Ablation, mode: str, data_dir=None, seed: int = 0, verbose=True):
    """CIFAR-10 at the mode's size; in quick mode a synthetic stand-in where none is found."""
    _check_mode(mode)
    num_train, num_test = ablation.sizes[mode]
    return data_lib.cifar10_subset(num_train, num_test, data_dir=data_dir, seed=seed,
                                   verbose=verbose, synthetic_fallback=mode == "quick")


def epochs_to_error(history: list[dict], threshold: float) -> int | None:
    """The first epoch whose training error (%) is at or below `threshold`; None if never."""
    for row in history:
        if 100 * (1 - row["accuracy"]) <= threshold:
            return int(row["epoch"])
    return None


def run(name: str | Ablation, mode: str = "demo", out_dir=None, *, data_dir=None, seed: int = 0,
        epochs: int | None = None, variants=None, dtype_policy: str = "float32",
        verbose="auto", data=None) -> list[dict]:
    """Train the variants of an ablation and write their histories, summary.csv, ablation.png
    and run.json in `out_dir` (default runs/ablation-NAME-MODE). Returns the summary rows.

    `name` is a key of `ABLATIONS` or your own `Ablation`, e.g.
    ``dataclasses.replace(ABLATIONS["fig1"], name="fig1-lr0.02", lr=0.02)``. `variants` picks
    variant keys (the ones they are initialised from are trained first); default all. Finished
    variants are not trained again, so an interrupted run resumes, and separate processes can
    train separate variants at once; the summary and figure show every finished variant."""
    ablation = name if isinstance(name, Ablation) else get(name)
    _check_mode(mode)
    keys = variants or [v.key for v in ablation.variants]
    chosen = [ablation.variant(k) for k in dict.fromkeys(keys)]
    for v in list(chosen):  # dependencies first
        if v.init_from and ablation.variant(v.init_from) not in chosen:
            chosen.insert(0, ablation.variant(v.init_from))
    chosen.sort(key=lambda v: v.init_from is not None)
    out_dir = Path(out_dir or f"runs/ablation-{ablation.name}-{mode}")
    started = time.time()
    meta = runinfo.run_metadata()
    if data is None:
        data = load_data(ablation, mode, data_dir, seed=seed, verbose=bool(verbose))
    rec = recipe(ablation, mode, epochs)
    histories = {}
    for i, v in enumerate(chosen, 1):
        if verbose:
            print(f"[{i}/{len(chosen)}] {v.label}: {v.model}({v.kwargs}), "
                  f"{len(data.x_train)} training images, recipe {rec.name}", flush=True)
        histories[v.key] = training.train(
            v.model, data, out_dir / v.key, recipe=rec, seed=seed, model_kwargs=v.kwargs,
            verbose=verbose, dtype_policy=dtype_policy,
            init_from=out_dir / v.init_from if v.init_from else None,
            meta={"experiment": f"ablation/{ablation.name}/{mode}", "variant": v.label})
    # The summary and figure show every finished variant in out_dir, not only those trained now
    # (a run of one variant must not hide the others).
    for v in ablation.variants:
        run_json = out_dir / v.key / "run.json"
        if v.key not in histories and run_json.exists() and \
                json.loads(run_json.read_text()).get("status") == "finished":
            histories[v.key] = training.read_history_csv(out_dir / v.key / "history.csv")
    shown = [v for v in ablation.variants if v.key in histories]
    rows = summary(ablation, mode, out_dir, [v.key for v in shown], histories)
    hw = json.loads((out_dir / chosen[0].key / "run.json").read_text())["hardware"]
    ds = data.describe()
    precision = "" if dtype_policy == "float32" else f", {dtype_policy}"
    caption = (f"CIFAR-10 ({ds['num_train']} train / {ds['num_test']} test images), "
               f"{rows[0]['epochs']} epochs, lr {rec.lr:g}, weight decay {rec.weight_decay:g}, "
               f"mode={mode}, seed={seed}{precision}; {hw['device']}, {hw['cpu']}")
    fig = plots.ablation_figure({v.label: histories[v.key] for v in shown},
                                out_dir / "ablation.png", title=ablation.title, caption=caption)
    plots.plt.close(fig)
    if ablation.tradeoff:
        fig = plots.tradeoff_figure(rows, out_dir / "tradeoff.png", caption=caption,
                                    title=f"{ablation.title}: accuracy vs cost")
        plots.plt.close(fig)
    meta.update({"experiment": f"ablation/{ablation.name}", "mode": mode, "seed": seed,
                 "dataset": ds, "recipe": rec.to_dict(), "dtype_policy": dtype_policy,
                 "training_hardware": hw, "threshold_train_error": ablation.threshold[mode],
                 "paper": ablation.paper, "summary": rows, "finished": runinfo.now(),
                 "wall_seconds_this_session": round(time.time() - started, 1)})
    (out_dir / "run.json").write_text(json.dumps(meta, indent=1))
    if verbose:
        print_summary(rows, ablation.threshold[mode])
        print(f"Figure: {out_dir / 'ablation.png'}")
    return rows


def summary(ablation: Ablation, mode: str, out_dir: Path, keys, histories) -> list[dict]:
    rows = []
    for key in keys:
        v, history = ablation.variant(key), histories[key]
        info = json.loads((out_dir / key / "run.json").read_text())
        last = history[-1]
        rows.append({
            "variant": key, "label": v.label, "model": v.model,
            "trainable_params": info.get("params", {}).get("trainable"),
            "macs": info.get("macs"),
            "epochs": len(history),
            "final_train_error": round(100 * (1 - last["accuracy"]), 2),
            "final_test_error": round(100 * (1 - last["val_accuracy"]), 2),
            "best_test_error": round(100 * (1 - max(r["val_accuracy"] for r in history)), 2),
            "epochs_to_threshold": epochs_to_error(history, ablation.threshold[mode]),
            "train_seconds": round(sum(r["seconds"] for r in history), 1),
        })
    with open(out_dir / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS)
        w.writeheader()
        w.writerows(rows)
    return rows


def print_summary(rows: list[dict], threshold: float) -> None:
    print(f"{'variant':<48}{'params':>11}{'MMACs':>8}{'ep':>4}{'train err %':>12}{'test err %':>11}"
          f"{f'ep to {threshold:g}%':>10}{'s':>7}")
    for r in rows:
        reached = r["epochs_to_threshold"] or "-"
        macs = f"{r['macs'] / 1e6:.1f}" if r.get("macs") else "-"
        print(f"{r['label']:<48}{r['trainable_params']:>11,}{macs:>8}{r['epochs']:>4}"
              f"{r['final_train_error']:>12.2f}{r['final_test_error']:>11.2f}{reached:>10}"
              f"{r['train_seconds']:>7.0f}")


def load(out_dir) -> dict:
    """A finished ablation run: its run.json (with the summary rows) and each variant's history."""
    out_dir = Path(out_dir)
    info = json.loads((out_dir / "run.json").read_text())
    info["histories"] = {r["label"]: training.read_history_csv(out_dir / r["variant"] /
                                                               "history.csv")
                         for r in info["summary"]}
    return info
