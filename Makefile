# The two commands of the README:
#   make demo   set up (venv, engine), start the emulator, `pulumi up` the dev stack twice; the
#               stack is kept in .state/demo, so the next demo triggers only what you changed
#   make test   set up, then run every test: unit, contract and end-to-end (real Pulumi CLI),
#               and the unit and contract tiers again on the oldest and newest Python we support
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# Extra interpreters for the unit and contract tiers (the e2e tier runs on $(PYTHON) only: it
# drives the same engine either way). Each gets its own venv, .venv-X.Y, from pyproject.toml.
EXTRA_PYTHONS ?= 3.10 3.13
EXTRA_STAMPS := $(foreach v,$(EXTRA_PYTHONS),.venv-$(v)/.installed)
# A quiet install: setuptools' notice that an editable install exists (information, not a
# deprecation) would otherwise be the only thing `pip install --quiet` prints.
QUIET_BUILD := PYTHONWARNINGS="ignore:Editable installation"
# pyenv's build of Python X.Y if there is one, else pythonX.Y from PATH.
python_for = $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python$(1))),python$(1))

.PHONY: demo demo-reset test bench setup engine lang-hosts lint dist clean

setup: $(STAMP)

# Reinstall when the declared dependencies change.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(QUIET_BUILD) $(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

.venv-%/.installed: pyproject.toml
	test -x .venv-$*/bin/python || $(call python_for,$*) -m venv .venv-$*
	.venv-$*/bin/pip install --quiet --upgrade pip
	$(QUIET_BUILD) .venv-$*/bin/pip install --quiet -e ".[test]"
	touch $@

engine:
	scripts/ensure-pulumi >/dev/null

# The YAML language host and the SDK generators of the plugin's tests (built once, cached).
lang-hosts:
	scripts/ensure-lang-hosts >/dev/null

demo: setup
	scripts/demo

# The demo from empty state: every run is triggered again.
demo-reset: setup
	scripts/demo --fresh

# Every tier runs even when an earlier one failed; the exit status says whether any did.
test: setup engine lang-hosts $(EXTRA_STAMPS)
	@status=0; \
	PATH="$$(scripts/ensure-pulumi 2>/dev/null | tail -n1):$$PATH" $(VENV)/bin/python -m pytest \
		|| status=1; \
	for v in $(EXTRA_PYTHONS); do \
		echo "== unit and contract tiers on $$(.venv-$$v/bin/python --version)"; \
		.venv-$$v/bin/python -m pytest -q -p no:cacheprovider tests/unit tests/contract \
			|| status=1; \
	done; \
	exit $$status

# What users install, into dist/: the wheel and sdist (PyPI, for Python programs), the plugin
# archives pulumi-resource-datagol-v<version>-<os>-<arch>.tar.gz for linux and darwin, amd64 and
# arm64 (`pulumi plugin install resource datagol <version> --file <archive>`, for the other
# languages) and the policy pack datagol-policy-pack-v<version>.tar.gz. The archives' wheels are
# downloaded once into ~/.cache/datagol-pulumi/dist. See scripts/dist.
dist: setup
	DIST_BUILD_PYTHON=$(VENV)/bin/python scripts/dist dist

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup engine
	PATH="$$(scripts/ensure-pulumi 2>/dev/null | tail -n1):$$PATH" $(VENV)/bin/python -m bench

clean:
	rm -rf .state dist
