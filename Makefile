# Two commands do everything on a fresh machine:
#   make demo   installs into .venv if needed, then runs MFD end to end on the embedded default
#   make test   installs into .venv if needed, then runs the test suite
# Every pip call uses constraints.txt (torch CPU pin and the versions checked together).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PIPC := $(PIP) install --quiet --constraint constraints.txt
STAMP := $(VENV)/.installed
DEMO := build/demo

# Benchmarks against peers (benchmarks/bench_peers.py) run in their own environment, never .venv:
#   make bench-venv    build/bench-venv: this package (editable) + tangermeme, every pip call with constraints.txt
#   make bench-peers   the comparisons with tangermeme, under nice (BENCHMARKS.md)
BENCH_VENV ?= build/bench-venv
BENCH_PIPC := $(BENCH_VENV)/bin/python -m pip install --quiet --constraint constraints.txt
TANGERMEME := tangermeme==1.6.0 figwig==0.2.0

.PHONY: install demo test clean bench-venv bench-peers

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIPC) "setuptools<82" wheel
	$(PIPC) torch
	$(PIPC) --no-build-isolation --editable ".[all]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mfd demo --outdir $(DEMO)

test: $(STAMP)
	$(PY) -m pytest -q tests

bench-venv: $(BENCH_VENV)/.installed

$(BENCH_VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PIPC) "setuptools<82" wheel
	$(BENCH_PIPC) torch
	$(BENCH_PIPC) --no-build-isolation --editable ".[kipoi,io]"
	$(BENCH_PIPC) $(TANGERMEME)
	touch $@

bench-peers: $(BENCH_VENV)/.installed
	nice $(BENCH_VENV)/bin/python benchmarks/bench_peers.py

clean:
	rm -rf build
