# Two commands on a fresh machine: `make book` and `make test`. Each does its own set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# Where the book is built from (tests build copies of it elsewhere).
BOOK_DIR ?= .
# -W: any warning, a notebook that fails to execute included, fails the build.
BOOK_FLAGS := -W --keep-going --builder html
# The browser test drives Debian's Chromium through its ChromeDriver. `make test` installs
# both system-wide (apt, as root or through sudo) when either command is missing.
BROWSER_PACKAGES := chromium chromium-driver
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# The venv's tools come first, so notebooks run on its kernel and its jupyter.
export PATH := $(BIN):$(PATH)
export PYTHONNOUSERSITE := 1

.PHONY: install browser book render sweep results h200 test test-fast test-cluster lint lock clean

install: $(STAMP)

# PyTorch, for dfp.torch_probe and its tests, lies outside the hashed lock: the CPU build is on
# this machine's disk, but the lock is resolved by uv from PyPI, where the same version
# resolves to a CUDA build of several GB. The distribution was named dfp before
# deep-frequency-principle: a stale one is dropped before the editable install.
TORCH_VERSION := 2.13.0
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==$(TORCH_VERSION)
	$(BIN)/python -m pip uninstall -q -y dfp 2>/dev/null || true
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

# The workflow (workflow/Snakefile, through Snakemake) executes the notebooks under PROFILE
# (book: their defaults; tiny; paper), in parallel on CORES, each rerun only when one of its
# inputs changed; then Jupyter Book renders the executed notebooks into _build/html.
# WORKFLOW_PROFILE says where the jobs run: workflow/profiles/default (this machine), gpus
# (one box with several GPUs) or slurm (a cluster); see workflow/README.md.
PROFILE ?= book
CORES ?= all
WORKFLOW_PROFILE ?= workflow/profiles/default
SNAKEMAKE = $(BIN)/snakemake -s workflow/Snakefile --workflow-profile $(WORKFLOW_PROFILE) --cores $(CORES)
book: $(STAMP)
	$(SNAKEMAKE) --config profile=$(PROFILE)
	$(MAKE) --no-print-directory render BOOK_DIR=.
	@echo "The book: $(abspath _build/html/index.html)"

# Renders what the workflow assembled in $(BOOK_DIR)/_build/source, executing nothing.
render: $(STAMP)
	$(BIN)/jupyter-book build $(BOOK_DIR)/_build/source --path-output $(BOOK_DIR) $(BOOK_FLAGS)

# Runs every point of sweeps/$(SWEEP).yaml not yet done (SWEEP=a,b for several) and writes
# sweeps/$(SWEEP).summary.json, which the sweep's page renders once committed.
SWEEPS := $(sort $(basename $(notdir $(wildcard sweeps/*.yaml))))
sweep: $(STAMP)
	@test -n "$(SWEEP)" || { echo "make sweep SWEEP=<name>, one of: $(SWEEPS)" >&2; exit 2; }
	$(SNAKEMAKE) --config sweep=$(SWEEP)

# A long run kept in the repository: FIG (fig8, or fig5,fig3) under PROFILE (paper or medium),
# executed into results/$(PROFILE)/ with its summary and provenance, on RESULT_THREADS cores;
# progress in _build/results/$(PROFILE)/<fig>.log. Always runs (regenerating is explicit); an
# interrupted run resumes from its checkpoints. `make book` never starts one.
RESULT_THREADS ?= $(shell nproc)
results: $(STAMP)
	@test -n "$(FIG)" || { echo "make results PROFILE=paper FIG=<figure>[,<figure>...]" >&2; exit 2; }
	$(SNAKEMAKE) --config profile=$(PROFILE) results=$(FIG) threads=$(RESULT_THREADS) --forcerun result

# What the prepared one-GPU run of Figs. 5-7 carries (workflow/h200/README.md): the wheels
# the GPU machine lacks (Keras and its two small dependencies, at the lock's versions, for its
# Python 3.12), CIFAR-10 from $(DFP_DATA_DIR), packed into two parts of under 64 MiB, and
# MNIST (11 MB, for Fig. 9's command).
H200 := .h200
H200_WHEELS := $(shell grep -E '^(keras|optree|namex)==' requirements.lock | cut -d' ' -f1)
h200: $(STAMP)
	@test -n "$(DFP_DATA_DIR)" || { echo "set DFP_DATA_DIR to the data folder" >&2; exit 2; }
	mkdir -p $(H200)/wheels
	$(BIN)/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
	  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
	  --platform manylinux2014_x86_64 -d $(H200)/wheels $(H200_WHEELS)
	$(BIN)/python workflow/h200/pack.py pack $(DFP_DATA_DIR) cifar-10-batches-py $(H200)/cifar --parts 2
	mkdir -p $(H200)/mnist && cp $(DFP_DATA_DIR)/mnist.npz $(H200)/mnist/

# Lint, then unit tests, notebook pairing, every notebook through papermill at tiny
# parameters, the JAX backend, and book builds (one that must succeed, one that must fail).
test: $(STAMP) browser lint
	$(BIN)/python -m pytest -m "not cluster" $(PYTEST_ARGS)

# The loop while working: lint and every test but the slow ones (heavy subprocesses: Snakemake,
# other Keras backends, notebook runs, book builds).
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest -m "not slow and not cluster" $(PYTEST_ARGS)

# The workflow on a real one-node SLURM cluster (tests/test_cluster.py, about 2 minutes): real
# sbatch jobs through workflow/profiles/slurm. It installs Debian's slurm-wlm and munge
# system-wide when missing (apt, as root or through sudo), starts munged, slurmctld and slurmd
# for the test and stops them after; on a machine that already has SLURM it refuses.
test-cluster: $(STAMP)
	tests/cluster/slurm.sh install
	$(BIN)/python -m pytest -m cluster tests/test_cluster.py $(PYTEST_ARGS)

# ruff's lint and format check, configured in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerates requirements.lock, with hashes, from pyproject.toml's ranges: the pins already
# in it are kept where they still satisfy the ranges; `make lock UPGRADE=1` takes the newest.
# uv runs from its own small venv (.tools), so .venv stays exactly the lock.
UV_VERSION := 0.13.9
LOCK_PYTHON := 3.11.5
lock:
	test -x .tools/bin/uv || ($(PYTHON) -m venv .tools && .tools/bin/pip install -q uv==$(UV_VERSION))
	.tools/bin/uv pip compile pyproject.toml --extra tensorflow --extra plot --extra book --extra workflow \
	  --extra test --generate-hashes \
	  --python-version $(LOCK_PYTHON) --python-platform x86_64-unknown-linux-gnu \
	  $(if $(UPGRADE),--upgrade,) --quiet -o requirements.lock

# chromium and chromedriver on the PATH, from Debian's packages if either is missing.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
	  echo "make test needs chromium and chromedriver on the PATH; this machine has no apt-get:" \
	    "install them with its package manager" >&2; exit 1; fi; \
	echo "Installing Debian's $(BROWSER_PACKAGES) system-wide for the browser test"; \
	$(SUDO) apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(BROWSER_PACKAGES)

clean:
	rm -rf _build
