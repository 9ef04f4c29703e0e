"""nbval settings for the notebooks: compare stdout and results, never stderr.

TensorFlow writes C++ / absl log lines to stderr when a notebook is saved from Jupyter but not
under nbval, so stderr can never match (nbval docs: collector.skip_compare).
"""


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
