# selfsr_edu: two commands.
#   make lab    set everything up, then open JupyterLab on notebooks/
#   make test   set everything up, then run every test and every notebook (quick mode)
#
# The virtual environment lives in .venv. The package is (re)installed, editable
# and with its extras, only when pyproject.toml is newer than the last install.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: lab test install bench clean-cache

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "installing selfsr_edu and its extras into $(VENV) (first time: a few minutes)"
	$(PY) -m pip install --disable-pip-version-check -q -e ".[dev]" 2>&1 | sed '/is ignored: it is neither/d'
	$(PY) -c "import selfsr_edu, torch, torchvision, lpips, safetensors, nbval, skimage"
	@touch $(STAMP)

install: $(STAMP)

# Jupyter refuses to run as root unless told; containers often are root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: install
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $(LAB_ARGS)

test: install
	SELFSR_QUICK=1 MPLBACKEND=Agg $(VENV)/bin/pytest tests --nbval-lax --nbval-current-env --nbval-cell-timeout=600 notebooks

bench: install
	$(PY) benchmarks/bench_synthfaces.py
	$(PY) benchmarks/bench_sr_step.py
