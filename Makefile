# The two commands of the README: `make demo` and `make test`. Both create .venv and
# install the project on a fresh clone (and again whenever pyproject.toml changes), and
# install (npm ci, again whenever web/package-lock.json changes) and build the web faces.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format typecheck unit schema install clean web web-check

# The web faces (web/README.md): node_modules from the lock file, dist/ rebuilt only when
# a source, the lock file or the SDL changed. Generated code (web/src/gql) is not a source.
WEB_NODE := web/node_modules/.installed-stamp
WEB_BUILT := web/dist/.built-stamp
WEB_SOURCES := $(shell find web/src web/scripts -type f -not -path 'web/src/gql/*' 2>/dev/null) \
	$(wildcard web/*.ts web/*.js web/package.json) graphql/hub.graphql graphql/node.graphql

demo: $(STAMP) $(WEB_BUILT)
	$(BIN)/mallnet demo

# Three workers, each test file on one (its module fixtures and servers stay together):
# most tests wait on PostgreSQL, Redis, servers and browsers, so even on 2 cores three
# workers halve the wall time (22 minutes to 11 on the CI machine). Every test isolates
# itself (its own databases, Redis prefix, data directory and free ports). Tests that
# compare wall-clock times (marker `timing`) run afterwards on their own: beside the other
# workers, the machine's load on one measurement and not its neighbour decided them.
test: lint typecheck web-check $(WEB_BUILT)
	$(BIN)/pytest -n 3 --dist loadfile -m 'not timing'
	$(BIN)/pytest -m timing

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mallnet needs Python >= 3.11 (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

schema: $(STAMP)
	$(BIN)/mallnet export-schema

web: $(WEB_BUILT)

# Codegen, tsc --noEmit, eslint, vitest and the i18n catalogue check.
web-check: $(WEB_NODE)
	cd web && npm run --silent check

$(WEB_NODE): web/package-lock.json web/package.json
	@command -v npm >/dev/null || { echo "the web faces need Node.js >= 20.19 and npm"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_NODE)

$(WEB_BUILT): $(WEB_NODE) web/package-lock.json $(WEB_SOURCES)
	cd web && npm run --silent build
	touch $(WEB_BUILT)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache web/dist web/src/gql
