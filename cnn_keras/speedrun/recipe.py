"""airbench94's training recipe as data (Keras-free).

The reference (Jordan 2024, `airbench94.py`, hyp['opt'], hyp['aug'], hyp['net']) writes its
hyperparameters in "decoupled" form: `lr` per 1024 examples and independent of the momentum,
`weight_decay` per 1024 examples and independent of the learning rate. It trains on the
*summed* loss of a batch with PyTorch's SGD; `sgd_lr` and `l2` turn the decoupled values into
that SGD's learning rate and coupled weight decay, which `optim.GroupSGD` applies to a summed
loss exactly as PyTorch does.
"""

from __future__ import annotations

import dataclasses
import math

from cnn_keras.checks import check_choice, check_int, check_number, fail

FLIPS = ("alternating", "random", "none")
TTA_LEVELS = (0, 1, 2)  # none, mirror, mirror + translate


@dataclasses.dataclass(frozen=True)
class SpeedrunRecipe:
    """airbench94's recipe; every trick can be switched off (`ablated`).

    Optimisation: `epochs` (may be fractional: the reference's 9.9), `batch_size`, `lr` and
    `weight_decay` per 1024 examples, Nesterov `momentum`, `bias_scaler` (the batch norms'
    offsets learn this many times faster; 1 = off), `label_smoothing`, `whiten_bias_epochs`
    (the whitening layer's bias trains for this many epochs, then is frozen), `lookahead`.
    Schedule: linear from 0.2·lr up to lr over 23 % of the steps, then down to 0.07·lr.
    Data: `flip` ("alternating": a random half flipped once, then every image flipped on odd
    epochs; "random": each image each epoch with probability 1/2; "none"), `translate`
    (random shifts of up to this many pixels, reflect-padded). Net: `whiten` (the first layer
    whitens 2x2 patches, frozen; off: an ordinary trainable conv), `dirac` (identity init of
    the convs), `bn_momentum`. Test: `tta_level` 0, 1 (mirror) or 2 (mirror + translate).
    """

    name: str = "speedrun"
    epochs: float = 9.9
    batch_size: int = 1024
    lr: float = 11.5
    momentum: float = 0.85
    weight_decay: float = 0.0153
    bias_scaler: float = 64.0
    label_smoothing: float = 0.2
    whiten_bias_epochs: int = 3
    lookahead: bool = True
    flip: str = "alternating"
    translate: int = 2
    whiten: bool = True
    whiten_eps: float = 5e-4
    whiten_images: int = 5000
    dirac: bool = True
    bn_momentum: float = 0.6
    tta_level: int = 2

    def __post_init__(self):
        check_number("epochs", self.epochs, low=0, low_open=True)
        check_int("batch_size", self.batch_size)
        check_number("lr", self.lr, low=0, low_open=True)
        check_number("momentum", self.momentum, low=0, high=1, high_open=True)
        check_number("weight_decay", self.weight_decay, low=0)
        check_number("bias_scaler", self.bias_scaler, low=0, low_open=True)
        check_number("label_smoothing", self.label_smoothing, low=0, high=1, high_open=True)
        check_int("whiten_bias_epochs", self.whiten_bias_epochs, minimum=0)
        check_choice("flip", self.flip, FLIPS)
        check_int("translate", self.translate, minimum=0)
        check_number("whiten_eps", self.whiten_eps, low=0)
        check_int("whiten_images", self.whiten_images)
        check_number("bn_momentum", self.bn_momentum, low=0, high=1, high_open=True)
        check_choice("tta_level", self.tta_level, TTA_LEVELS)
        for flag in ("lookahead", "whiten", "dirac"):
            if not isinstance(getattr(self, flag), bool):
                fail(f"`{flag}` must be True or False.", **{flag: getattr(self, flag)})

    # PyTorch's SGD with Nesterov momentum takes steps 1 + 1 / (1 - momentum) times the
    # gradient when it is constant; the reference divides that out ("kilostep scale").
    def kilostep_scale(self) -> float:
        return 1024 * (1 + 1 / (1 - self.momentum))

    def sgd_lr(self) -> float:
        """The SGD learning rate on the summed loss of a batch."""
        return self.lr / self.kilostep_scale()

    def l2(self) -> float:
        """The coupled weight decay (added to each gradient as ``l2 · w``) that makes the
        decay's step ``weight_decay · batch_size / kilostep_scale`` per iteration."""
        return self.weight_decay * self.batch_size / self.lr

    def steps_per_epoch(self, num_train: int) -> int:
        """Whole batches only (the reference drops the last partial batch)."""
        steps = num_train // self.batch_size
        if steps < 1:
            fail(f"The batch size is larger than the {num_train} training images.",
                 batch_size=self.batch_size)
        return steps

    def total_steps(self, num_train: int) -> int:
        return math.ceil(self.steps_per_epoch(num_train) * self.epochs)

    def num_epochs(self) -> int:
        """Epochs started (the last one may stop part-way)."""
        return math.ceil(self.epochs)

    def model_kwargs(self) -> dict:
        return {"whiten": self.whiten, "dirac": self.dirac,
                "batchnorm_momentum": self.bn_momentum, "whiten_eps": self.whiten_eps,
                "classifier_activation": None}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The ablation of the speed chapter: each trick removed in turn from the full recipe, as in
# the reference repository's ablation (and the paper's Table 1-3).
TRICKS = {
    "whitening": {"whiten": False},
    "dirac": {"dirac": False},
    "bias_scaler": {"bias_scaler": 1.0},
    "lookahead": {"lookahead": False},
    "label_smoothing": {"label_smoothing": 0.0},
    "alternating_flip": {"flip": "random"},
    "tta": {"tta_level": 0},
}


def ablated(recipe: SpeedrunRecipe, trick: str) -> SpeedrunRecipe:
    """`recipe` without `trick` (a key of `TRICKS`)."""
    check_choice("trick", trick, tuple(TRICKS))
    return dataclasses.replace(recipe, name=f"{recipe.name}-no-{trick}", **TRICKS[trick])
