# The README's two commands: `make demo` and `make test`. Both set everything up on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip prints a warning per package for this machine's optional local indexes; keep the log readable
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
# The first Python 3.11-3.13 (the versions the stack supports) on PATH, unless PYTHON is given;
# each candidate is asked for its version, since a pyenv shim can exist without its Python.
SUPPORTED_PY := python3.11 python3.12 python3.13 python3
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in $(SUPPORTED_PY); do $$p -c 'import sys; sys.exit(not (3, 11) <= \
	sys.version_info[:2] <= (3, 13))' >/dev/null 2>&1 && { echo $$p; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Use ../shared/data (CIFAR-10 JPEGs) for tests and the demo when it is there and nothing else was chosen.
ifeq ($(origin CNN_KERAS_DATA), undefined)
ifneq ($(wildcard ../shared/data/cifar10-jpeg.zip),)
export CNN_KERAS_DATA := $(abspath ../shared/data)
endif
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= Agg

.PHONY: setup demo test lint clean colab-check

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || test -n "$(PYTHON)" || { echo "make: no Python 3.11-3.13 found (tried" \
		"$(SUPPORTED_PY)); name one with PYTHON=/path/to/python3.12" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip $(QUIET_PIP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]' $(QUIET_PIP)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: setup
	$(VENV)/bin/cnn-keras degradation --mode demo --out runs/degradation-demo

# The unit tests and the notebooks (nbval, in quick mode) in one run on two worker processes
# (pytest-xdist): most of their time is single-threaded Python (building and tracing models),
# so one process leaves a core idle. --dist loadfile keeps a notebook's cells in one kernel and
# a test module's shared models in one process; notebooks go first, as the longest pieces.
# --durations lists the slowest pieces: what to trim when the suite outgrows its budget (~10 minutes;
# 11-26 measured from a fresh clone and in CI, docs/setup.md).
TEST_WORKERS ?= 2
test: setup
	$(VENV)/bin/ruff check cnn_keras tests tools
	CNN_KERAS_MODE=quick $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile \
		--nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout=600 \
		--durations=15 notebooks tests

# A notebook as Colab runs it, on Colab's (and the lowest supported) TensorFlow, Keras and numpy,
# in a venv of its own (.colab-venv; ~1 GB): see tools/colab_check.py. Not part of `make test`
# (it adds several minutes of installing to the CI budget).
COLAB_NOTEBOOK ?= notebooks/04_resnet.ipynb
colab-check:
	python3 tools/colab_check.py --notebook $(COLAB_NOTEBOOK)

lint: setup
	$(VENV)/bin/ruff check cnn_keras tests tools

clean:
	rm -rf $(VENV) .colab-venv build *.egg-info
