"""The studies of notebooks 01-07 as data: one idea of a paper switched on and off, everything
else equal. `runner.run` trains any of them.

A `Study` lists its *variants* (a registry model and its keyword arguments, or where its weights
start) and, per mode, the data size, epochs and the training-error threshold of "epochs to reach
it"; the recipe is the paper's SGD scaled to the epochs. Modes: ``quick`` (a smoke run for CI,
seconds), ``demo`` (minutes on 2 CPU cores: a class-balanced subset), ``record`` (the decisive
CPU run of the claims scoreboard, all 50k images) and ``full`` (all 50k images; for a GPU).

* ``degradation`` (He et al. 2015, Fig. 6): plain-20/56 vs ResNet-20/56; ``full`` is the
  paper's recipe itself (64k iterations), per net.

* ``alexnet`` (Krizhevsky et al. 2012): ReLU vs tanh (Sec. 3.1, Fig. 1: epochs to reach a
  training-error threshold), Local Response Normalization on/off (Sec. 3.3), overlapping 3x3/2 vs
  2x2/2 pooling (Sec. 3.4). `alexnet_cifar` with ``groups=1`` (the paper's two-GPU grouping is
  an implementation detail, and grouped convs are slow on CPUs: docs/benchmarks.md) and He
  initialisation for every variant (with Keras' Glorot default the ReLU net barely moves in a
  CPU-sized run).
* ``fig1``: the paper's Fig. 1 itself — a four-layer CNN (`alexnet_fig1`) with ReLU vs tanh on
  all of CIFAR-10, constant lr, no weight decay or dropout: epochs to 25% training error, with
  He initialisation and with the paper's N(0, 0.01). Its ``demo`` is all 50k images for 20
  epochs (its time: notebook 01).
* ``fig1_lr`` / ``fig1_lrn`` / ``alexnet_reg``: the decisive records of notebook 01 (Fig. 1 with a
  learning-rate sweep per activation; LRN and batch norm on CIFAR-10, Sec. 3.3; dropout, weight
  decay, overlapping pooling and augmentation on `alexnet_cifar` at half width). Like every
  ``*_depth``, ``*_aux``, ``*_naive``, ``*_conv``, ``*_resample``, ``*_scaling``, ``*_sd`` and
  ``densenet_bc28`` study below, they have only ``quick`` and ``record`` modes.
* ``vgg`` (Simonyan & Zisserman 2014): depth A (11 layers) vs D (16), and D pre-initialised from
  the trained A (Sec. 3.1), all without BatchNormalization as in the paper, He-initialised.
  ``vgg_depth``: A, A-LRN, B, B-5x5, C, D, D from A and D with scale jittering (S in [32, 64],
  Sec. 3.1) at a quarter width (the record).
* ``googlenet`` (Szegedy et al. 2014): auxiliary classifiers on 4a and 4d on/off (Sec. 5);
  ``googlenet_aux`` the same at a quarter width and ``googlenet_naive`` the modules without their
  1x1 reductions at a sixteenth, against the reduced ones at the same width and at the naive
  net's cost (the records).
* ``densenet`` (Huang et al. 2017): DenseNet-BC (L=52) against ResNet-20 at the same parameter
  budget (~0.27M), growth rate k = 12 vs 6, compression theta = 0.5 vs 1.0; its ``record`` mode
  is the 10-epoch CPU version of the equal-parameter pair. ``densenet_bc28`` (the record):
  DenseNet-BC at L=28, ResNet-20's multiply-adds at 0.38x its parameters, with the same two
  switches.
* ``mobilenet`` (Howard et al. 2017): the width multiplier alpha (1, 0.75, 0.5, 0.25) and the
  resolution multiplier rho (the 32x32 images resized to 28, 24, 20 pixels inside the net):
  accuracy against multiply-adds and parameters (Tables 6-7), in ``tradeoff.png``;
  ``mobilenet_conv``: separable vs full convolutions, thinner vs shallower at alpha 0.5;
  ``mobilenet_resample``: what resizing the 32 px images costs, the detail lost against the
  smaller maps (28 px, 28 px resized back to 32, 36 px, at alpha 0.25).
* ``efficientnet`` (Tan & Le 2019): the CIFAR B0 scaled by the compound rule (phi = 1: ~3x its
  multiply-adds on 32 px, where rounding the repeats up weighs more than on ImageNet) and by
  depth only, width only or resolution only to the same budget (Sec. 3.3 / Fig. 3); lr 0.05
  with a one-epoch warm-up, stochastic depth and dropout off (they only slow short runs).
  ``efficientnet_scaling`` and ``efficientnet_sd`` (the records): B0 at half width scaled ~2.9x
  four ways, and stochastic depth on/off.
"""

from __future__ import annotations

import dataclasses

from cnn_keras.checks import check_choice

# quick: CI smoke runs; demo: minutes on a laptop; record: the decisive CPU run recorded under
# results/ (all 50k images, long enough to decide); full: the longest, for a GPU
MODES = ("quick", "demo", "record", "full")


@dataclasses.dataclass(frozen=True)
class Variant:
    key: str  # a short name: the run's folder, and what `variants=` selects
    label: str
    model: str
    kwargs: dict = dataclasses.field(default_factory=dict)
    init_from: str | None = None  # the key of a variant whose trained net initialises this one
    series: str | None = None  # joined in the trade-off figure ("alpha"; "alpha+rho": both)
    recipe: dict = dataclasses.field(default_factory=dict)  # e.g. {"lr": 0.03}: this variant's
    # own recipe settings (a learning-rate sweep, weight decay off), over the study's


@dataclasses.dataclass(frozen=True)
class Study:
    """One idea on and off: the variants, and per mode their data, length and threshold."""

    name: str
    title: str
    variants: tuple[Variant, ...]
    lr: float
    weight_decay: float
    epochs: dict  # mode -> epochs (None in "full": the paper's own recipe, `paper_recipe`)
    sizes: dict  # mode -> (num_train, num_test); None: all
    threshold: dict  # mode -> training error (%) for "epochs to reach it"; None: not counted
    paper: str
    milestones: tuple = (0.5, 0.75)  # lr /10 at these fractions of the run; () for constant
    tradeoff: bool = False  # also draw tradeoff.png: error against multiply-adds and parameters
    warmup_epochs: float | dict = 0.0  # linear lr warm-up over the first epochs (or per mode)
    batch_size: dict = dataclasses.field(default_factory=dict)  # mode -> batch (default 128)
    figure: str = "ablation"  # or "degradation": the paper's Fig. 6 layout, plain | residual
    recipe: dict = dataclasses.field(default_factory=dict)  # settings of every variant's recipe
    # (e.g. {"augment": False}), over the paper's SGD

    def variant(self, key: str) -> Variant:
        keys = [v.key for v in self.variants]
        if key not in keys:
            raise ValueError(f"`variants` must name variants of {self.name!r}: {keys}. "
                             f"Received: {key!r}")
        return self.variants[keys.index(key)]

    def check_mode(self, mode: str) -> None:
        """ValueError unless this study defines `mode` (not every study has every mode)."""
        if mode not in self.epochs:
            raise ValueError(f"`mode` must be one of the modes of study {self.name!r}: "
                             f"{list(self.epochs)}. Received: mode={mode!r}")

    def warmup(self, mode: str) -> float:
        w = self.warmup_epochs
        return w.get(mode, 0.0) if isinstance(w, dict) else w


Ablation = Study  # an ablation is a study; the older name


# quick: one batch of the recipes' 128 to train on (the least `train` accepts), half a batch to test
_SIZES = {"quick": (128, 64), "demo": (5_000, 1_000), "full": (None, None)}
_ALEX = {"groups": 1, "lrn": False, "init": "he"}
_ALEX_HALF = {**_ALEX, "width": 0.5}
_VGG = {"batch_norm": False, "init": "he"}
_VGG4 = {**_VGG, "width": 0.25}  # d2l's quarter width (16-128 filters): the records
_DENSE = {"depth": 52}
_DENSE28 = {"depth": 28, "growth_rate": 12}
# Stochastic depth and dropout off: in runs of ~100 steps they only slow the start (notebook
# 07; the `efficientnet_sd` record measures them at full length).
_EFF = {"drop_connect_rate": 0.0, "dropout": 0.0}
# The records' base: B0 at half width (9.9M multiply-adds against B0's 32.0M; B0 itself is
# too slow for a CPU record: docs/claims.md)
_EFF_HALF = {**_EFF, "width_coefficient": 0.5}

_FIG1 = ("Fig. 1: the four-layer CNN with ReLUs reaches 25% training error on CIFAR-10 six "
         "times faster than with tanh (no regularization, lr chosen per net)")

ABLATIONS = {
    "alexnet": Study(
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
    "fig1": Study(
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
        paper=_FIG1,
    ),
    # The decisive Fig. 1 run (results/alexnet-fig1-cpu): "the learning rates for each network
    # were chosen independently to make training as fast as possible", so each activation gets
    # a sweep and the fastest of it counts; the paper's N(0, 0.01) init, constant lr, and "no
    # regularization of any kind" (no weight decay, no augmentation). 25 epochs on all 50k. The
    # sweep's top end (0.1) lies above both nets' fastest rate (results/alexnet-fig1-cpu), so
    # neither optimum sits at an edge of the sweep.
    "fig1_lr": Study(
        name="fig1_lr",
        title="AlexNet Fig. 1 on CIFAR-10: ReLU vs tanh (and the notes' sigmoid), each at its "
              "fastest learning rate",
        variants=tuple(
            Variant(f"{act}_lr{lr:g}", f"{label}, lr {lr:g}", "alexnet_fig1",
                    {"init": "paper", "activation": act}, recipe={"lr": lr})
            for act, label in (("relu", "ReLU"), ("tanh", "tanh"), ("sigmoid", "sigmoid"))
            for lr in (0.003, 0.01, 0.03, 0.1)),
        lr=0.01, weight_decay=0.0, milestones=(), recipe={"augment": False},
        epochs={"quick": 1, "record": 25},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": 88.0, "record": 25.0},
        paper=_FIG1,
    ),
    # Sec. 3.3 on CIFAR-10 (results/alexnet-lrn-cpu): the Fig. 1 net with and without LRN
    # after conv1 and conv2, trained as a classifier is (augmentation, weight decay 5e-4, lr
    # 0.01 /10 at 50 % and 75 %), 30 epochs, three seeds (`--seed 1`, `--seed 2` into
    # results/alexnet-lrn-cpu-seed<N>). `bn`: batch norm in LRN's place, the notes' "later
    # replaced by Batch Normalization", measured in the same record.
    "fig1_lrn": Study(
        name="fig1_lrn",
        title="Local response normalisation in a four-layer CNN on CIFAR-10 (Sec. 3.3)",
        variants=(Variant("no_lrn", "no normalisation", "alexnet_fig1", {"init": "he"}),
                  Variant("lrn", "LRN after conv1 and conv2", "alexnet_fig1",
                          {"init": "he", "lrn": True}),
                  Variant("bn", "batch norm in LRN's place", "alexnet_fig1",
                          {"init": "he", "batch_norm": True})),
        lr=0.01, weight_decay=5e-4,
        epochs={"quick": 1, "record": 30},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Sec. 3.3: on CIFAR-10 a four-layer CNN had 13% test error without normalization "
              "and 11% with it",
    ),
    # Sec. 4.2 (dropout), Sec. 5 (weight decay lowers the *training* error) and Sec. 3.4
    # (overlapping pooling) on CIFAR-10 (results/alexnet-cpu): alexnet_cifar at half the conv
    # width (47.6M multiply-adds; the FC top, where dropout acts, is whole) with each of the three
    # switched off in turn against the paper's setting, and the augmentation (Sec. 4.1: without
    # it "substantial overfitting"). No LRN (decided by fig1_lrn), groups 1.
    "alexnet_reg": Study(
        name="alexnet_reg",
        title="AlexNet's dropout, weight decay and overlapping pooling on CIFAR-10",
        variants=(
            Variant("paper", "dropout 0.5, weight decay 5e-4, 3x3/2 pools", "alexnet_cifar",
                    _ALEX_HALF),
            Variant("no_dropout", "no dropout", "alexnet_cifar", {**_ALEX_HALF, "dropout": 0.0}),
            Variant("no_wd", "no weight decay", "alexnet_cifar", _ALEX_HALF,
                    recipe={"weight_decay": 0.0}),
            Variant("pool2", "2x2/2 pools", "alexnet_cifar",
                    {**_ALEX_HALF, "overlapping_pool": False}),
            Variant("no_aug", "no augmentation", "alexnet_cifar", _ALEX_HALF,
                    recipe={"augment": False}),
        ),
        lr=0.01, weight_decay=5e-4,
        epochs={"quick": 1, "record": 15},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Sec. 4.2: without dropout 'substantial overfitting' (Sec. 4.1: so without "
              "augmentation); Sec. 5: weight decay "
              "'reduces the model's training error'; Sec. 3.4: overlapping pooling -0.4 points "
              "top-1 (ImageNet)",
    ),
    "vgg": Study(
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
    # Table 3 and Sec. 3.1/4.1 on CIFAR-10 (results/vgg-cpu): the configurations at a quarter
    # width (as d2l trains VGG), no batch norm, He init: depth (A, B, D), LRN (A-LRN), one 5x5
    # against two 3x3 (B-5x5), 1x1 against 3x3 convs (C: B's extra non-linearity; D: C with
    # spatial context) and D pre-initialised from the trained A.
    "vgg_depth": Study(
        name="vgg_depth",
        title="VGG at a quarter width on CIFAR-10: depth, 3x3 stacks vs 5x5, LRN, "
              "pre-initialisation",
        variants=(
            Variant("A", "A (11 layers)", "vgg_cifar", {"config": "A", **_VGG4}),
            Variant("A_lrn", "A-LRN", "vgg_cifar", {"config": "A-LRN", **_VGG4}),
            Variant("B", "B (13 layers)", "vgg_cifar", {"config": "B", **_VGG4}),
            Variant("B5", "B with one 5x5 per pair of 3x3", "vgg_cifar",
                    {"config": "B-5x5", **_VGG4}),
            Variant("C", "C (B + a 1x1 conv in stages 3-5)", "vgg_cifar",
                    {"config": "C", **_VGG4}),
            Variant("D", "D (16 layers)", "vgg_cifar", {"config": "D", **_VGG4}),
            Variant("D_from_A", "D, pre-initialised from A", "vgg_cifar",
                    {"config": "D", **_VGG4}, init_from="A"),
            # Sec. 3.1's multi-scale training: the paper's S in [256, 512] for 224 crops is
            # an enlargement of 1.14-2.29x; here 1-2x (S in [32, 64] for 32 px), before the
            # pad-crop-flip the others get too; tested on the 32 px images (Q = S_min)
            Variant("D_jitter", "D, scale jittering (S in [32, 64])", "vgg_cifar",
                    {"config": "D", **_VGG4}, recipe={"scale_jitter": (32, 64)}),
        ),
        lr=0.01, weight_decay=5e-4,
        epochs={"quick": 1, "record": 20},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Table 3 (ImageNet top-1, S=256): A 29.6%, A-LRN 29.7%, B 28.7%, C 28.1%, "
              "D 27.0%; "
              "Sec. 4.1: B with 5x5 convs 7% worse than with 3x3 pairs",
    ),
    "googlenet": Study(
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
    # Sec. 5 on CIFAR-10 (results/googlenet-aux-cpu): googlenet_cifar at a quarter width (91M
    # multiply-adds) with and without the two auxiliary heads (loss weight 0.3 each).
    "googlenet_aux": Study(
        name="googlenet_aux",
        title="GoogLeNet at a quarter width on CIFAR-10: auxiliary classifiers on/off",
        variants=(Variant("no_aux", "no auxiliary heads", "googlenet_cifar", {"width": 0.25}),
                  Variant("aux", "auxiliary heads (loss weight 0.3 each)", "googlenet_cifar",
                          {"width": 0.25, "aux_logits": True})),
        lr=0.01, weight_decay=2e-4,
        epochs={"quick": 1, "record": 12},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Sec. 5: the auxiliary heads gave 'a minor effect ... around 0.5%'",
    ),
    # Sec. 4, Fig. 2 on CIFAR-10 (results/googlenet-naive-cpu): the 1x1 reductions' accuracy at
    # their cost, at a sixteenth of the width (6.0M vs 62.0M multiply-adds, 10.3x): an eighth
    # is too slow for a CPU record (notebook 03). The
    # paper's point is what the saving buys ("increasing the number of units at each stage
    # significantly without an uncontrolled blow-up"), so the reduced modules also run at a
    # fifth of the width: 58.6M multiply-adds, 0.94x the naive net's.
    "googlenet_naive": Study(
        name="googlenet_naive",
        title="GoogLeNet on CIFAR-10: inception modules with and without the 1x1 reductions, "
              "at a sixteenth of the width and at the naive modules' cost",
        variants=(Variant("reduced", "with 1x1 reductions (Fig. 2b)", "googlenet_cifar",
                          {"width": 0.0625}),
                  Variant("naive", "naive modules (Fig. 2a)", "googlenet_cifar",
                          {"width": 0.0625, "naive": True}),
                  Variant("reduced_wide", "with 1x1 reductions at 1/5 width (the naive net's "
                          "multiply-adds)", "googlenet_cifar", {"width": 0.2})),
        lr=0.01, weight_decay=2e-4,
        epochs={"quick": 1, "record": 10},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Sec. 4: without the reductions the modules 'lead to a computational blow up'",
        tradeoff=True,
    ),
    "densenet": Study(
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
        # record: the CPU version of equal parameters (results/densenet-eq-cpu), with
        # --variants resnet20 k12, 10 epochs as densenet_bc28; full: the GPU's 60 epochs
        # (densenet-eq)
        epochs={"quick": 1, "demo": 6, "record": 10, "full": 60},
        sizes={**_SIZES, "record": (None, None)},
        threshold={"quick": 88.0, "demo": 50.0, "record": None, "full": 10.0},
        paper="Table 2 / Fig. 4: DenseNet-BC (k=12) reaches ResNet's accuracy with about a third "
              "of the parameters; C10+ error 4.51% for L=100 (0.8M) vs 6.41% for ResNet-110 "
              "(1.7M, as re-run in the stochastic-depth paper; He et al.: 6.61%)",
        tradeoff=True,
    ),
    # Fig. 4 middle and Table 2 on CIFAR-10 (results/densenet-cpu): DenseNet-BC at L=28 (4
    # layers per block) has ResNet-20's multiply-adds (43.7M vs 40.6M) with 0.38x its trainable
    # parameters (102,730 vs 269,722), so "a third of the parameters for the same error" is
    # decided at equal cost; growth rate k=12 vs 6 and compression theta 0.5 vs 1 at the same
    # depth. L=52 (ResNet-20's parameters) is several times slower per epoch on a CPU
    # (docs/claims.md): `densenet` runs it (results/densenet-eq-cpu).
    "densenet_bc28": Study(
        name="densenet_bc28",
        title="DenseNet-BC (L=28) vs ResNet-20 on CIFAR-10: parameters, growth rate, "
              "compression",
        variants=(
            Variant("resnet20", "ResNet-20 (0.27M)", "resnet20"),
            Variant("bc28_k12", "DenseNet-BC L=28 k=12 theta=0.5 (0.11M)", "densenet_bc",
                    _DENSE28),
            Variant("bc28_k6", "DenseNet-BC L=28 k=6", "densenet_bc",
                    {**_DENSE28, "growth_rate": 6}),
            Variant("b28_k12", "DenseNet-B L=28 k=12 theta=1 (no compression)", "densenet_bc",
                    {**_DENSE28, "compression": 1.0}),
            # Sec. 4.3 "Overfitting": without augmentation (C10) the DenseNets' lead is largest
            Variant("resnet20_no_aug", "ResNet-20, no augmentation", "resnet20",
                    recipe={"augment": False}),
            Variant("bc28_k12_no_aug", "DenseNet-BC L=28 k=12, no augmentation", "densenet_bc",
                    _DENSE28, recipe={"augment": False}),
        ),
        lr=0.1, weight_decay=1e-4,
        epochs={"quick": 1, "record": 10},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Fig. 4 middle: DenseNet-BC reaches ResNet's error with about a third of the "
              "parameters; Table 2 (C10+): L=100 k=12 4.10 % -> k=24 3.74 %; BC-100 4.51 % at "
              "0.8M",
        tradeoff=True,
    ),
    "mobilenet": Study(
        name="mobilenet",
        title="MobileNet on CIFAR-10: width multiplier alpha and resolution multiplier rho",
        variants=(
            Variant("a1.0", "alpha=1.0, 32 px", "mobilenet_cifar",
                    {"alpha": 1.0}, series="alpha+rho"),
            Variant("a0.75", "alpha=0.75, 32 px", "mobilenet_cifar",
                    {"alpha": 0.75}, series="alpha"),
            Variant("a0.5", "alpha=0.5, 32 px", "mobilenet_cifar",
                    {"alpha": 0.5}, series="alpha"),
            Variant("a0.25", "alpha=0.25, 32 px", "mobilenet_cifar",
                    {"alpha": 0.25}, series="alpha"),
            Variant("r28", "alpha=1.0, 28 px (rho=0.875)", "mobilenet_cifar",
                    {"alpha": 1.0, "resolution": 28}, series="rho"),
            Variant("r24", "alpha=1.0, 24 px (rho=0.75)", "mobilenet_cifar",
                    {"alpha": 1.0, "resolution": 24}, series="rho"),
            Variant("r20", "alpha=1.0, 20 px (rho=0.625)", "mobilenet_cifar",
                    {"alpha": 1.0, "resolution": 20}, series="rho"),
        ),
        lr=0.1, weight_decay=5e-5,
        # record (results/mobilenet-cpu): 10 epochs on all 50k, the curves from final epochs
        epochs={"quick": 1, "demo": 6, "record": 10, "full": 60},
        sizes={**_SIZES, "record": (None, None)},
        threshold={"quick": 88.0, "demo": 50.0, "record": None, "full": 10.0},
        paper="Tables 6-7 (ImageNet top-1): alpha 1.0/0.75/0.5/0.25: 70.6/68.4/63.7/50.6% at "
              "569/325/149/41M mult-adds; 224/192/160/128 px: 70.6/69.1/67.2/64.4% at "
              "569/418/290/186M",
        tradeoff=True,
    ),
    # Tables 4 and 5 on CIFAR-10 (results/mobilenet-conv-cpu), from mobilenet_cifar at alpha 0.5:
    # full 3x3 convolutions instead of depthwise separable ones (8.2x the multiply-adds), and
    # at equal cost a thinner net (alpha 0.375) against a shallower one (no 5x 512-layers).
    "mobilenet_conv": Study(
        name="mobilenet_conv",
        title="MobileNet (alpha 0.5) on CIFAR-10: separable vs full convolutions, thinner vs "
              "shallower",
        variants=(
            Variant("separable", "alpha 0.5, depthwise separable", "mobilenet_cifar",
                    {"alpha": 0.5}),
            Variant("full", "alpha 0.5, full 3x3 convolutions", "mobilenet_cifar",
                    {"alpha": 0.5, "conv": "full"}),
            Variant("thin", "alpha 0.375 (thinner)", "mobilenet_cifar", {"alpha": 0.375}),
            Variant("shallow", "alpha 0.5 without the 5x 512-layers (shallower)",
                    "mobilenet_cifar", {"alpha": 0.5, "shallow": True}),
        ),
        lr=0.1, weight_decay=5e-5,
        epochs={"quick": 1, "record": 15},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Table 4: separable 70.6% vs full 71.7% top-1 at 569M vs 4866M mult-adds; "
              "Table 5: 0.75 MobileNet 68.4% vs shallow 65.3% at 325M vs 307M",
        tradeoff=True,
    ),
    # The rho curve of results/mobilenet-cpu steps at the first resize (32 -> 28 px), then
    # flattens (docs/claims.md): is it the information the resampling loses, or the smaller
    # maps? At alpha 0.25 (cheap enough for a record): native 32 px, 28 px, 28 px resized back
    # to 32 (the 32 px maps on what 28 px keeps), and 36 px (upsampled, as EfficientNet's
    # resolution scaling does). Record: results/mobilenet-resample-cpu.
    "mobilenet_resample": Study(
        name="mobilenet_resample",
        title="MobileNet (alpha 0.25) on CIFAR-10: what resizing the 32 px images costs",
        variants=(
            Variant("native", "32 px (no resizing)", "mobilenet_cifar", {"alpha": 0.25}),
            Variant("r28", "28 px", "mobilenet_cifar", {"alpha": 0.25, "resolution": 28}),
            Variant("r28_32", "28 px, resized back to 32", "mobilenet_cifar",
                    {"alpha": 0.25, "resolution": (28, 32)}),
            Variant("r36", "36 px (upsampled)", "mobilenet_cifar",
                    {"alpha": 0.25, "resolution": 36}),
        ),
        lr=0.1, weight_decay=5e-5,
        epochs={"quick": 1, "record": 10},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Table 7 (ImageNet, every resolution a resample of a larger photo): 70.6 / 69.1 / "
              "67.2 / 64.4% top-1 at 224 / 192 / 160 / 128 px",
    ),
    "efficientnet": Study(
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
    # Fig. 8 / Table 3 on CIFAR-10 (results/efficientnet-cpu): B0 at half width scaled about
    # 2.9x by depth, width or resolution alone, or by the phi = 1 coefficients (width 1.1,
    # depth 1.2, 36 px) together; all four at 28.1-30.2M multiply-adds (counted by the test).
    "efficientnet_scaling": Study(
        name="efficientnet_scaling",
        title="EfficientNet-B0 at half width on CIFAR-10, scaled ~2.9x by depth, width, "
              "resolution or all three",
        variants=(
            Variant("depth", "depth only (d=2.6)", "efficientnet_cifar",
                    {**_EFF_HALF, "depth_coefficient": 2.6}),
            Variant("width", "width only (w=0.9)", "efficientnet_cifar",
                    {**_EFF, "width_coefficient": 0.9}),
            Variant("resolution", "resolution only (50 px)", "efficientnet_cifar",
                    {**_EFF_HALF, "resolution": 50}),
            Variant("compound", "compound (w=0.55, d=1.2, 36 px)", "efficientnet_cifar",
                    {**_EFF, "width_coefficient": 0.55, "depth_coefficient": 1.2,
                     "resolution": 36}),
        ),
        lr=0.05, weight_decay=5e-5, warmup_epochs=1,
        epochs={"quick": 1, "record": 10},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Fig. 8 / Table 3: at equal FLOPs compound scaling beats depth, width or "
              "resolution alone, by up to 2.5 points top-1 (ImageNet)",
        tradeoff=True,
    ),
    # Sec. 5 on CIFAR-10 (results/efficientnet-sd-cpu): stochastic depth (drop-connect 0.2 at
    # the last block, less before it) on and off in the half-width B0, dropout 0.2 in both.
    "efficientnet_sd": Study(
        name="efficientnet_sd",
        title="EfficientNet-B0 at half width on CIFAR-10: stochastic depth on/off",
        variants=(
            Variant("sd", "drop-connect 0.2 (the paper's)", "efficientnet_cifar",
                    {"width_coefficient": 0.5, "drop_connect_rate": 0.2, "dropout": 0.2}),
            Variant("no_sd", "no stochastic depth", "efficientnet_cifar",
                    {"width_coefficient": 0.5, "drop_connect_rate": 0.0, "dropout": 0.2}),
        ),
        lr=0.05, weight_decay=5e-5, warmup_epochs=1,
        epochs={"quick": 1, "record": 15},
        sizes={"quick": (256, 128), "record": (None, None)},
        threshold={"quick": None, "record": None},
        paper="Sec. 5: B0 is trained with drop-connect (stochastic depth) 0.2 and dropout 0.2",
    ),
}

DEGRADATION = Study(
    name="degradation",
    title="Plain vs residual nets on CIFAR-10 (He et al. 2015, Fig. 6)",
    variants=tuple(Variant(m, label, m) for m, label in (
        ("plain20", "plain-20"), ("plain56", "plain-56"), ("resnet20", "ResNet-20"),
        ("resnet56", "ResNet-56"))),
    lr=0.1, weight_decay=1e-4,
    # demo: the paper's curves separate from the first epoch; without the one-epoch warm-up,
    # lr 0.1 blows up the 56-layer ResNet in a run this short (the paper met the same at 110
    # layers and warmed up at 0.01)
    # record: Fig. 6 left and middle (plain nets, ResNets) on 2 CPU cores
    # (results/degradation-cpu-10ep)
    epochs={"quick": 2, "demo": 6, "record": 10, "full": None},
    sizes={"quick": (512, 256), "demo": (10_000, 2_000), "record": (None, None),
           "full": (None, None)},
    threshold={"quick": None, "demo": None, "record": None, "full": None},
    warmup_epochs={"quick": 1, "demo": 1, "record": 1, "full": 0},
    batch_size={"quick": 64, "demo": 128, "record": 128, "full": 128},
    paper="Fig. 6: plain-56 has higher training and test error than plain-20; ResNet-56 lower "
          "than ResNet-20. Table 6 test error: ResNet-20 8.75%, ResNet-56 6.97%",
    figure="degradation",
)
STUDIES = {**ABLATIONS, "degradation": DEGRADATION}


def get(name: str) -> Study:
    """The study called `name` (an ablation of notebooks 01-07, or "degradation")."""
    check_choice("name", name, STUDIES)
    return STUDIES[name]
