"""The seven papers' ImageNet training set-ups as data, each value with where it comes from.

A paper states some of its recipe and leaves the rest out: GoogLeNet gives no learning rate, no
batch size and no weight decay, MobileNet only "RMSprop ... similar to Inception V3". Every field
of an `ImageNetRecipe` is therefore sourced in ``sources``: the paper's section, the official or
a well-known reproduction's code (named), or "ours" with the reason, so a reader can tell the
paper's numbers from the gaps we filled. `ImageNetRecipe.check` fails on a field without a
source.

Keras-free, like `recipes`: `schedule`, `optimizer` and `loss` build the Keras objects when
asked, so that `training.train` takes an `ImageNetRecipe` where it takes a `recipes.Recipe`
(with streamed data, `data.streaming.StreamingData`).

Schedules: ``step`` divides the learning rate by 10 at the epochs in ``milestones`` (DenseNet
states them; AlexNet, VGG and ResNet divided "when the validation error stopped improving",
``plateau`` below, and ``milestones`` is the fixed-epoch equivalent a script can run unattended:
torchvision's reference recipes use 30/60/90), ``exponential`` multiplies it by ``decay_rate``
every ``decay_epochs`` (GoogLeNet, Inception V3 and so MobileNet, EfficientNet), after a linear
warm-up of ``warmup_epochs``.
"""

from __future__ import annotations

import dataclasses

from cnn_keras.checks import check_choice, check_int, check_number, fail

OPTIMIZERS = ("sgd", "rmsprop")
SCHEDULES = ("step", "exponential")
# training-time augmentation: AlexNet's fixed-scale crops, VGG/ResNet's scale jittering, or the
# Inception "random-resized crop" (a patch of a random share of the area and aspect ratio)
AUGMENTATIONS = ("alexnet_crop", "scale_jitter", "inception_crop")
COLOUR = ("none", "pca", "jitter_pca", "photometric")


@dataclasses.dataclass(frozen=True)
class ImageNetRecipe:
    """One paper's ImageNet training: optimizer, schedule, regularisation, augmentation and
    evaluation. ``sources`` maps every field (but ``name``, ``title`` and ``sources``) to where
    its value comes from."""

    name: str
    title: str
    optimizer_name: str
    batch_size: int
    epochs: int
    lr: float
    lr_schedule: str
    sources: dict
    milestones: tuple[int, ...] = ()  # step: epochs where the lr is divided by 10
    plateau: bool = False  # the paper divided on a plateau of the validation error instead
    decay_rate: float = 1.0  # exponential: lr *= decay_rate every decay_epochs
    decay_epochs: float = 1.0
    warmup_epochs: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    rmsprop_rho: float = 0.9  # RMSprop's decay of the squared-gradient average
    rmsprop_epsilon: float = 1e-7
    weight_decay: float = 0.0  # coupled L2 (gradient + λ·w), as `L2SGD`
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # 0: none; else an exponential moving average of the weights
    augmentation: str = "inception_crop"
    scale_range: tuple[int, int] = (256, 256)  # alexnet_crop / scale_jitter: shorter side
    area_range: tuple[float, float] = (0.08, 1.0)  # inception_crop: share of the image area
    colour: str = "none"
    train_size: int = 224
    eval_resize: int = 256  # evaluation: shorter side resized to this, centre crop train_size
    paper_test: str = ""  # what the paper's test did beyond one centre crop
    not_implemented: str = ""  # what the paper used that this package does not have

    def check(self) -> ImageNetRecipe:
        check_choice("optimizer_name", self.optimizer_name, OPTIMIZERS)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_choice("augmentation", self.augmentation, AUGMENTATIONS)
        check_choice("colour", self.colour, COLOUR)
        for arg in ("batch_size", "epochs", "train_size", "eval_resize"):
            check_int(arg, getattr(self, arg))
        check_number("lr", self.lr, low=0, low_open=True)
        check_number("decay_rate", self.decay_rate, low=0, high=1, low_open=True)
        check_number("weight_decay", self.weight_decay, low=0)
        check_number("ema_decay", self.ema_decay, low=0, high=1, high_open=True)
        check_number("warmup_epochs", self.warmup_epochs, low=0, high=self.epochs,
                     high_open=True)
        if self.lr_schedule == "step" and not self.milestones:
            fail("A step schedule needs `milestones` (epochs).", milestones=self.milestones)
        if any(not 0 < m < self.epochs for m in self.milestones):
            fail(f"`milestones` must lie inside the {self.epochs} epochs.",
                 milestones=self.milestones)
        missing = sorted(set(_SOURCED) - set(self.sources))
        if missing:
            fail(f"Recipe {self.name!r}: every field needs a source; missing {missing}.",
                 sources=sorted(self.sources))
        return self

    # --- what `training.train` asks of a recipe (as of `recipes.Recipe`) ---------------------
    augment = True  # the streamed pipeline always augments as `augmentation` says
    low_res_size = 0
    low_res_epochs = 0
    scale_jitter = None  # the in-memory pipeline's; the streamed one jitters by `scale_range`

    def num_epochs(self, steps_per_epoch: int) -> int:
        return self.epochs

    def to_dict(self, steps_per_epoch: int | None = None) -> dict:
        d = {k: v for k, v in dataclasses.asdict(self).items() if k != "sources"}
        if steps_per_epoch:
            d["steps_per_epoch"] = steps_per_epoch
            d["total_steps"] = self.epochs * steps_per_epoch
        return d

    def loss(self, from_logits: bool = False):
        from cnn_keras.training.losses import loss_for

        return loss_for(self, from_logits=from_logits)

    def schedule(self, steps_per_epoch: int):
        """The learning rate as a Keras schedule of the iteration number."""
        from cnn_keras.training.schedules import EpochSchedule

        return EpochSchedule.from_recipe(self, steps_per_epoch)

    def optimizer(self, steps_per_epoch: int):
        """The paper's optimizer on `schedule`, with coupled L2 weight decay and, where
        the recipe has one, Keras' moving average of the weights (``use_ema``)."""
        from cnn_keras.training.optim import L2RMSprop, L2SGD

        ema = {"use_ema": True, "ema_momentum": self.ema_decay} if self.ema_decay else {}
        lr = self.schedule(steps_per_epoch)
        if self.optimizer_name == "sgd":
            return L2SGD(lr, momentum=self.momentum, l2=self.weight_decay,
                         nesterov=self.nesterov, **ema)
        return L2RMSprop(lr, rho=self.rmsprop_rho, momentum=self.momentum,
                         epsilon=self.rmsprop_epsilon, l2=self.weight_decay, **ema)

    def rows(self) -> list[tuple[str, str, str]]:
        """(field, value, source) for every sourced field: the recipe as a table."""
        return [(f, _show(getattr(self, f)), self.sources[f]) for f in _SOURCED
                if f in self.sources]


_SOURCED = ("optimizer_name", "batch_size", "epochs", "lr", "lr_schedule", "momentum",
            "weight_decay", "label_smoothing", "ema_decay", "augmentation", "colour",
            "eval_resize")


def _show(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _recipe(**kw) -> ImageNetRecipe:
    return ImageNetRecipe(**kw).check()


_TORCHVISION = "ours: every 30 epochs, as torchvision's reference recipe"

RECIPES: dict[str, ImageNetRecipe] = {r.name: r for r in (
    _recipe(
        name="alexnet", title="Krizhevsky et al. 2012", optimizer_name="sgd", batch_size=128,
        epochs=90, lr=0.01, lr_schedule="step", milestones=(30, 60, 80), plateau=True,
        weight_decay=5e-4, augmentation="alexnet_crop", scale_range=(256, 256), colour="pca",
        paper_test="10 patches (4 corners and centre, and their flips), softmax averaged",
        sources={"optimizer_name": "Sec. 5 (momentum 0.9)", "batch_size": "Sec. 5",
                 "epochs": "Sec. 5 ('roughly 90 cycles')", "lr": "Sec. 5",
                 "lr_schedule": "Sec. 5: /10 when the validation error stopped improving, three "
                             "times; milestones: ours, three drops in the 90 epochs",
                 "momentum": "Sec. 5", "weight_decay": "Sec. 5",
                 "label_smoothing": "none in the paper", "ema_decay": "none in the paper",
                 "augmentation": "Sec. 4.1: random 224 crops of the 256x256 image, flips",
                 "colour": "Sec. 4.1: PCA colour shift, alpha ~ N(0, 0.1)",
                 "eval_resize": "Sec. 2 (256x256 images); one centre crop is ours"}),
    _recipe(
        name="vgg", title="Simonyan & Zisserman 2014", optimizer_name="sgd", batch_size=256,
        epochs=74, lr=0.01, lr_schedule="step", milestones=(30, 50, 65), plateau=True,
        weight_decay=5e-4, augmentation="scale_jitter", scale_range=(256, 512), colour="pca",
        paper_test="dense evaluation over the whole image at several scales, with flips",
        sources={"optimizer_name": "Sec. 3.1 (momentum 0.9)", "batch_size": "Sec. 3.1",
                 "epochs": "Sec. 3.1 (370K iterations, 74 epochs)", "lr": "Sec. 3.1",
                 "lr_schedule": "Sec. 3.1: /10 when the validation accuracy stopped improving, "
                             "three times; milestones: ours, spread over the 74 epochs",
                 "momentum": "Sec. 3.1", "weight_decay": "Sec. 3.1",
                 "label_smoothing": "none in the paper", "ema_decay": "none in the paper",
                 "augmentation": "Sec. 3.1: multi-scale training, S in [256, 512], 224 crops, "
                                 "flips",
                 "colour": "Sec. 3.1: AlexNet's random RGB colour shift",
                 "eval_resize": "ours: one centre crop at Q = 256 (the paper's Q = S)"}),
    _recipe(
        name="googlenet", title="Szegedy et al. 2014", optimizer_name="sgd", batch_size=32,
        epochs=250, lr=0.01, lr_schedule="exponential", decay_rate=0.96, decay_epochs=8,
        weight_decay=2e-4, ema_decay=0.9999, augmentation="inception_crop",
        area_range=(0.08, 1.0), colour="photometric",
        paper_test="144 crops per image (4 scales, 3 squares, 6 crops, flips)",
        not_implemented="asynchronous SGD on many machines (one synchronous SGD here)",
        sources={"optimizer_name": "Sec. 6: asynchronous SGD, momentum 0.9",
                 "batch_size": "unstated; the BVLC Caffe reproduction's solver",
                 "epochs": "unstated; the BVLC Caffe reproduction's solver (10M iterations of "
                           "32, whose step schedule is the paper's)",
                 "lr": "unstated; the BVLC Caffe reproduction",
                 "lr_schedule": "Sec. 6: 4 % lower every 8 epochs", "momentum": "Sec. 6",
                 "weight_decay": "unstated; the BVLC Caffe reproduction",
                 "label_smoothing": "none in the paper",
                 "ema_decay": "Sec. 6: Polyak averaging of the final model; 0.9999 is ours",
                 "augmentation": "Sec. 6: patches of 8-100 % of the area, aspect 3/4-4/3",
                 "colour": "Sec. 6: Howard's photometric distortions",
                 "eval_resize": "ours: one centre crop"}),
    _recipe(
        name="resnet", title="He et al. 2015", optimizer_name="sgd", batch_size=256, epochs=120,
        lr=0.1, lr_schedule="step", milestones=(30, 60, 90), plateau=True, weight_decay=1e-4,
        augmentation="scale_jitter", scale_range=(256, 480), colour="pca",
        paper_test="10-crop; the best results fully convolutional at several scales",
        sources={"optimizer_name": "Sec. 3.4 (momentum 0.9)", "batch_size": "Sec. 3.4",
                 "epochs": "Sec. 3.4: up to 60x10^4 iterations of 256 (~120 epochs)",
                 "lr": "Sec. 3.4",
                 "lr_schedule": "Sec. 3.4: /10 when the error plateaus; milestones: "
                             + _TORCHVISION,
                 "momentum": "Sec. 3.4", "weight_decay": "Sec. 3.4",
                 "label_smoothing": "none in the paper", "ema_decay": "none in the paper",
                 "augmentation": "Sec. 3.4: shorter side in [256, 480], 224 crops, flips",
                 "colour": "Sec. 3.4: 'the standard color augmentation in [21]' (AlexNet's)",
                 "eval_resize": "ours: one centre crop (the paper's 10-crop is "
                                "`evaluation.predict_tta`)"}),
    _recipe(
        name="densenet", title="Huang et al. 2017", optimizer_name="sgd", batch_size=256, epochs=90,
        lr=0.1, lr_schedule="step", milestones=(30, 60), nesterov=True, weight_decay=1e-4,
        augmentation="inception_crop", area_range=(0.08, 1.0), colour="jitter_pca",
        paper_test="single crop or 10-crop of 224",
        sources={"optimizer_name": "Sec. 4.2: Nesterov momentum 0.9 without dampening",
                 "batch_size": "Sec. 4.2", "epochs": "Sec. 4.2", "lr": "Sec. 4.2",
                 "lr_schedule": "Sec. 4.2: /10 at epochs 30 and 60", "momentum": "Sec. 4.2",
                 "weight_decay": "Sec. 4.2", "label_smoothing": "none in the paper",
                 "ema_decay": "none in the paper",
                 "augmentation": "Sec. 4.1: fb.resnet.torch's (random-resized crop, flips)",
                 "colour": "Sec. 4.1 via fb.resnet.torch: colour jitter and PCA lighting",
                 "eval_resize": "Sec. 4.1 via fb.resnet.torch: shorter side 256, centre 224"}),
    _recipe(
        name="mobilenet", title="Howard et al. 2017", optimizer_name="rmsprop", batch_size=32,
        epochs=100, lr=0.045, lr_schedule="exponential", decay_rate=0.94, decay_epochs=2,
        rmsprop_epsilon=1.0, weight_decay=4e-5, augmentation="inception_crop",
        area_range=(0.25, 1.0), colour="none",
        not_implemented="no weight decay on the depthwise filters (every kernel decays here)",
        sources={"optimizer_name": "Sec. 3.2: RMSprop, 'similar to Inception V3'",
                 "batch_size": "Inception V3 (Szegedy et al. 2016, Sec. 8): 32 per replica",
                 "epochs": "Inception V3, Sec. 8", "lr": "Inception V3, Sec. 8",
                 "lr_schedule": "Inception V3, Sec. 8: x0.94 every 2 epochs",
                 "momentum": "Inception V3's RMSProp (decay 0.9, epsilon 1.0); momentum 0.9 is "
                             "TF-Slim's",
                 "weight_decay": "TF-Slim's mobilenet_v1 (4e-5); Sec. 3.2: 'very little or no' "
                                 "on the depthwise filters",
                 "label_smoothing": "Sec. 3.2: none ('we do not use ... label smoothing')",
                 "ema_decay": "none in the paper",
                 "augmentation": "Sec. 3.2: Inception crops, 'limiting the size of small "
                                 "crops'; the 25 % floor is ours",
                 "colour": "Sec. 3.2: less distortion than Inception; none is ours",
                 "eval_resize": "ours: one centre crop"}),
    _recipe(
        name="efficientnet", title="Tan & Le 2019", optimizer_name="rmsprop", batch_size=4096,
        epochs=350, lr=0.256, lr_schedule="exponential", decay_rate=0.97, decay_epochs=2.4,
        warmup_epochs=5, rmsprop_epsilon=1e-3, weight_decay=1e-5, label_smoothing=0.1,
        ema_decay=0.9999, augmentation="inception_crop", area_range=(0.08, 1.0),
        colour="none", paper_test="one centre crop (the image resized to the net's resolution)",
        not_implemented="AutoAugment (Sec. 5.2); stochastic depth and dropout are the model's",
        sources={"optimizer_name": "Sec. 5.2: RMSProp, decay 0.9, momentum 0.9",
                 "batch_size": "unstated; 4096 is what lr 0.256 means under the official "
                               "code's 0.016 per 256 images",
                 "epochs": "unstated; the official code (350)",
                 "lr": "Sec. 5.2 (0.256 at batch 4096)",
                 "lr_schedule": "Sec. 5.2: x0.97 every 2.4 epochs; the 5-epoch warm-up is the "
                             "official code's",
                 "momentum": "Sec. 5.2", "weight_decay": "Sec. 5.2 (1e-5)",
                 "label_smoothing": "unstated; the official code (0.1)",
                 "ema_decay": "unstated; the official code (0.9999)",
                 "augmentation": "Sec. 5.2 names AutoAugment; its base crop is the Inception "
                                 "one (official code)",
                 "colour": "AutoAugment's colour ops are not implemented here",
                 "eval_resize": "the official code: centre crop of 87.5 % (256 for 224)"}),
)}


IMAGENET_RECIPES = RECIPES  # the name `cnn_keras.training` exports


def get(name: str) -> ImageNetRecipe:
    """The ImageNet recipe of paper `name` (a key of `RECIPES`)."""
    check_choice("name", name, RECIPES)
    return RECIPES[name]


def scaled_lr(recipe: ImageNetRecipe, batch_size: int) -> float:
    """The linear scaling rule (Goyal et al. 2017): the learning rate times batch_size /
    recipe.batch_size, for a run at another global batch."""
    check_int("batch_size", batch_size)
    return recipe.lr * batch_size / recipe.batch_size


def markdown() -> str:
    """docs/imagenet-recipes.md: each recipe as a table of (setting, value, source)."""
    out = ["# The papers' ImageNet recipes", "",
           "Generated by `python -m cnn_keras.training.imagenet_recipes` from "
           "`cnn_keras/training/imagenet_recipes.py` (a test keeps this page current). Each "
           "value says where it comes from: the paper's section, a named reproduction's code, "
           "or ours with the reason. Weight decay is coupled L2 (`training.L2SGD`, "
           "`training.L2RMSprop`). Train with one: `cnn-keras train MODEL --recipe "
           "imagenet-paper --image-folder ROOT` (the recipe of MODEL's paper; see "
           "[cli.md](cli.md)).", ""]
    for r in RECIPES.values():
        out += [f"## {r.name} ({r.title})", "", "| setting | value | source |", "|---|---|---|"]
        out += [f"| {field} | {value} | {source} |" for field, value, source in r.rows()]
        extra = [("milestones (epochs)", r.milestones), ("scale range", r.scale_range
                  if r.augmentation != "inception_crop" else None),
                 ("area range", r.area_range if r.augmentation == "inception_crop" else None),
                 ("paper's test", r.paper_test), ("not implemented here", r.not_implemented)]
        out += [""] + [f"- {k}: {v}" for k, v in extra if v] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/imagenet-recipes.md")
    target.write_text(markdown())
    print(f"wrote {target}")


def rescaled(recipe: ImageNetRecipe, *, batch_size: int | None = None,
             epochs: int | None = None, warmup_epochs: float | None = None) -> ImageNetRecipe:
    """`recipe` at another global batch (its learning rate by `scaled_lr`, the linear scaling
    rule) and/or shortened or lengthened to `epochs` (milestones, decay period and warm-up in
    proportion, so the schedule keeps its shape), and/or with a linear warm-up over
    `warmup_epochs` (Goyal et al. 2017 warm up for 5 epochs from the small batch's rate when
    the batch grows large). The name records what changed."""
    changes, name = {}, recipe.name
    if batch_size is not None and batch_size != recipe.batch_size:
        changes.update(batch_size=check_int("batch_size", batch_size),
                       lr=scaled_lr(recipe, batch_size))
        name += f"-batch{batch_size}"
    if epochs is not None and epochs != recipe.epochs:
        f = check_int("epochs", epochs) / recipe.epochs
        # halves round up (Python's round() would send 2.5 to 2 and 7.5 to 8)
        milestones = tuple(sorted({max(1, int(m * f + 0.5)) for m in recipe.milestones}))
        changes.update(epochs=epochs, milestones=tuple(m for m in milestones if m < epochs),
                       decay_epochs=recipe.decay_epochs * f,
                       warmup_epochs=recipe.warmup_epochs * f)
        name += f"-{epochs}ep"
    if warmup_epochs is not None and warmup_epochs != recipe.warmup_epochs:
        changes.update(warmup_epochs=check_number("warmup_epochs", warmup_epochs, low=0))
        name += f"-warmup{warmup_epochs:g}"
    return dataclasses.replace(recipe, name=name, **changes).check() if changes else recipe
