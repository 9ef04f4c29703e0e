"""Draw recorded study runs' figures again, training and evaluating nothing.

After a change to the figures (`cnn_keras.plots`), a record under ``results/`` can show the new
drawing without its runs: `experiments.runner.redraw` reads the folder's run.json and each
variant's history.csv, recipe and machines, and leaves run.json as it is.

    .venv/bin/python tools/redraw_records.py results/vgg-cpu [results/... ...]
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(folders: list[str]) -> int:
    from cnn_keras.experiments import runner

    if not folders:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    for folder in map(Path, folders):
        if not (folder / "run.json").is_file():
            print(f"{folder}: not a study run folder (no run.json)", file=sys.stderr)
            return 2
        runner.redraw(folder)
        print(f"{folder}: figures drawn again", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
