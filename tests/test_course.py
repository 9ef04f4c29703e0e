"""The notebooks' Colab badges and setup cells, generated from pyproject.toml's URL."""

import json
import re
import shutil

import pytest

from cnn_keras import course

URL = "https://github.com/someone/cnn-keras"


def test_notebooks_and_readme_are_current():
    assert course.sync(write=False) == [], "run `python -m cnn_keras.course`"


def test_colab_url_opens_the_notebook_from_github():
    assert course.colab_url("notebooks/04_resnet.ipynb", URL) == (
        "https://colab.research.google.com/github/someone/cnn-keras/blob/main/"
        "notebooks/04_resnet.ipynb")


def test_setup_cell_clones_installs_and_imports_in_the_same_kernel():
    cell = course.setup_cell(URL)
    compile(cell, "setup", "exec")
    for needed in (f'"CNN_KERAS_REPO_URL", "{URL}"', '"git", "clone"', '"-b", "main"',
                   '"pip", "install"', "sys.path.insert(0, str(REPO))",
                   'find_spec("cnn_keras") is None'):
        assert needed in cell


def test_setup_cell_run_again_outside_the_repository_still_finds_it(tmp_path, monkeypatch):
    # Colab: the second run of the cell (or one after "Restart session") finds the package
    # already importable while the kernel's folder, /content, is not the repository.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CNN_KERAS_RUNS", raising=False)
    names = {}
    exec(course.setup_cell(URL), names)
    assert names["REPO"] == course.repo_root() and (names["REPO"] / "results").is_dir()
    assert names["RUNS"] == course.repo_root() / "runs"
    monkeypatch.setenv("CNN_KERAS_RUNS", str(tmp_path / "drive"))
    exec(course.setup_cell(URL), names)
    assert names["RUNS"] == tmp_path / "drive"


def test_links_into_the_repository_open_from_colab():
    text = ("see [claims](../docs/claims.md), [setup](../docs/setup.md#colab), "
            "[old](https://github.com/old/cnn-keras/blob/main/results/CLAIMS.md) and "
            "[airbench](https://github.com/KellerJordan/cifar10-airbench)")
    assert course._absolute_links(text, URL) == (
        f"see [claims]({URL}/blob/main/docs/claims.md), [setup]({URL}/blob/main/docs/"
        f"setup.md#colab), [old]({URL}/blob/main/results/CLAIMS.md) and "
        "[airbench](https://github.com/KellerJordan/cifar10-airbench)")
    for path in sorted((course.repo_root() / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                assert "](../" not in "".join(cell["source"]), path.name


def _copy(tmp_path):
    root = course.repo_root()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, tmp_path / name)
    (tmp_path / "notebooks").mkdir()
    shutil.copy(root / "notebooks" / "04_resnet.ipynb", tmp_path / "notebooks")
    return tmp_path


def test_a_new_url_rewrites_badges_and_setup_cells_once(tmp_path):
    root = _copy(tmp_path)
    py = root / "pyproject.toml"
    py.write_text(py.read_text().replace(course.repository_url(root), URL))
    assert sorted(p.name for p in course.sync(root, write=False)) == ["04_resnet.ipynb",
                                                                     "README.md"]
    assert len(course.sync(root)) == 2 and course.sync(root) == []  # idempotent
    nb = json.loads((root / "notebooks" / "04_resnet.ipynb").read_text())
    assert course.badge("notebooks/04_resnet.ipynb", URL) in "".join(nb["cells"][0]["source"])
    setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "".join(setup["source"]) == course.setup_cell(URL)
    readme = (root / "README.md").read_text()
    assert f"git clone {URL} && cd cnn-keras" in readme
    rows = len(re.findall(r"\[`\d\d_\w+`\]\(notebooks/", readme))  # the notebook table's rows
    assert rows >= 8
    assert readme.count(f"/github/{URL.removeprefix('https://github.com/')}/blob/main/") == rows
    assert readme.count("colab-badge.svg") == rows  # one badge per row, no doubles


@pytest.mark.parametrize("bad", ["", "http://example.com/x", "https://gitlab.com/a/b"])
def test_repository_url_must_be_a_github_url(tmp_path, bad):
    (tmp_path / "pyproject.toml").write_text(f'[project.urls]\nRepository = "{bad}"\n')
    with pytest.raises(ValueError, match=r"Repository must be a GitHub URL.*Received"):
        course.repository_url(tmp_path)


def test_every_notebook_cell_has_a_unique_id():
    # nbformat 4.5 requires cell ids; a cell added without one makes nbval warn, and future
    # nbformat versions refuse the notebook.
    for path in sorted((course.repo_root() / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5), path.name
        ids = [cell.get("id") for cell in nb["cells"]]
        assert None not in ids, f"{path.name}: cell {ids.index(None)} has no id"
        assert len(set(ids)) == len(ids), f"{path.name}: repeated cell ids"


def test_stored_outputs_have_no_tensorflow_start_up_noise():
    # The notebooks import TensorFlow through import_tensorflow_quietly: a reader on GitHub or
    # Colab should not meet "failed call to cuInit" in a stored output.
    from cnn_keras.backends.tensorflow import drop_startup_noise

    for path in sorted((course.repo_root() / "notebooks").glob("*.ipynb")):
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            for out in cell.get("outputs", []):
                if out.get("name") == "stderr":
                    text = "".join(out["text"])
                    assert drop_startup_noise(text) == text, f"{path.name} cell {index}"
