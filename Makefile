# The README's commands. `make run` and `make test` each set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

LS_VENV  ?= .venv-ls
LS_STAMP  = $(LS_VENV)/.installed

CFF_VENV  ?= .venv-cff
CFF_STAMP  = $(CFF_VENV)/.installed

.PHONY: setup setup-ls setup-cff setup-browser setup-postgres run test typecheck screenshot lint codebook bench lock lock-ls clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { echo "error: sitrep needs Python 3.11 or newer; found '$(PYTHON)'. Run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs the versions CI tested (constraints.txt); re-runs when they change.
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(STAMP)

# Label Studio runs in its own environment: its pins (pyarrow<25, numpy<2.3,
# python-dateutil<3) clash with ours. `sitrep annotate serve` finds .venv-ls/bin/label-studio.
$(LS_STAMP): constraints-ls.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { echo "error: Label Studio needs Python 3.11 or newer; found '$(PYTHON)'. Run: make PYTHON=/path/to/python3.11 setup-ls" >&2; exit 1; }
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LS_VENV)/bin/python -m pip install --quiet -c constraints-ls.txt label-studio==1.23.2
	@touch $@

## The local Label Studio (`sitrep annotate serve`), in .venv-ls.
setup-ls: $(LS_STAMP)

# cffconvert (which checks CITATION.cff) pins jsonschema<4, which clashes with ours: it
# gets an environment of its own, like Label Studio.
$(CFF_STAMP): constraints-cff.txt
	test -x $(CFF_VENV)/bin/python || $(PYTHON) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet -c constraints-cff.txt cffconvert==2.0.0
	@touch $@

## cffconvert in .venv-cff, for the test that validates CITATION.cff.
setup-cff: $(CFF_STAMP)

## Debian's Chromium for the browser test: Playwright drives it and never downloads one.
CHROMIUM ?= /usr/bin/chromium
setup-browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

## Debian's PostgreSQL for the tests of `serve --database` and backups (initdb, pg_ctl,
## pg_dump, psql; the tests start their own server in a temporary folder on loopback).
setup-postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql; }

## The main job: validate the dataset and summarise it.
run: setup setup-ls
	$(BIN)/sitrep run

## The whole test suite (it starts real Label Studio servers, PostgreSQL and a browser, so it
## installs them), after the type check.
test: setup setup-ls setup-cff setup-browser setup-postgres typecheck
	$(BIN)/python -m pytest

## mypy --strict over the package as it is installed: the layer folders are mapped into
## `sitrep` by package-dir, which an editable install hides from mypy, so a copy is
## installed into build/typecheck (offline: no build isolation) and checked there.
TYPECHECK = build/typecheck
typecheck: setup
	rm -rf $(TYPECHECK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --target $(TYPECHECK) .
	cd $(TYPECHECK) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml -p sitrep

## Re-take the README's screenshot of the labeling interface (the browser test takes it).
screenshot: setup setup-ls setup-browser
	SITREP_SCREENSHOT=docs/labeling-interface.png $(BIN)/python -m pytest -q tests/test_browser.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

codebook: setup
	$(BIN)/sitrep schema codebook

bench: setup setup-ls
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_release.py
	$(BIN)/python benchmarks/bench_annotate.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_pull_memory.py
	$(BIN)/python benchmarks/bench_claims.py
	$(BIN)/python benchmarks/bench_link.py

# Re-pin constraints.txt from a fresh environment (run after changing dependencies).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v -E '^(-e|pip==)' > constraints.txt
	rm -rf .lock-venv

# Re-pin constraints-ls.txt from a fresh environment (after changing the label-studio version).
lock-ls:
	rm -rf .lock-ls-venv
	$(PYTHON) -m venv .lock-ls-venv
	.lock-ls-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-ls-venv/bin/python -m pip install --quiet label-studio==1.23.2
	{ grep '^#' constraints-ls.txt; .lock-ls-venv/bin/python -m pip freeze --all | grep -v -E '^pip=='; } > constraints-ls.txt.new
	mv constraints-ls.txt.new constraints-ls.txt
	rm -rf .lock-ls-venv

clean:
	rm -rf $(VENV) $(LS_VENV) build dist *.egg-info .pytest_cache .ruff_cache
