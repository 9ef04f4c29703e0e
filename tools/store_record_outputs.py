"""Store the current outputs of the notebooks' record cells, without retraining anything.

A cell tagged ``record`` only reads the recorded runs under ``results/`` (a record's figure and
table, the notebook's rows of the claims scoreboard), so its output does not depend on the
notebook's MODE. When a record lands, this executes the notebook in quick mode (seconds to
minutes: its own training cells run their CI smoke versions) and copies the outputs of the
record cells, and only those, into the committed notebook, so that a reader on GitHub sees the
decided results while the demo cells keep their demo-mode outputs. A cell tagged
``same-in-every-mode`` (a measurement on a fixed batch, a picture) is stored the same way.

    .venv/bin/python tools/store_record_outputs.py [notebooks/01_alexnet.ipynb ...]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAGS = ("record", "same-in-every-mode")


def execute_quick(path: Path) -> dict:
    """`path` executed in quick mode (in its own folder, as nbval runs it), as JSON."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["CNN_KERAS_MODE"] = "quick"
    # the data `make test` uses (Makefile): without it the notebooks fall back to synthetic data
    shared = ROOT.parent / "shared" / "data"
    if "CNN_KERAS_DATA" not in os.environ and (shared / "cifar10-jpeg.zip").is_file():
        os.environ["CNN_KERAS_DATA"] = str(shared)
    os.environ.pop("MPLBACKEND", None)  # Agg would drop the figures of plt.show()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return json.loads(nbformat.writes(nb))


def store(path: Path) -> int:
    """Copy the record cells' outputs of a quick execution into `path`; how many cells."""
    stored = json.loads(path.read_text())
    ran = execute_quick(path)["cells"]
    count = 0
    for cell, fresh in zip(stored["cells"], ran, strict=True):
        if set(TAGS) & set(cell.get("metadata", {}).get("tags", [])):
            cell["outputs"] = fresh.get("outputs", [])
            # nbval fails a cell that has outputs but no execution count ("unrun reference cell")
            cell["execution_count"] = fresh.get("execution_count")
            count += 1
    path.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    return count


def main(argv=None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)] or sorted(
        (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        if not path.is_file() or path.suffix != ".ipynb":
            sys.exit(f"store_record_outputs: each argument must be a notebook. Received: {path}")
        stored = store(path.resolve())
        print(f"{path.name}: {stored} cells stored (tags: {', '.join(TAGS)})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
