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

.PHONY: install demo test clean

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

clean:
	rm -rf build
