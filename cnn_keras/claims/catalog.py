"""Every claim the notebooks decide, as data: the notes' points first, then the papers' own
headline results. Each rests on one piece of evidence (`kinds`): a recorded comparison under
``results/``, a count computed from the built nets, or a reason our scale cannot resolve it.

The records named here are written by the study runner (`cnn-keras ablation` /
`cnn-keras degradation`) and copied to ``results/`` without their checkpoints; ``plan`` says what
to run where a record does not exist yet.
"""

from __future__ import annotations

import dataclasses

from cnn_keras.claims import counts
from cnn_keras.claims.kinds import Compare, Count, Reach, Unmeasurable

TRAIN, TEST, EPOCHS = "final_train_error", "final_test_error", "epochs_to_threshold"
# the final model's error on training images evaluated as the test set is (fit's training
# error has dropout and augmentation on), and the test error minus it: how much a net overfits
CLEAN_TRAIN, GAP = "final_train_error_clean", "generalisation_gap"
_FULL = "all 50k CIFAR-10 images"
_FIG1_LRS = ("0.003", "0.01", "0.03", "0.1")  # the fig1_lr study's sweep, per activation


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str
    notebook: str  # "01" ... "07"
    paper: str
    where: str  # the paper's section, figure or table
    text: str  # the claim in one line
    paper_number: str
    evidence: Compare | Count | Unmeasurable


PAPERS = {
    "01": "AlexNet (Krizhevsky et al. 2012)",
    "02": "VGG (Simonyan & Zisserman 2014)",
    "03": "GoogLeNet (Szegedy et al. 2014)",
    "04": "ResNet (He et al. 2015)",
    "05": "DenseNet (Huang et al. 2017)",
    "06": "MobileNet (Howard et al. 2017)",
    "07": "EfficientNet (Tan & Le 2019)",
}

# The degradation study on 2 CPU cores: the four nets on all 50k images, the paper's recipe
# scaled to 10 epochs (one-epoch warm-up, lr /10 at 50 % and 75 %); seed 1 of the 20-layer nets
# measures the seed-to-seed spread.
_FIG6 = "degradation-cpu-10ep"
# DenseNet-BC at L=28 (ResNet-20's multiply-adds) against ResNet-20, k and theta switched
_DENSE_REC = "densenet-cpu"


def _fig1_sweep(activation: str) -> tuple[str, ...]:
    """The Fig. 1 record's variants of one activation, one per learning rate of the sweep."""
    return tuple(f"{activation}_lr{lr}" for lr in _FIG1_LRS)


def _added(what: str, study: str, variant: str, record: str) -> str:
    """The plan of a variant added to a study after its record: run into a copy of it."""
    return (f"not yet run: {what}, 3 seeds (`cp -r results/{record} runs/`, `cnn-keras "
            f"ablation {study} --mode record --variants {variant} --out runs/{record}`, then "
            f"`cnn-keras record runs/{record} results/{record}`; `--seed 1` with "
            f"{record}-seed1, ...)")


# VGG's C at a quarter width in the VGG record
_VGG_C = _added("in the VGG record, configuration C", "vgg_depth", "C", "vgg-cpu")
_VGG_JITTER = _added("in the VGG record, D trained with scale jittering (S in [32, 64] for "
                     "32 px crops, as [256, 512] for 224) and tested at Q = 48 (dense, "
                     "3 x 3 windows), D at its training scale, 32 px (Table 3's tests)",
                     "vgg_depth", "D_jitter", "vgg-cpu")

CLAIMS = (
    # --- 01 AlexNet -------------------------------------------------------------------------------
    Claim("alexnet.relu", "01", PAPERS["01"], "Sec. 3.1, Fig. 1",
          "A four-layer CNN with ReLUs reaches 25 % training error much faster than with tanh "
          "(each net at its own best learning rate)",
          "6x fewer epochs",
          Compare("alexnet-fig1-cpu", EPOCHS, _fig1_sweep("relu"), _fig1_sweep("tanh"),
                  plan=f"not yet run: the Fig. 1 net, ReLU vs tanh, lr in "
                       f"{{{', '.join(_FIG1_LRS)}}} each, {_FULL}, no regularisation, epochs to "
                       "25 % training error "
                       "(`cnn-keras ablation fig1_lr --mode record`; seed 1 repeats each "
                       "activation's fastest lr)")),
    Claim("alexnet.sigmoid", "01", PAPERS["01"], "Sec. 3.1; the notes",
          "The notes: ReLUs reach 25 % training error about six times faster than sigmoid units "
          "(each net at its own best learning rate)",
          "not in the paper (Fig. 1 compares tanh)",
          Compare("alexnet-fig1-cpu", EPOCHS, _fig1_sweep("relu"), _fig1_sweep("sigmoid"),
                  plan="not yet run: in the Fig. 1 record, the sigmoid net at the same four "
                       "learning rates (`cp -r results/alexnet-fig1-cpu runs/`, `cnn-keras "
                       "ablation fig1_lr --mode record --variants sigmoid_lr0.003 sigmoid_lr0.01 "
                       "sigmoid_lr0.03 sigmoid_lr0.1 --out runs/alexnet-fig1-cpu`, then `cnn-keras "
                       "record runs/alexnet-fig1-cpu results/alexnet-fig1-cpu`; seeds 1 and 2 "
                       "repeat its fastest rate into alexnet-fig1-cpu-seed1, -seed2)")),
    Claim("alexnet.lrn", "01", PAPERS["01"], "Sec. 3.3",
          "Local response normalisation lowers the test error of a four-layer CNN on CIFAR-10",
          "13 % -> 11 % test error",
          Compare("alexnet-lrn-cpu", TEST, "lrn", "no_lrn",
                  plan=f"not yet run: the Fig. 1 net with and without LRN, {_FULL}, "
                       "augmentation and weight decay, 30 epochs, 3 seeds "
                       "(`cnn-keras ablation fig1_lrn --mode record`)")),
    Claim("alexnet.bn", "01", PAPERS["01"], "Sec. 3.3; the notes",
          "Batch normalisation, which replaced LRN (the notes), lowers the test error in LRN's "
          "place, against no normalisation", "not in the paper (Ioffe & Szegedy 2015)",
          Compare("alexnet-lrn-cpu", TEST, "bn", "no_lrn",
                  plan=_added("the Fig. 1 net with batch norm before conv1's and conv2's "
                              "ReLUs, in the LRN record", "fig1_lrn", "bn", "alexnet-lrn-cpu"))),
    Claim("alexnet.dropout_overfit", "01", PAPERS["01"], "Sec. 4.2",
          "Without dropout the net overfits substantially: its test error exceeds its training "
          "error by more", "no number (\"substantial overfitting\")",
          Compare("alexnet-cpu", GAP, "paper", "no_dropout",
                  plan=f"not yet run: alexnet_cifar at half width with dropout 0.5 vs 0, "
                       f"{_FULL}, 15 epochs, 3 seeds (`cnn-keras ablation alexnet_reg "
                       "--mode record`)")),
    Claim("alexnet.augment_overfit", "01", PAPERS["01"], "Sec. 4.1",
          "Without data augmentation the net overfits substantially: its test error exceeds its "
          "training error by more", "no number (\"substantial overfitting\")",
          Compare("alexnet-cpu", GAP, "paper", "no_aug",
                  plan=_added("in the same record, pad-crop-flip augmentation vs none",
                              "alexnet_reg", "no_aug", "alexnet-cpu"))),
    Claim("alexnet.dropout", "01", PAPERS["01"], "Sec. 4.2",
          "Dropout lowers the test error", "no number (ImageNet: part of the recipe)",
          Compare("alexnet-cpu", TEST, "paper", "no_dropout",
                  plan="not yet run: in the same record, dropout 0.5 vs 0")),
    Claim("alexnet.weight_decay", "01", PAPERS["01"], "Sec. 5",
          "Weight decay is not merely a regulariser: it lowers the training error",
          "no number (\"important for the model to learn\")",
          Compare("alexnet-cpu", CLEAN_TRAIN, "paper", "no_wd",
                  plan="not yet run: in the same record, weight decay 5e-4 vs 0")),
    Claim("alexnet.overlap", "01", PAPERS["01"], "Sec. 3.4",
          "Overlapping 3x3/2 pooling lowers the error against 2x2/2 pooling",
          "top-1 -0.4 points (ImageNet)",
          Compare("alexnet-cpu", TEST, "paper", "pool2",
                  plan="not yet run: in the same record, 3x3/2 vs 2x2/2 pooling (a 0.4-point "
                       "effect needs a spread well below it)")),
    Claim("alexnet.params", "01", PAPERS["01"], "Abstract, Sec. 4",
          "The net has 60 million parameters", "60M", Count(counts.alexnet_params)),
    # --- 02 VGG -----------------------------------------------------------------------------------
    Claim("vgg.depth", "02", PAPERS["02"], "Table 3",
          "Error falls with depth: 16 layers (D) beat 11 (A)",
          "top-1 29.6 % (A) -> 27.0 % (D)",
          Compare("vgg-cpu", TEST, "D", "A",
                  plan=f"not yet run: vgg_cifar A, A-LRN, B, B-5x5, D and D from A at a quarter "
                       f"width, no BN, He init, {_FULL}, 20 epochs, 3 seeds "
                       "(`cnn-keras ablation vgg_depth --mode record`)")),
    Claim("vgg.stack", "02", PAPERS["02"], "Sec. 4.1",
          "Two stacked 3x3 convs beat one 5x5 conv in the same net (B vs B-5x5)",
          "top-1 +7 % for the 5x5 net",
          Compare("vgg-cpu", TEST, "B", "B5",
                  plan="not yet run: in the VGG record, B vs B with each pair of 3x3 convs "
                       "replaced by one 5x5")),
    Claim("vgg.lrn", "02", PAPERS["02"], "Table 3",
          "Local response normalisation does not help (A vs A-LRN)",
          "top-1 29.6 % (A) vs 29.7 % (A-LRN)",
          Compare("vgg-cpu", TEST, "A", "A_lrn", expect="no gain",
                  plan="not yet run: in the VGG record, A vs A-LRN")),
    Claim("vgg.one_by_one", "02", PAPERS["02"], "Table 3, Sec. 4.1",
          "A 1x1 conv's extra non-linearity helps: C (B with a 1x1 conv added in stages 3-5) "
          "beats B", "top-1 28.7 % (B) -> 28.1 % (C)",
          Compare("vgg-cpu", TEST, "C", "B", plan=_VGG_C)),
    Claim("vgg.context", "02", PAPERS["02"], "Table 3, Sec. 4.1",
          "... but spatial context matters more: D (3x3 convs in C's 1x1 places) beats C",
          "top-1 28.1 % (C) -> 27.0 % (D)",
          Compare("vgg-cpu", TEST, "D", "C", plan=_VGG_C)),
    Claim("vgg.jitter", "02", PAPERS["02"], "Table 3, Sec. 3.1",
          "Scale jittering at training (a random scale S in [256, 512] per image) beats a "
          "fixed training scale", "top-1 27.0 % (D, S = 256) -> 25.6 % (S in [256, 512])",
          Compare("vgg-cpu", "final_test_error_q", "D_jitter", "D", plan=_VGG_JITTER)),
    Claim("vgg.preinit", "02", PAPERS["02"], "Sec. 3.1",
          "Pre-initialising the deep net from A is not needed with a good random init",
          "no number (\"possible to initialise without pre-training\")",
          Compare("vgg-cpu", TEST, "D", "D_from_A", expect="no gain",
                  plan="not yet run: in the VGG record, D (no BN, He init) vs D pre-initialised "
                       "from the trained A")),
    Claim("vgg.three_3x3", "02", PAPERS["02"], "Sec. 2.3",
          "Three stacked 3x3 convs see a 7x7 field with 27C² weights instead of 49C²",
          "27C² vs 49C²", Count(counts.vgg_three_3x3)),
    Claim("vgg.two_3x3", "02", PAPERS["02"], "Sec. 2.3",
          "Two stacked 3x3 convs see a 5x5 field with 18C² weights instead of 25C²",
          "18C² vs 25C²", Count(counts.vgg_two_3x3)),
    Claim("vgg.params", "02", PAPERS["02"], "Table 2",
          "Configuration D (VGG-16) has 138M parameters", "138M", Count(counts.vgg16_params)),
    # --- 03 GoogLeNet -----------------------------------------------------------------------------
    Claim("googlenet.reductions", "03", PAPERS["03"], "Sec. 4, Fig. 2",
          "The 1x1 reductions make the inception modules affordable",
          "no number (\"computational blow up\" without them)",
          Count(counts.googlenet_reductions)),
    Claim("googlenet.reductions_accuracy", "03", PAPERS["03"], "Sec. 4",
          "The reductions keep the accuracy of the naive modules at a fraction of the cost",
          "no number",
          Compare("googlenet-naive-cpu", TEST, "reduced", "naive", expect="no gain",
                  plan=f"not yet run: googlenet_cifar at 1/16 width, reduced vs naive modules "
                       f"(10.3x the multiply-adds), {_FULL}, 10 epochs "
                       "(`cnn-keras ablation googlenet_naive --mode record`)")),
    Claim("googlenet.reductions_budget", "03", PAPERS["03"], "Sec. 4",
          "At the same cost the reduced modules are more accurate: the saving buys width",
          "no number (\"increasing the number of units ... without an uncontrolled blow-up\")",
          Compare("googlenet-naive-cpu", TEST, "reduced_wide", "naive",
                  plan=f"not yet run: googlenet_cifar with the reductions at 1/5 width (58.6M "
                       f"multiply-adds) vs naive modules at 1/16 (62.0M), {_FULL}, 10 epochs "
                       "(`cnn-keras ablation googlenet_naive --mode record --variants "
                       "reduced_wide`)")),
    Claim("googlenet.aux", "03", PAPERS["03"], "Sec. 5",
          "The auxiliary classifiers help a little",
          "about 0.5 % (the paper's own estimate)",
          Compare("googlenet-aux-cpu", TEST, "aux", "no_aux",
                  plan=f"not yet run: googlenet_cifar at 1/4 width with and without the "
                       f"heads, {_FULL}, 12 epochs, 3 seeds "
                       "(`cnn-keras ablation googlenet_aux --mode record`)")),
    Claim("googlenet.params", "03", PAPERS["03"], "Sec. 1",
          "12x fewer parameters than AlexNet", "12x", Count(counts.googlenet_vs_alexnet)),
    Claim("googlenet.macs", "03", PAPERS["03"], "Sec. 1",
          "A budget of 1.5 billion multiply-adds at inference", "1.5G",
          Count(counts.googlenet_macs)),
    # --- 04 ResNet --------------------------------------------------------------------------------
    Claim("resnet.plain_train", "04", PAPERS["04"], "Fig. 6 left",
          "Degradation: plain-56 has higher training error than plain-20",
          "curves: plain-56 above plain-20 throughout",
          Compare(_FIG6, TRAIN, "plain20", "plain56", plan="")),
    Claim("resnet.plain_test", "04", PAPERS["04"], "Fig. 6 left",
          "... and higher test error", "curves: plain-56 above plain-20",
          Compare(_FIG6, TEST, "plain20", "plain56", plan="")),
    Claim("resnet.residual_train", "04", PAPERS["04"], "Fig. 6 middle",
          "With shortcuts the deeper net trains better: ResNet-56 below ResNet-20 in training "
          "error", "curves: ResNet-56 below ResNet-20",
          Compare(_FIG6, TRAIN, "resnet56", "resnet20", plan="")),
    Claim("resnet.residual_test", "04", PAPERS["04"], "Table 6",
          "... and in test error", "8.75 % (20) vs 6.97 % (56)",
          Compare(_FIG6, TEST, "resnet56", "resnet20", plan="")),
    Claim("resnet.table6", "04", PAPERS["04"], "Table 6",
          "ResNet-20 with the paper's recipe (64k iterations) reaches 8.75 % test error",
          "8.75 %",
          Reach("resnet20-paper-gpu", TEST, "resnet20", 8.75, fallback="resnet20-paper-cpu",
                paper_spread=(0.16, "Table 6: ResNet-110, 6.61 ± 0.16 over 5 runs"),
                plan="not yet run: 164 epochs, on a GPU (`benchmarks/gpu_records.sh`) or in "
                     "4-6½ hours of 2 CPU cores (87-99 s an epoch alone on Zen 4; `cnn-keras "
                     "degradation --mode full --models resnet20 --out runs/resnet20-paper-cpu`: "
                     "longer than one 3-hour session; interrupted, it resumes from its run "
                     "folder)")),
    Claim("resnet.option_a", "04", PAPERS["04"], "Sec. 4.2",
          "Option-A shortcuts add no parameters: plain and residual twins are equal in size",
          "0.27M / 0.85M", Count(counts.resnet_option_a)),
    Claim("resnet.bottleneck", "04", PAPERS["04"], "Table 1",
          "With bottleneck blocks ResNet-50 costs about what ResNet-34 does",
          "3.6G (34) vs 3.8G (50) FLOPs", Count(counts.resnet_imagenet_flops)),
    Claim("resnet.gradients", "04", PAPERS["04"], "Sec. 4.1",
          "Degradation is not vanishing gradients: with BN the gradients do not vanish",
          "no number (\"healthy norms\")", Count(counts.plain56_gradients,
                                                  setup="computed at initialisation, not "
                                                        "during training")),
    # --- 05 DenseNet ------------------------------------------------------------------------------
    Claim("densenet.efficiency", "05", PAPERS["05"], "Table 2",
          "At equal parameters DenseNet-BC has lower error than ResNet",
          "C10+ 4.51 % (BC-100, 0.8M) vs 6.41 % (ResNet-110, 1.7M, as re-run by Huang et "
          "al. 2016; He et al.: 6.61 %)",
          Compare("densenet-eq", TEST, "k12", "resnet20", fallback="densenet-eq-cpu",
                  plan=f"not yet run: DenseNet-BC L=52 k=12 vs ResNet-20 (~0.27M each), "
                       f"{_FULL}: 60 epochs on a GPU (`benchmarks/gpu_records.sh`), or 10 "
                       "epochs on a CPU, about 1.6-1.7 h per seed on 2 cores (`cnn-keras ablation "
                       "densenet --mode record --variants resnet20 k12 --out "
                       "runs/densenet-eq-cpu`)")),
    Claim("densenet.third", "05", PAPERS["05"], "Fig. 4 middle",
          "DenseNet-BC matches ResNet with about a third of its parameters",
          "a third of the parameters for the same error",
          # "no gain": ResNet-20's 2.6x the parameters (the `worse` side: the idea whose gain
          # is denied) buy no lower error at the same cost
          Compare(_DENSE_REC, TEST, "bc28_k12", "resnet20", expect="no gain",
                  plan=f"not yet run: DenseNet-BC L=28 k=12 (0.11M) vs ResNet-20 (0.27M) at "
                       f"equal multiply-adds, {_FULL}, 10 epochs "
                       "(`cnn-keras ablation densenet_bc28 --mode record`)")),
    Claim("densenet.growth", "05", PAPERS["05"], "Table 2",
          "A larger growth rate lowers the error (k=12 vs k=6)",
          "C10+ L=100: 4.10 % (k=12) -> 3.74 % (k=24)",
          Compare(_DENSE_REC, TEST, "bc28_k12", "bc28_k6",
                  plan="not yet run: in the DenseNet record, L=28 k=12 vs k=6")),
    Claim("densenet.compression", "05", PAPERS["05"], "Table 2",
          "Compression (theta = 0.5) costs no accuracy for fewer parameters",
          "no number for theta alone (BC-100: 0.8M, 4.51 %; DenseNet-100: 7.0M, 4.10 %)",
          # "no gain": theta = 1's 36 % more parameters buy no lower error
          Compare(_DENSE_REC, TEST, "bc28_k12", "b28_k12", expect="no gain",
                  plan="not yet run: in the DenseNet record, L=28 theta 0.5 vs 1.0")),
    Claim("densenet.overfit", "05", PAPERS["05"], "Sec. 4.3 (Overfitting), Table 2",
          "DenseNets are less prone to overfitting: without data augmentation, DenseNet-BC's "
          "test error exceeds its training error by less than ResNet's",
          "augmentation takes ResNet-110 from 13.63 to 6.41 % (C10 -> C10+), DenseNet-BC-100 "
          "only from 5.92 to 4.51 %",
          Compare(_DENSE_REC, GAP, "bc28_k12_no_aug", "resnet20_no_aug",
                  plan=_added("in the DenseNet record, DenseNet-BC L=28 and ResNet-20 without "
                              "augmentation", "densenet_bc28",
                              "resnet20_no_aug bc28_k12_no_aug", _DENSE_REC))),
    Claim("densenet.params", "05", PAPERS["05"], "Table 2",
          "DenseNet-BC with L=100, k=12 has 0.8M parameters", "0.8M",
          Count(counts.densenet_bc100_params)),
    # --- 06 MobileNet -----------------------------------------------------------------------------
    Claim("mobilenet.separable", "06", PAPERS["06"], "Table 4",
          "Depthwise separable convolutions cost little accuracy against full convolutions",
          "70.6 % vs 71.7 % top-1 (-1.1) at 569M vs 4866M mult-adds",
          Compare("mobilenet-conv-cpu", TEST, "full", "separable", cost=1.1,
                  plan=f"not yet run: mobilenet_cifar at alpha 0.5 with separable vs full "
                       f"convolutions, {_FULL}, 15 epochs, 3 seeds "
                       "(`cnn-keras ablation mobilenet_conv --mode record`)")),
    Claim("mobilenet.thinner", "06", PAPERS["06"], "Table 5",
          "At equal cost a thinner net beats a shallower one",
          "0.75 MobileNet 68.4 % vs shallow 65.3 % (+3.1)",
          Compare("mobilenet-conv-cpu", TEST, "thin", "shallow",
                  plan="not yet run: in the same record, alpha 0.375 vs alpha 0.5 without the "
                       "five 512-channel layers (7.1M vs 6.7M multiply-adds)")),
    Claim("mobilenet.alpha", "06", PAPERS["06"], "Table 6",
          "Accuracy falls as the width multiplier shrinks (from alpha 1 to 0.25)",
          "70.6 / 68.4 / 63.7 / 50.6 % for alpha 1 / 0.75 / 0.5 / 0.25",
          Compare("mobilenet-cpu", TEST, "a1.0", "a0.25", curve=("a1.0", "a0.75", "a0.5", "a0.25"),
                  plan=f"not yet run: alpha 1, 0.75, 0.5, 0.25 and rho 0.875, 0.75, 0.625 "
                       f"on {_FULL}, 10 epochs, final epoch (`cnn-keras ablation mobilenet "
                       "--mode record`), and seed 1 of alpha 0.5 and 0.25 for the spread "
                       "(`--seed 1 --variants a0.5 a0.25`)")),
    Claim("mobilenet.rho", "06", PAPERS["06"], "Table 7",
          "Accuracy falls as the resolution shrinks (from rho 1 to 0.625)",
          "70.6 / 69.1 / 67.2 / 64.4 % at 224 / 192 / 160 / 128 px",
          Compare("mobilenet-cpu", TEST, "a1.0", "r20", curve=("a1.0", "r28", "r24", "r20"),
                  plan="not yet run: in the same record, rho 1 vs 0.625")),
    Claim("mobilenet.cost", "06", PAPERS["06"], "Sec. 3.1",
          "A 3x3 depthwise separable layer costs 8-9x fewer multiply-adds than a full one",
          "8-9x", Count(counts.mobilenet_separable_cost)),
    Claim("mobilenet.full_cost", "06", PAPERS["06"], "Table 4",
          "The same net with full 3x3 convolutions costs 4866M multiply-adds, 29.3M parameters",
          "4866M, 29.3M", Count(counts.mobilenet_full_cost)),
    Claim("mobilenet.shallow_cost", "06", PAPERS["06"], "Table 5",
          "The thinner (0.75) and the shallower net cost about the same",
          "325M / 2.6M vs 307M / 2.9M", Count(counts.mobilenet_shallow_cost)),
    Claim("mobilenet.size", "06", PAPERS["06"], "Table 8",
          "MobileNet 1.0-224: 569M multiply-adds, 4.2M parameters", "569M, 4.2M",
          Count(counts.mobilenet_cost)),
    # --- 07 EfficientNet --------------------------------------------------------------------------
    Claim("efficientnet.compound", "07", PAPERS["07"], "Fig. 8, Table 3",
          "Compound scaling beats scaling depth, width or resolution alone at equal cost",
          "up to +2.5 points (Fig. 8, ImageNet)",
          Compare("efficientnet-cpu", TEST, "compound", ("depth", "width", "resolution"),
                  plan=f"not yet run: B0 at half width (9.9M multiply-adds) scaled ~2.9x four "
                       f"ways (28.1-30.2M each), {_FULL}, 10 epochs, 2-3 seeds "
                       "(`cnn-keras ablation efficientnet_scaling --mode record`; about 3 h "
                       "per seed on 2 CPU cores, 44 min for the compound net, so a seed is "
                       "split over sessions with `--variants`)")),
    Claim("efficientnet.saturate", "07", PAPERS["07"], "Fig. 3",
          "Scaling a single dimension saturates: the gain shrinks as the scale grows",
          "about 80 % top-1 for each dimension alone",
          Unmeasurable("needs several scales per dimension trained to convergence (12+ runs "
                       "of nets up to 8x B0's cost): beyond 2 CPU cores")),
    Claim("efficientnet.stochastic_depth", "07", PAPERS["07"], "Sec. 5",
          "Stochastic depth (drop-connect 0.2) lowers the test error",
          "no number (part of the recipe)",
          Compare("efficientnet-sd-cpu", TEST, "sd", "no_sd",
                  plan=f"not yet run: B0 at half width with drop-connect 0.2 vs 0, {_FULL}, "
                       "15 epochs, 3 seeds (`cnn-keras ablation efficientnet_sd --mode "
                       "record`)")),
    Claim("efficientnet.constraint", "07", PAPERS["07"], "Sec. 3.3, Eq. 3",
          "alpha·beta²·gamma² ≈ 2, so each step of phi doubles the FLOPs", "≈ 2",
          Count(counts.efficientnet_constraint)),
    Claim("efficientnet.b0", "07", PAPERS["07"], "Table 2",
          "EfficientNet-B0: 0.39B FLOPs and 5.3M parameters", "0.39B, 5.3M",
          Count(counts.efficientnet_b0_cost)),
)
