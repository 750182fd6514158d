# The two commands of the README:
#   make demo   set up (venv, engine), start the emulator, `pulumi up` the dev stack twice
#   make test   set up, then run every test: unit, contract and end-to-end (real Pulumi CLI)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test bench setup engine lang-hosts lint clean

setup: $(STAMP)

# Reinstall when the declared dependencies change.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

engine:
	scripts/ensure-pulumi >/dev/null

# The YAML language host and the SDK generators of the plugin's tests (built once, cached).
lang-hosts:
	scripts/ensure-lang-hosts >/dev/null

demo: setup
	scripts/demo

test: setup engine lang-hosts
	PATH="$$(scripts/ensure-pulumi 2>/dev/null | tail -n1):$$PATH" $(VENV)/bin/python -m pytest

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup engine
	PATH="$$(scripts/ensure-pulumi 2>/dev/null | tail -n1):$$PATH" $(VENV)/bin/python -m bench

clean:
	rm -rf .state
