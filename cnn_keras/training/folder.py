"""The run folder: what `train` writes, and how a run is resumed from it."""

from __future__ import annotations

import contextlib
import csv
import json
import tempfile
import os
from pathlib import Path

from cnn_keras.checks import fail

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")
PROGRESS = "progress.json"


class RunFolder:
    """One training run on disk, written so that an interruption at any moment loses at most
    the epoch in progress:

    * ``run.json``: the settings (``config``), the machine and versions, the status;
    * ``checkpoint-NNNN.keras``: model and optimizer state after the last finished epoch;
    * ``progress.json``: the commit point, written after the checkpoint: the last finished
      epoch, its checkpoint's name and the history rows;
    * ``history.csv``: the same rows for people and plots;
    * ``model.keras``: when the run has finished, the model for raw images (`export`);
    * ``.train.lock``: held while a process trains here.

    Every file is written to a temporary name and renamed, so none is ever half-written.
    """

    def __init__(self, path, writes: bool = True, fields=HISTORY_FIELDS):
        self.path = Path(path)
        self.fields = tuple(fields)  # the columns of history.csv
        # False in every process of a multi-process run but the chief: they read, it writes
        self.writes = writes
        self.run_json = self.path / "run.json"
        self.progress_file = self.path / PROGRESS
        self.history_csv = self.path / "history.csv"

    def check_usable(self) -> None:
        """ValueError (one line) when the path exists and is not a folder."""
        if self.path.exists() and not self.path.is_dir():
            fail("The output folder is an existing file; give a folder (new or a run to "
                 "resume).", out_dir=str(self.path))

    @contextlib.contextmanager
    def lock(self, verbose):
        """Hold ``.train.lock`` while training here. A second process started on the same
        folder (two notebooks that share a run, or a command typed twice) waits, then resumes
        or reads back what the first left, instead of both writing the same checkpoints.
        (No lock where `fcntl` is missing, i.e. on Windows.)"""
        try:
            import fcntl
        except ImportError:
            fcntl = None
        if fcntl is None or not self.writes:
            yield
            return
        with open(self.path / ".train.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if verbose:
                    print(f"{self.path}: another process is training here; waiting for it",
                          flush=True)
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def discard(self) -> None:
        """Forget the run recorded here (``restart=True``)."""
        if not self.writes:
            return
        for p in [self.progress_file, self.run_json, self.history_csv, self.path / "model.keras",
                  *self.path.glob("checkpoint-*.keras")]:
            p.unlink(missing_ok=True)

    def progress(self) -> dict | None:
        """The last commit (epoch, checkpoint, history), or None before the first epoch."""
        if not self.progress_file.exists():
            return None
        return json.loads(self.progress_file.read_text())

    def info(self) -> dict:
        return json.loads(self.run_json.read_text()) if self.run_json.exists() else {}

    def write_info(self, info: dict) -> None:
        if not self.writes:
            return
        atomic_write(self.run_json, lambda p: Path(p).write_text(json.dumps(info, indent=1)))

    def check_resumable(self, config: dict) -> None:
        """ValueError unless the run recorded here has the settings `config` that matter."""
        saved = self.comparable(self.info().get("config", {}))
        if saved != self.comparable(config):
            raise ValueError(
                f"{self.path} holds a run with other settings, so it cannot be resumed with "
                f"these. Use another output directory, or restart=True (--restart) to discard "
                f"it. Saved: {saved}; Received: {self.comparable(config)}")

    def commit_epoch(self, model, epoch: int, history: list[dict]) -> None:
        """Checkpoint, then progress.json (the commit), then history.csv; drop older
        checkpoints."""
        if not self.writes:
            # saving is collective in a multi-process JAX run (it gathers the replicated
            # weights): every process saves, only the chief keeps the file
            with tempfile.TemporaryDirectory() as scratch:
                model.save(Path(scratch) / "checkpoint.keras")
            return
        ckpt = f"checkpoint-{epoch:04d}.keras"
        atomic_write(self.path / ckpt, lambda p: model.save(p), suffix=".keras")
        state = {"epoch": epoch, "checkpoint": ckpt, "history": history}
        atomic_write(self.progress_file, lambda p: Path(p).write_text(json.dumps(state, indent=1)))
        write_history_csv(self.history_csv, history, self.fields)
        for old in self.path.glob("checkpoint-*.keras"):
            if old.name != ckpt:
                old.unlink(missing_ok=True)

    def load_model(self):
        """The model (and optimizer) of the last finished epoch."""
        state = self.progress()
        if state is None:
            raise FileNotFoundError(f"{self.path} has no finished epoch ({PROGRESS} is missing)")
        from cnn_keras.saving import load_model

        return load_model(self.path / state["checkpoint"])

    @staticmethod
    def comparable(config: dict) -> dict:
        """The settings that must agree for a run to be resumed (with the defaults of runs
        recorded before a setting existed)."""
        out = {k: config.get(k) for k in ("model", "model_kwargs", "epochs", "seed",
                                           "init_from")}
        out["dtype_policy"] = config.get("dtype_policy", "float32")
        out["augment_in_model"] = config.get("augment_in_model", False)
        recipe = config.get("recipe") or {}
        out["recipe"] = {k: recipe.get(k) for k in ("name", "batch_size", "lr", "total_steps",
                                                     "warmup_steps", "warmup_epochs",
                                                     "weight_decay")}
        for k, default in (("lr_schedule", "step"), ("nesterov", False),
                           ("label_smoothing", 0.0), ("low_res_size", 0),
                           ("low_res_epochs", 0), ("scale_jitter", None)):
            out["recipe"][k] = recipe.get(k, default)
        out["dataset"] = comparable_dataset(config.get("dataset") or {})
        return json.loads(json.dumps(out))


def comparable_dataset(described: dict) -> dict:
    """What of a dataset's `describe()` must agree for a run to resume: its name and sizes. The
    name too: generated data of CIFAR-10's size must not pass for CIFAR-10 (a notebook run first
    without the data, then with it, would show the generated run's numbers). Not its source: the
    same copy read from another folder (or through $CNN_KERAS_DATA) is the same data."""
    return {k: described.get(k) for k in ("name", "num_train", "num_test")}


def atomic_write(path: Path, write, suffix: str = ".tmp"):
    """`write(name)` to a temporary name beside `path`, then renamed to it: a reader (or a
    resume after a crash) sees the old file or the new one, never half of one. `suffix` ends
    the temporary name, for writers that check it (Keras: ``.keras``, ``.weights.h5``)."""
    tmp = path.with_name(f".{path.name}.partial{suffix}")
    write(str(tmp))
    os.replace(tmp, path)


def write_history_csv(path, rows: list[dict], fields=HISTORY_FIELDS):
    def write(p):
        with open(p, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k) for k in fields})

    atomic_write(Path(path), write)


def read_history_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v) if v not in ("", None) else None)
                 for k, v in row.items()} for row in csv.DictReader(f)]


def load_checkpoint_model(out_dir):
    """The model of the last finished epoch of a run directory."""
    return RunFolder(out_dir).load_model()
