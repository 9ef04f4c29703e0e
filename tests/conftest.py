import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# The suite runs as the applications do (the CLI, the notebooks): oneDNN's CPU kernels on, which
# the recorded runs used too. `import cnn_keras` itself leaves TensorFlow's environment alone.
from cnn_keras.backends.tensorflow import use_onednn_by_default  # noqa: E402

use_onednn_by_default()

import pytest  # noqa: E402


def _rss_gib():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (OSError, ValueError):
        return float("inf")


_RSS_AFTER_LAST_GC = [None]


@pytest.fixture(autouse=True)
def _clear_keras_session():
    """Reset Keras' global state after each test; run the (slow, 0.25 s and more on a big heap)
    garbage collection only when memory has grown by 1 GiB since the last one, e.g. after the
    140M-parameter VGG builds. (A fixed threshold made every later test collect once the
    process had passed it, since freed memory is not always returned to the system.)"""
    import gc

    import keras

    yield
    keras.backend.clear_session(free_memory=False)
    rss = _rss_gib()
    if _RSS_AFTER_LAST_GC[0] is None:
        _RSS_AFTER_LAST_GC[0] = rss
    elif rss > _RSS_AFTER_LAST_GC[0] + 1.0:
        gc.collect()
        _RSS_AFTER_LAST_GC[0] = _rss_gib()


@pytest.fixture(autouse=True, scope="module")
def _forget_built_models():
    """Free the models `built` kept for this module's read-only tests."""
    yield
    import gc

    import built as built_models

    if built_models.forget():  # collect only where big models were kept
        gc.collect()
        _RSS_AFTER_LAST_GC[0] = _rss_gib()


def real_cifar10_dir():
    """The CIFAR-10 copy the test target points at (../shared/data via the Makefile), or None."""
    path = os.environ.get("CNN_KERAS_DATA")
    if path and (os.path.isfile(os.path.join(path, "cifar10-jpeg.zip"))
                 or os.path.isdir(os.path.join(path, "train"))):
        return path
    return None


needs_cifar10 = pytest.mark.skipif(
    real_cifar10_dir() is None,
    reason="needs real CIFAR-10: set CNN_KERAS_DATA to a folder with cifar10-jpeg.zip "
    "(make test does this when ../shared/data exists)",
)


# The longest test files go first. `make test` runs pytest-xdist with --dist loadfile, which
# hands out whole files in collection order: the multi-process distribution tests (the longest
# files, collected last by name) then kept one worker busy after the other had finished.
_LONGEST_FILES = ("tests/training/test_distribute_jax.py", "tests/training/test_distribute.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in _LONGEST_FILES)
