"""Knowledge distillation on CIFAR-10 (notebook 06, section 7): the recorded AlexNet teaches a
MobileNet a fourteenth of its cost.

The teacher is `results/weights/alexnet_cifar-half-paper-seed2` (23.64 % test error, 47.6M
multiply-adds an image); the student `mobilenet_cifar(alpha=0.25)` (0.2M parameters, 3.3M
multiply-adds), trained as the MobileNet record trains it (lr 0.1 /10 at 50 % and 75 % of the
run, coupled weight decay 5e-5, batch 128, pad-crop-flip) two ways from the same seed: on the
labels alone, and by `distill.Distiller` with half the loss from the teacher (alpha 0.5, T 4).
Both nets see the images normalised with the teacher's recorded per-pixel mean.

Each (arm, seed) trains into its own folder under `out_dir`, resumable after every epoch
(`_Backup`: weights and optimizer state, then the epoch as the commit, the way
`training.RunFolder` keeps its checkpoints; the batches of epoch e depend only on (seed, e)),
and writes `result.json` when it ends (the backup then goes); run again, a finished arm is
read back, not retrained; its `history.csv` has a row per epoch. A second process on the same
folder waits for the first (`RunFolder.lock`). `run.json` collects the rows with the machine.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import keras

from cnn_keras.analysis import iter_layers

TEACHER = "alexnet_cifar-half-paper-seed2"
STUDENT = ("mobilenet_cifar", {"alpha": 0.25})
ARMS = {"labels": 1.0, "distilled": 0.5}  # the labels' weight alpha; the rest is the teacher's
TEMPERATURE = 4.0
MODES = {  # training images, test images, epochs (None: all of CIFAR-10)
    "quick": (256, 128, 1),
    "demo": (5_000, 2_000, 6),
    "record": (None, None, 10),
}
LR, WEIGHT_DECAY, BATCH = 0.1, 5e-5, 128  # the MobileNet record's recipe


def teacher_net(results_dir):
    """The recorded teacher without its preprocessing layers: it takes images as the training
    pipeline gives them (scaled to [0, 1], its per-pixel mean subtracted), and that mean."""
    from cnn_keras import inspect_net

    flat = inspect_net.load_recorded(TEACHER, results_dir)
    subtract = flat.get_layer("subtract_pixel_mean")
    net = keras.Model(subtract.output, flat.output, name="teacher")
    mean = keras.ops.convert_to_numpy(subtract.mean)[0]
    return net, mean


def run(mode: str, out_dir, *, seeds=(0,), results_dir, data_dir=None, verbose: int = 1,
        callbacks=()):
    """Train both arms for every seed in `seeds` (finished ones are read back) and return one
    row per (arm, seed): its final test error and time. Writes out_dir/run.json.
    `callbacks` are added to each arm's `fit` (after the one that backs it up)."""
    from cnn_keras import data as data_lib, runinfo
    from cnn_keras.checks import check_choice, fail, is_int

    check_choice("mode", mode, tuple(MODES))
    if not seeds or not all(is_int(s) and s >= 0 for s in seeds):
        fail("`seeds` must be a non-empty list of integers >= 0.", seeds=seeds)
    num_train, num_test, epochs = MODES[mode]
    data = data_lib.cifar10_subset(num_train, num_test, data_dir=data_dir, seed=0,
                                   verbose=bool(verbose), synthetic_fallback=mode == "quick")
    teacher, mean = teacher_net(results_dir)
    out_dir = Path(out_dir)
    rows = [_arm(arm, alpha, seed, data, mean, teacher, out_dir, epochs, verbose, callbacks)
            for seed in seeds for arm, alpha in ARMS.items()]
    summary = {"experiment": "distillation", "mode": mode, "data": data.name,
               "num_train": len(data.x_train), "num_test": len(data.x_test), "epochs": epochs,
               "teacher": TEACHER,
               "student": {"model": STUDENT[0], **STUDENT[1]}, "temperature": TEMPERATURE,
               "rows": rows, **runinfo.run_metadata()}
    (out_dir / "run.json").write_text(json.dumps(summary, indent=1) + "\n")
    return rows


def _arm(arm, alpha, seed, data, mean, teacher, out_dir, epochs, verbose, callbacks) -> dict:
    """One student trained (or read back): its result row."""
    from cnn_keras.training.folder import RunFolder

    folder = out_dir / f"{arm}-seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    with RunFolder(folder).lock(verbose):  # a second process waits, then reads the result
        settings = _settings(folder, arm, alpha, seed, data, epochs)
        done = folder / "result.json"
        if done.exists():
            return json.loads(done.read_text())
        row = _train_arm(folder, settings, alpha, seed, data, mean, teacher, epochs, verbose,
                         callbacks)
        _write_json(done, row)
        # the backup has done its work (and holds the teacher's weights too)
        shutil.rmtree(folder / "backup", ignore_errors=True)
        return row


def _train_arm(folder, settings, alpha, seed, data, mean, teacher, epochs, verbose,
               callbacks) -> dict:
    """Train the student of `folder` (resuming after its last kept epoch): its result row."""
    import numpy as np

    from cnn_keras import data as data_lib, runinfo, training
    from cnn_keras.distill import Distiller
    from cnn_keras.registry import get_builder

    steps = data_lib.steps_per_epoch(len(data.x_train), BATCH)
    keras.utils.set_random_seed(seed)
    student = get_builder(STUDENT[0])(**STUDENT[1])
    model = Distiller(student, teacher, alpha=alpha, temperature=TEMPERATURE)
    recipe = training.scaled_recipe(epochs, BATCH, LR, weight_decay=WEIGHT_DECAY)
    model.compile(optimizer=recipe.optimizer(steps), metrics=["accuracy"])
    backup = _Backup(folder / "backup")
    start = backup.epochs()
    if start >= epochs:  # stopped after the last epoch's backup, before the result was written
        backup.restore(model)
    else:
        if verbose and start:
            print(f"[{settings['arm']}, seed {seed}] resuming after epoch {start}")
        batches = data_lib.train_dataset(data.x_train, data.y_train, batch_size=BATCH,
                                         mean=mean, seed=seed, epochs=epochs, initial_epoch=start)
        # the log before the backup: an epoch logged but not backed up is trained again and
        # logged once more in its place, never lost
        log = _EpochLog(folder / "history.csv")
        model.fit(batches, epochs=epochs, initial_epoch=start, steps_per_epoch=steps,
                  callbacks=[log, backup, _EpochSeeds(student, seed), *callbacks],
                  shuffle=False, verbose=2 if verbose else 0)
    x_test, y_test = data_lib.eval_arrays(data.x_test, data.y_test, mean=mean)
    predicted = student.predict(x_test, batch_size=500, verbose=0).argmax(axis=1)
    history = training.read_history_csv(folder / "history.csv")
    return {**settings, "final_test_error": round(100 * float(np.mean(predicted != y_test)), 2),
            "final_train_loss": round(history[-1]["loss"], 4),
            "seconds": round(sum(r["seconds"] for r in history), 1),  # every session's epochs
            "resumed_after_epoch": start, "hardware": runinfo.hardware()}


def _write_json(path: Path, value) -> None:
    """`value` as indented JSON, written to a temporary name and renamed (never half there)."""
    from cnn_keras.training.folder import atomic_write

    atomic_write(path, lambda p: Path(p).write_text(json.dumps(value, indent=1) + "\n"))


def _settings(folder: Path, arm, alpha, seed, data, epochs) -> dict:
    """What the arm in `folder` trains, kept in its settings.json: a folder of other settings
    (another mode, data or length) is an error, not a run to resume or read back."""
    from cnn_keras.checks import fail

    settings = {"arm": arm, "alpha": alpha, "temperature": TEMPERATURE, "seed": seed,
                "epochs": epochs, "data": data.name, "num_train": len(data.x_train),
                "num_test": len(data.x_test), "teacher": TEACHER,
                "student": {"model": STUDENT[0], **STUDENT[1]}}
    path = folder / "settings.json"
    if path.exists():
        kept = json.loads(path.read_text())
        if kept != settings:
            differ = sorted(k for k in settings if kept.get(k) != settings[k])
            fail(f"`out_dir` holds a run of other settings in {folder} ({', '.join(differ)} "
                 "differ): choose another --out, or remove that folder.", out_dir=folder.parent)
    else:
        _write_json(path, settings)
    return settings


class _EpochLog(keras.callbacks.Callback):
    """`path`, a history.csv as `training` writes it (epochs from 1; loss, accuracy, the
    learning rate, seconds), rewritten whole after each epoch: the rows of the sessions
    before a resume are kept, an epoch trained twice is written once."""

    def __init__(self, path: Path):
        super().__init__()
        from cnn_keras import training

        self.path, self.began = path, 0.0
        self.rows = ({r["epoch"]: r for r in training.read_history_csv(path)}
                     if path.exists() else {})

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.time()

    def on_epoch_end(self, epoch, logs=None):
        from cnn_keras import training

        logs = logs or {}
        lr = self.model.optimizer.learning_rate
        self.rows[epoch + 1] = {"epoch": epoch + 1, "loss": logs.get("loss"),
                                "accuracy": logs.get("accuracy"),
                                "lr": float(keras.ops.convert_to_numpy(lr)),
                                "seconds": round(time.time() - self.began, 2)}
        training.write_history_csv(self.path, [self.rows[e] for e in sorted(self.rows)])


class _EpochSeeds(keras.callbacks.Callback):
    """Sets every random-number generator of `net` (its dropout's) from (seed, epoch) when an
    epoch begins: their state is not among the weights a backup keeps, so without this a
    resumed run would draw other dropout masks than an uninterrupted one."""

    def __init__(self, net, seed: int):
        super().__init__()
        self.generators = [layer.seed_generator for layer in iter_layers(net)
                           if isinstance(getattr(layer, "seed_generator", None),
                                         keras.random.SeedGenerator)]
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        for i, generator in enumerate(self.generators):
            generator.state.assign(keras.ops.convert_to_tensor(
                [self.seed * 1_000_003 + i, epoch], dtype=generator.state.dtype))


class _Backup(keras.callbacks.Callback):
    """The model's weights and its optimizer's state after every epoch, in `folder`: the
    weights file first, each epoch under its own name, then ``training_metadata.json`` naming
    it (the commit), then the older files go. An interruption at any moment leaves the last
    committed epoch whole, where Keras' `BackupAndRestore` writes over its one weights file.
    (Folders that `BackupAndRestore` wrote, whose metadata names no file, still resume.)"""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder, self.meta = folder, folder / "training_metadata.json"

    def _kept(self) -> dict:
        return json.loads(self.meta.read_text()) if self.meta.exists() else {}

    def epochs(self) -> int:
        """The epochs kept here (0 when none)."""
        return int(self._kept().get("epoch", 0))

    def restore(self, model) -> None:
        """`model`'s weights and optimizer state as the last kept epoch left them (if any)."""
        kept = self._kept()
        if not kept:
            return
        if not model.optimizer.built:  # its variables must exist to be loaded
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.folder / kept.get("weights", "latest.weights.h5"))

    def on_train_begin(self, logs=None):
        self.restore(self.model)

    def on_epoch_end(self, epoch, logs=None):
        from cnn_keras.training.folder import atomic_write

        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:04d}.weights.h5"
        atomic_write(self.folder / name, self.model.save_weights, suffix=".weights.h5")
        _write_json(self.meta, {"epoch": epoch + 1, "weights": name})
        # the older epochs' files and the one `BackupAndRestore` kept in folders it wrote
        for old in [*self.folder.glob("epoch-*.weights.h5"), self.folder / "latest.weights.h5"]:
            if old.name != name:
                old.unlink(missing_ok=True)
