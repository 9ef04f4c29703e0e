"""The course's notebooks as a newcomer opens them (Keras-free): the "Open in Colab" badges and
the setup cell that every notebook starts with, generated from the repository's URL in
``pyproject.toml`` (``[project.urls] Repository``), the one place it is kept.

``python -m cnn_keras.course`` rewrites the notebooks' setup cells and badges and the README's
badge column from it; ``--check`` only lists what is out of date (the tests run it).
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BRANCH = "main"
BADGE_ALT = "Open In Colab"

# The first code cell of every notebook. In a clone (Jupyter, `make setup`) the package is already
# installed and the cell only finds the repository. On Colab it clones the repository (the
# notebook alone does not bring `results/`), installs it without its dependencies' upgrades (the
# lower bounds in pyproject.toml accept Colab's TensorFlow and Keras, so pip keeps them) and puts
# it on `sys.path`: an editable install is only seen by processes started after it, and Colab's
# kernel is already running. Run again in the same kernel (or after Colab's "Restart session"),
# the package is found but the working folder is not the repository: REPO is then the folder the
# package was imported from. RUNS, where the notebooks train, is CNN_KERAS_RUNS where set (on
# Colab a Google Drive folder keeps runs past the end of the session), else REPO/runs.
# CNN_KERAS_REPO_URL overrides the URL (the Colab-like check clones a local copy).
SETUP_CELL = '''\
# Setup: find the course repository, or (on Colab) clone and install it, keeping Colab's
# TensorFlow and Keras. REPO is the repository's folder (its results/ holds the recorded runs),
# RUNS where this notebook trains (set CNN_KERAS_RUNS, e.g. to a Google Drive folder, to keep it).
import importlib.util, os, subprocess, sys
from pathlib import Path
REPO_URL = os.environ.get("CNN_KERAS_REPO_URL", "{url}")
REPO = next((p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").exists()
             and (p / "cnn_keras").is_dir()), None)
if importlib.util.find_spec("cnn_keras") is None:
    if REPO is None:
        REPO = Path.cwd() / "cnn-keras"
        if not REPO.exists():
            subprocess.run(["git", "clone", "-q", "--depth", "1", "-b", "{branch}", REPO_URL,
                            str(REPO)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", str(REPO)], check=True)
    sys.path.insert(0, str(REPO))  # the running kernel does not see a new editable install
    importlib.invalidate_caches()
if REPO is None:  # run again on Colab (the kernel's folder is /content)
    REPO = Path(importlib.util.find_spec("cnn_keras").origin).parents[1]
RUNS = Path(os.environ.get("CNN_KERAS_RUNS", REPO / "runs")).expanduser()
print("cnn-keras from", REPO, "| training runs in", RUNS)'''


def setup_cell(url: str) -> str:
    """The setup cell for the repository at `url`."""
    return SETUP_CELL.format(url=url, branch=BRANCH)


def repo_root() -> Path:
    """The repository that holds this package (where ``pyproject.toml`` is)."""
    return Path(__file__).resolve().parent.parent


def repository_url(root: Path | None = None) -> str:
    """``[project.urls] Repository`` of the repository's ``pyproject.toml``."""
    pyproject = (root or repo_root()) / "pyproject.toml"
    urls = tomllib.loads(pyproject.read_text()).get("project", {}).get("urls", {})
    url = urls.get("Repository")
    if not url or not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"{pyproject}: [project.urls] Repository must be a GitHub URL "
                         f"(https://github.com/OWNER/NAME). Received: {url!r}")
    return url


def colab_url(notebook: str, url: str) -> str:
    """The Colab address that opens `notebook` (e.g. ``notebooks/01_alexnet.ipynb``) from
    GitHub's `BRANCH`."""
    return f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}" \
           f"/blob/{BRANCH}/{notebook}"


def badge(notebook: str, url: str) -> str:
    return f"[![{BADGE_ALT}]({COLAB_BADGE})]({colab_url(notebook, url)})"


_BADGE_RE = re.compile(r"\[!\[" + BADGE_ALT + r"\]\([^)]*\)\]\([^)]*\)")
# A notebook's link to a file of the repository: relative (``](../docs/claims.md)``), which Colab
# cannot follow, or already absolute on GitHub (to be moved to a new URL).
_REPO_LINK_RE = re.compile(r"\]\((?:\.\./|https://github\.com/[\w.-]+/cnn-keras/blob/[\w.-]+/)"
                           r"((?:docs|results|notebooks|cnn_keras|benchmarks|tools)/[^)\s]*"
                           r"|(?:README\.md|Makefile|pyproject\.toml|environment\.yml)[^)\s]*)\)")


def _absolute_links(text: str, url: str) -> str:
    """`text` with its links into the repository pointing at GitHub, so that they open from
    Colab as from GitHub or Jupyter."""
    return _REPO_LINK_RE.sub(lambda m: f"]({url}/blob/{BRANCH}/{m.group(1)})", text)


def _with_badge(text: str, notebook: str, url: str) -> str:
    """`text` (a markdown cell or README line) with its Colab badge set; a notebook's title cell
    without one gets it on a line of its own after the title."""
    if _BADGE_RE.search(text):
        return _BADGE_RE.sub(lambda _: badge(notebook, url), text)
    title, sep, rest = text.partition("\n")
    return f"{title}\n\n{badge(notebook, url)}{sep}{rest}"


def _notebook_text(path: Path, root: Path, url: str) -> str:
    """`path`'s JSON with its badge (title cell), links into the repository (markdown cells)
    and setup cell (first code cell) set."""
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    title = "".join(cells[0]["source"])
    cells[0]["source"] = _with_badge(title, path.relative_to(root).as_posix(),
                                     url).splitlines(keepends=True)
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            cell["source"] = _absolute_links(text, url).splitlines(keepends=True)
    setup = next(c for c in cells if c["cell_type"] == "code")
    setup["source"] = setup_cell(url).splitlines(keepends=True)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _readme_text(text: str, url: str) -> str:
    """Each README row that links a notebook (``[`NN_name`](notebooks/NN_name.ipynb)``) with
    its badge after the link, and the README's ``git clone`` from `url`."""
    link = re.compile(r"(\[`\w+`\]\((notebooks/\w+\.ipynb)\))( " + _BADGE_RE.pattern + ")?")
    text = link.sub(lambda m: f"{m.group(1)} {badge(m.group(2), url)}", text)
    return re.sub(r"git clone https://github\.com/[\w.-]+/[\w.-]+ ", f"git clone {url} ", text)


def sync(root: Path | None = None, write: bool = True) -> list[Path]:
    """Bring the notebooks' badges and setup cells and the README's badges up to date with the
    repository URL; the files that were (with ``write=False``: would be) changed."""
    root = root or repo_root()
    url = repository_url(root)
    stale = []
    for path in [*sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")), root / "README.md"]:
        old = path.read_text()
        new = _readme_text(old, url) if path.suffix == ".md" else _notebook_text(path, root, url)
        if new != old:
            stale.append(path)
            if write:
                path.write_text(new)
    return stale


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    stale = sync(write=not check)
    for path in stale:
        print(f"{'out of date' if check else 'updated'}: {path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
