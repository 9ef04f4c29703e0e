"""The results side of the transfer study (`transfer_study`): its summary.csv, the seeds'
aggregate, the figure, and the record copied under results/. Imports no Keras."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np

from cnn_keras.checks import fail

REGIMES = ("scratch", "probe", "finetune")
REGIME_LABELS = {"scratch": "from scratch", "probe": "linear probe (frozen net, new head)",
                 "finetune": "fine-tune all layers (new head)"}
SUMMARY_FIELDS = ("shots", "regime", "seed", "images", "batch_size", "epochs", "steps", "lr",
                  "trainable_params", "train_accuracy", "test_accuracy", "test_images",
                  "seconds")
FIGURE = "transfer.png"


def write_json(path: Path, value) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(value, indent=1) + "\n")
    os.replace(tmp, path)


def ordered_rows(rows: list[dict]) -> list[dict]:
    order = {r: i for i, r in enumerate(REGIMES)}
    return sorted(rows, key=lambda r: (r["shots"], order[r["regime"]], r["seed"]))


def write_summary(out_dir, rows: list[dict]) -> Path:
    """``out_dir/summary.csv``: one row per cell (`SUMMARY_FIELDS`), written atomically."""
    path = Path(out_dir) / "summary.csv"
    tmp = path.with_name(".summary.csv.partial")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS)
        w.writeheader()
        w.writerows({k: r.get(k) for k in SUMMARY_FIELDS} for r in rows)
    os.replace(tmp, path)
    return path


_INTS = ("shots", "seed", "images", "batch_size", "epochs", "steps", "trainable_params",
         "test_images")


def read_summary(out_dir) -> list[dict]:
    """The rows of ``out_dir/summary.csv`` (none where it does not exist), typed."""
    path = Path(out_dir) / "summary.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [{k: (v if k == "regime" else int(v) if k in _INTS else float(v))
                 for k, v in row.items()} for row in csv.DictReader(f)]


def load(out_dir) -> dict:
    """A finished run (or a record under results/): its run.json, with ``rows`` read from
    summary.csv."""
    out_dir = Path(out_dir)
    if not (out_dir / "run.json").is_file():
        fail("`out_dir` must be a transfer run with run.json.", out_dir=str(out_dir))
    info = json.loads((out_dir / "run.json").read_text())
    info["rows"] = read_summary(out_dir)
    return info


def aggregate(rows: list[dict]) -> list[dict]:
    """One row per (shots, regime): the test accuracy's mean, lowest and highest over the
    seeds (%), and how many seeds."""
    out = []
    for n in sorted({r["shots"] for r in rows}):
        for regime in REGIMES:
            acc = [100 * r["test_accuracy"] for r in rows
                   if r["shots"] == n and r["regime"] == regime]
            if acc:
                out.append({"shots": n, "regime": regime, "seeds": len(acc),
                            "mean": round(float(np.mean(acc)), 2), "min": round(min(acc), 2),
                            "max": round(max(acc), 2)})
    return out


def print_summary(rows: list[dict]) -> None:
    print(f"{'shots':>5}  {'regime':<9}{'seeds':>6}{'test acc % (mean)':>19}{'min-max':>15}")
    for a in aggregate(rows):
        print(f"{a['shots']:>5}  {a['regime']:<9}{a['seeds']:>6}{a['mean']:>19.1f}"
              f"{a['min']:>8.1f}-{a['max']:.1f}")


def figure_caption(info: dict, source, target, history, rows) -> str:
    """The figure's caption from a run's `info` (run.json), the source and target data, the
    source net's history and the rows: data, net, epochs, seeds and hardware."""
    return caption_text(info, {"classes": list(source.class_names),
                               "images": len(source.x_train), "test_images": len(source.x_test),
                               "epochs": len(history),
                               "test_accuracy": history[-1]["val_accuracy"]},
                        {"classes": list(target.class_names), "test_images": len(target.x_test)},
                        rows)


def caption_text(info: dict, source: dict, target: dict, rows) -> str:
    """`figure_caption` from plain values, as run.json keeps them (`redraw`)."""
    hw, config = info.get("hardware", {}), info.get("config", {})
    settings = config.get("settings", {})
    seeds = len({r["seed"] for r in rows})
    data = {"cifar10": "CIFAR-10"}.get(config.get("data"), config.get("data", "?"))
    return (f"{config.get('model', '?')} on {data}. Source: "
            f"{source['images']:,} images of {', '.join(source['classes'])}, "
            f"{plural(source['epochs'], 'epoch')} ({100 * source['test_accuracy']:.1f} % on "
            f"{source['test_images']:,} test images). Target: {', '.join(target['classes'])}, "
            f"each net trained for at least {settings.get('min_epochs', '?')} epochs and "
            f"{settings.get('min_steps', '?')} steps, scored on {target['test_images']:,} test "
            f"images after the last epoch; {plural(seeds, 'seed')}"
            f"{' (range shaded)' if seeds > 1 else ''}. {hw.get('device', '?')}, "
            f"{hw.get('cpu', '?')}")


def redraw(out_dir) -> None:
    """Draw a finished transfer run's figure again from its run.json and summary.csv (a record
    under results/, after a change to the figure), training nothing; its caption in run.json
    is rewritten to match."""
    out_dir = Path(out_dir)
    info = json.loads((out_dir / "run.json").read_text())
    rows = ordered_rows(read_summary(out_dir))
    source = {**info["source"], "classes": info["config"]["source_classes"]}
    target = {**info["target"], "classes": info["config"]["target_classes"]}
    info["caption"] = caption_text(info, source, target, rows)
    from cnn_keras import plots

    plots.plt.close(figure(rows, out_dir / FIGURE, caption=info["caption"],
                           chance=1 / len(target["classes"])))
    write_json(out_dir / "run.json", info)


def plural(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def figure(rows: list[dict], path=None, *, caption: str = "", chance: float | None = None):
    """Test accuracy against training images per class (log axis), one line per regime through
    the seeds' mean, their range shaded and each seed a dot; `chance` (a share) drawn."""
    from cnn_keras import plots

    fig, ax = plots.plt.subplots(figsize=(7.5, 4.6))
    for i, regime in enumerate(REGIMES):
        mine = [a for a in aggregate(rows) if a["regime"] == regime]
        if not mine:
            continue
        x = [a["shots"] for a in mine]
        ax.plot(x, [a["mean"] for a in mine], "-o", color=f"C{i}", label=REGIME_LABELS[regime])
        ax.fill_between(x, [a["min"] for a in mine], [a["max"] for a in mine], color=f"C{i}",
                        alpha=0.2, linewidth=0)
        dots = [r for r in rows if r["regime"] == regime]
        ax.plot([r["shots"] for r in dots], [100 * r["test_accuracy"] for r in dots], ".",
                color=f"C{i}", alpha=0.5, markersize=5)
    if chance:
        ax.axhline(100 * chance, color="gray", linestyle=":", linewidth=1)
        ax.annotate(f"chance ({round(1 / chance)} classes)", (0.01, 100 * chance),
                    xycoords=("axes fraction", "data"), fontsize=7, color="gray", va="top")
    shots = sorted({r["shots"] for r in rows})
    ax.set_xscale("log")
    ax.set_xticks(shots, [str(n) for n in shots])
    ax.minorticks_off()
    ax.set_ylim(0, 100)
    ax.set_xlabel("training images per target class")
    ax.set_ylabel("target test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    plots._caption(fig, caption, 7.5, y=0.995)
    return plots._finish(fig, path)


# --- A record under results/ ------------------------------------------------------------------

RECORD_FILES = ("summary.csv", "run.json", FIGURE, "source/history.csv", "source/run.json")


def copy_record(run_dir, dest) -> list[Path]:
    """Copy what a record needs of the finished run `run_dir` (its summary, run.json, figure
    and the source net's history and run.json; no checkpoints) to `dest`, e.g.
    results/transfer-cpu. Returns the files written."""
    run_dir, dest = Path(run_dir), Path(dest)
    status = load(run_dir).get("status")
    if status != "finished":
        fail("`run_dir` must be a finished transfer run.", run_dir=f"{run_dir} ({status})")
    if dest.resolve() == run_dir.resolve():
        fail("`dest` must differ from `run_dir`.", dest=str(dest))
    written = []
    for name in RECORD_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copyfile(run_dir / name, dest / name)))
    return written
