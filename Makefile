# relos — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check test-deps demo clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: create the venv, install, create the database, load the demo, show balances and overdue obligations
run: $(STAMP)
	$(BIN)/relos init
	$(BIN)/relos demo
	$(BIN)/relos agreement list
	$(BIN)/relos report balances
	$(BIN)/relos report obligations --overdue

## test-deps: Debian's PostgreSQL server and hledger, which the tests use, where missing
test-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v hledger >/dev/null 2>&1 || missing="$$missing hledger"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	fc-list 2>/dev/null | grep -q NotoSansDevanagari || missing="$$missing fonts-noto-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## test: install what the tests need and run every test (SQLite and a real PostgreSQL)
test: $(STAMP) test-deps
	$(BIN)/pytest -q -p no:cacheprovider

## bench: every benchmark (import, balances, peers, API load, planner, reconciliation) at
## N = 10k, 100k, 1M; prints figures and ratios, writes docs/benchmarks.md (not a test).
## One section or other sizes: `.venv/bin/python bench/run.py --only import --sizes 10000`
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py

## check: what CI checks besides the tests: lint, format, types, layers
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info src/*.egg-info
