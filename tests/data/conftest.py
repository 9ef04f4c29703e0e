"""The fixture of the tests of cnn_keras.data's sources (data lookup, caches, image folders)."""

import pytest

from cnn_keras.data import cifar10


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No real data, cache, TFDS copy or network: every test starts from an empty world."""
    monkeypatch.delenv("CNN_KERAS_DATA", raising=False)
    monkeypatch.setenv("CNN_KERAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(cifar10, "_PACKAGE_DATA_DIR", tmp_path / "package" / "data")
    monkeypatch.setattr(cifar10, "_cifar10_host_reachable", lambda timeout=3.0: False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return tmp_path
