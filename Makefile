# Everything a fresh machine needs is installed here, on first use, into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: test check demo bench clean graphiql-assets

# pip -qq: errors only (no progress bars, no per-index warnings, no build-backend notes);
# PIP_QUIET= (empty) on the command line shows everything: make PIP_QUIET= test
PIP_QUIET ?= -qq --progress-bar off

$(STAMP): pyproject.toml
	@echo "Installing Crossdock and its dependencies into $(VENV) (first run or pyproject.toml changed) ..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	@$(PY) -m pip install $(PIP_QUIET) -e '.[test]'
	@touch $(STAMP)
	@echo "Installed."

test: $(STAMP)
	$(PY) -m pytest -q -n 2

check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

demo: $(STAMP)
	$(VENV)/bin/crossdock demo $(ARGS)

bench: $(STAMP)
	$(PY) -m bench

# GraphiQL's pinned build from the npm registry into gateway/static/graphiql/ (committed; needs npm)
graphiql-assets: $(STAMP)
	$(PY) scripts/vendor_graphiql.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
