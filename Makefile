# selfsr_edu: two commands.
#   make lab    set everything up, then open JupyterLab on notebooks/
#   make test   set everything up, then run every test and every notebook (quick mode)
#   make browser-deps   Debian's chromium for tests/test_widgets_browser.py (root or sudo; .ci/run calls it)
#   make book   execute every notebook (quick mode) into a static HTML course in build/book/
#
# The virtual environment lives in .venv. The package is (re)installed, editable
# and with its extras, only when pyproject.toml is newer than the last install.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: lab test install bench gpu-check book clean-cache browser-deps

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

# The rendered edition: every notebook executed, figures embedded, index + teaching page.
book: install
	SELFSR_QUICK=1 $(PY) book/build.py --out build/book

bench: install
	$(PY) benchmarks/bench_synthfaces.py
	$(PY) benchmarks/bench_sr_step.py

# On a CUDA machine: parity, AMP, throughput, schedule estimate, DDP -> docs/gpu_report.json (docs/gpu.md).
gpu-check: install
	$(PY) benchmarks/gpu_check.py --out docs/gpu_report.json

# Headless Chromium for the browser test (playwright drives it; never `playwright install`).
CHROMIUM ?= /usr/bin/chromium
SUDO     ?= $(if $(filter 0,$(shell id -u)),,sudo -n)
APT      := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0

browser-deps:
	@if [ -x $(CHROMIUM) ]; then echo "chromium: $(CHROMIUM) already there"; else \
	  echo "installing Debian's chromium (apt-get, about a minute)"; \
	  $(APT) install chromium >/dev/null || { $(APT) update >/dev/null && $(APT) install chromium >/dev/null; }; \
	  test -x $(CHROMIUM); fi
