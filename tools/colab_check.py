"""The Colab check: a notebook opened as Colab opens it, on Colab's versions, without Colab.

1. A fresh venv (Python 3.12, Colab's; `--python` to choose) with Colab's TensorFlow, Keras,
   numpy and friends (tools/colab-versions.txt): also the lowest versions the package supports.
2. The notebook alone in an empty folder (Colab's /content), its setup cell pointed at a clone
   of this repository (CNN_KERAS_REPO_URL) instead of GitHub.
3. The notebook executed top to bottom in quick mode in one kernel (no restart), then a check
   that TensorFlow, Keras and numpy are the versions Colab had.
4. A smoke subset of the unit tests, from the clone the setup cell made, on those versions.

    python3 tools/colab_check.py [--notebook notebooks/04_resnet.ipynb] [--venv DIR]

Stdlib only, so that any Python 3 runs it; `make colab-check` is the short way. It needs the
package registry (pip) and, with no internet, CIFAR-10 in $CNN_KERAS_DATA.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "tools" / "colab-versions.txt"
KEPT = ("tensorflow", "keras", "numpy")  # what the setup cell must not change
SMOKE_TESTS = ("tests/test_registry.py", "tests/models/test_resnet.py", "tests/test_saving.py",
               "tests/test_claims.py")

# Runs inside the Colab-like venv: execute the notebook in its own folder, one kernel.
EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, path)
print("executed", len(nb.cells), "cells")
"""


def say(msg: str) -> None:
    print(f"[colab-check] {msg}", flush=True)


def find_python(choice: str | None) -> str:
    """Colab's Python (3.12): the one given, else python3.12 on PATH or in pyenv."""
    candidates = [choice] if choice else [
        shutil.which("python3.12"), *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python"))]
    for c in candidates:
        if c and subprocess.run([str(c), "-c", "import sys; sys.exit(sys.version_info[:2] != "
                                 "(3, 12))"], capture_output=True).returncode == 0:
            return str(c)
    sys.exit("colab_check: `--python` must be a Python 3.12 (Colab's, and the newest that "
             f"Colab's numpy 2.0.2 has wheels for). Received: {choice or 'none found on PATH'}")


def run(cmd: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def versions(py: Path) -> dict:
    out = run([py, "-c", "import importlib.metadata as m; print(' '.join(m.version(p) for p in "
               f"{KEPT!r}))"], capture_output=True, text=True).stdout.split()
    return dict(zip(KEPT, out))


def make_venv(venv: Path, python: str) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        say(f"creating {venv} with {python}")
        run([python, "-m", "venv", venv])
    say(f"installing Colab's packages ({VERSIONS.relative_to(ROOT)})")
    run([py, "-m", "pip", "install", "-q", "-r", VERSIONS])
    run([py, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
        stdout=subprocess.DEVNULL)
    # a venv kept from an earlier check still has that check's clone installed; Colab has none
    run([py, "-m", "pip", "uninstall", "-q", "-y", "cnn-keras"], stderr=subprocess.DEVNULL)
    return py


def clean_clone() -> Path:
    """A clone of this repository's HEAD, as GitHub would serve it (uncommitted files left out)."""
    where = Path(tempfile.mkdtemp(prefix="colab-origin-")) / "cnn-keras"
    run(["git", "clone", "-q", ROOT, where])
    return where


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", default="notebooks/04_resnet.ipynb")
    ap.add_argument("--venv", default=str(ROOT / ".colab-venv"))
    ap.add_argument("--python", help="a Python 3.12 (default: found on PATH or in pyenv)")
    args = ap.parse_args(argv)
    notebook = ROOT / args.notebook
    if not notebook.is_file():
        sys.exit(f"colab_check: `--notebook` must be a notebook of this repository. "
                 f"Received: {args.notebook}")
    start = time.time()
    py = make_venv(Path(args.venv), find_python(args.python))
    before = versions(py)
    say(f"Colab's versions: {before}")
    content = Path(tempfile.mkdtemp(prefix="colab-content-"))  # Colab's /content
    shutil.copy(notebook, content)
    env = {**os.environ, "CNN_KERAS_MODE": "quick", "CNN_KERAS_REPO_URL": str(clean_clone()),
           "MPLBACKEND": "Agg", "VIRTUAL_ENV": str(Path(args.venv)),
           "PATH": f"{Path(args.venv) / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    say(f"executing {notebook.name} in {content} (quick mode, one kernel)")
    run([py, "-c", EXECUTE, content / notebook.name, content], env=env, cwd=content)
    after = versions(py)
    if after != before:
        sys.exit(f"colab_check: FAILED: the setup cell changed Colab's packages: {before} -> "
                 f"{after}")
    say(f"Colab's TensorFlow, Keras and numpy kept: {after}")
    clone = content / "cnn-keras"
    say(f"smoke tests on these versions: {' '.join(SMOKE_TESTS)}")
    run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SMOKE_TESTS], cwd=clone, env=env)
    say(f"PASSED in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
