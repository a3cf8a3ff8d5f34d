PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
DEMO_DATA ?= ../shared/data/pmlb/datasets/breast_w/breast_w.tsv.gz
# A regression dataset the shipped knowledge base leaves out (held out of its build).
DEMO_REGRESSION_DATA ?= ../shared/data/pmlb/datasets/529_pollen/529_pollen.tsv.gz
# The demo reads the shipped knowledge base itself (read-only commands), whatever ~/.metakb holds.
DEMO_KB ?= db/metakb-default.sqlite

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch pinned and installed explicitly: the CPU wheel on this machine, never a CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[test,dev,dask,openml]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/metakb db info --db $(DEMO_KB)
	$(VENV)/bin/metakb recommend $(DEMO_DATA) --target target -k 5 --db $(DEMO_KB)
	$(VENV)/bin/metakb recommend $(DEMO_REGRESSION_DATA) --target target -k 3 --db $(DEMO_KB)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy metakb meta_features portfolios nas_meta
	METAKB_FULL_INSTALL=1 $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy metakb meta_features portfolios nas_meta

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
