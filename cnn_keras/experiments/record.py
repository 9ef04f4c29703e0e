"""Recording a finished study run under ``results/``: what a reader and the claims need (the
summary, the figures, run.json, and each variant's history and run.json), without the
checkpoints, progress and lock files that let a run resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# the files of a study folder, and of each variant's run folder, that make a record
STUDY_FILES = ("summary.csv", "run.json", "*.png")
VARIANT_FILES = ("history.csv", "run.json")


def _finished_variants(run_dir: Path) -> list[str]:
    summary = json.loads((run_dir / "run.json").read_text()).get("summary", [])
    return [r.get("variant") or r["model"] for r in summary]


def _experiment(run_dir: Path) -> str | None:
    path = run_dir / "run.json"
    return json.loads(path.read_text()).get("experiment") if path.is_file() else None


def _is_finished_training_run(run_dir: Path) -> bool:
    path = run_dir / "run.json"
    return (path.is_file() and not (run_dir / "summary.csv").exists()
            and json.loads(path.read_text()).get("status") == "finished"
            and (run_dir / "history.csv").is_file())


def copy_record(run_dir, dest) -> list[Path]:
    """Copy the record of the finished study run (or single training run) `run_dir` to `dest`
    (created, or updated in place). Returns the files written. ValueError when `run_dir` has
    not finished."""
    run_dir, dest = Path(run_dir), Path(dest)
    if _experiment(run_dir) == "transfer":  # cells, not variants: its own list of files
        from cnn_keras.experiments import transfer_results

        return transfer_results.copy_record(run_dir, dest)
    if _experiment(run_dir) == "distillation":  # `cnn-keras distill`: its finished arms
        _check_dest(run_dir, dest)
        rows = json.loads((run_dir / "run.json").read_text())["rows"]
        arms = [f"{r['arm']}-seed{r['seed']}/{name}" for r in rows
                for name in ("result.json", "history.csv")]
        return [_copy(run_dir / f, dest / f) for f in ["run.json", *arms]]
    if (run_dir / "ablation.csv").is_file():  # `cnn-keras speedrun --ablation`
        return _copy_speedrun_ablation(run_dir, dest)
    if _is_finished_training_run(run_dir):  # one `cnn-keras train` run: its history and run.json
        _check_dest(run_dir, dest)
        return [_copy(run_dir / name, dest / name) for name in VARIANT_FILES]
    if not (run_dir / "run.json").is_file() or not (run_dir / "summary.csv").is_file():
        raise ValueError("`run_dir` must be a finished study run (its run.json and summary.csv "
                         f"are written when every variant has finished). Received: {run_dir}")
    _check_dest(run_dir, dest)
    written = []
    for pattern in STUDY_FILES:
        for f in sorted(run_dir.glob(pattern)):
            written.append(_copy(f, dest / f.name))
    for key in _finished_variants(run_dir):
        for name in VARIANT_FILES:
            if (run_dir / key / name).is_file():
                written.append(_copy(run_dir / key / name, dest / key / name))
    return written


def _check_dest(run_dir: Path, dest: Path) -> None:
    if dest.resolve() == run_dir.resolve():
        raise ValueError(f"`dest` must differ from `run_dir`. Received: {dest}")


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def _copy_speedrun_ablation(run_dir: Path, dest: Path) -> list[Path]:
    """The ablation's table and figure, and each finished variant's history and run.json."""
    _check_dest(run_dir, dest)
    written = [_copy(f, dest / f.name) for f in sorted(run_dir.glob("ablation.*"))]
    for variant in sorted(p for p in run_dir.iterdir() if _is_finished_training_run(p)):
        written += [_copy(variant / name, dest / variant.name / name) for name in VARIANT_FILES]
    return written

