# Entry points for people; everything real happens in nox sessions (noxfile.py).
#   make up     a local kind cluster with the chart installed and reachable
#   make test   the whole test suite: lint, render tests, cluster tests
#   make down   delete the local cluster
# Needs python3 (3.11+), Go and git; Docker is started (or installed from
# Debian's packages, as root) when none answers.

VENV := .venv
NOX := $(VENV)/bin/nox
# nox and uv, as pinned in pyproject.toml's bootstrap group; uv makes the
# session virtualenvs quick to create.
BOOTSTRAP := $(shell sed -nE 's/^  "((nox|uv)==[^"]+)",?$$/\1/p' pyproject.toml)

.PHONY: up test down lint unit e2e

# Rebuilt when pyproject.toml changes, so a new nox or uv pin takes effect.
$(NOX): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(BOOTSTRAP)
	touch $(NOX)

up: $(NOX)
	$(NOX) -s up

test: $(NOX)
	$(NOX) -s lint unit e2e

down: $(NOX)
	$(NOX) -s down

lint unit e2e: $(NOX)
	$(NOX) -s $@
