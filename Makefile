# The README's quick start is `make run` and `make test`; everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app collective
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test unit e2e lint bench demo demo-scale migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	mkdir -p instance
	COLLECTIVE_ENV=development $(FLASK) db upgrade

demo: migrate
	COLLECTIVE_ENV=development $(FLASK) demo

# A synthetic collective of SCALE members with two years of history (slug scale-$(SCALE));
# about a million postings at 10,000 members: see docs/performance.md.
SCALE ?= 10000
demo-scale: migrate
	COLLECTIVE_ENV=development $(FLASK) demo --scale $(SCALE)

# The scheduler runs in its own process beside the development server, as in production.
run: demo
	@COLLECTIVE_ENV=development $(FLASK) scheduler & sched=$$!; \
	trap 'kill $$sched 2>/dev/null' EXIT INT TERM; \
	COLLECTIVE_ENV=development $(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite: the unit tests (on DATABASE_URL, else a fresh SQLite file), then the
# browser tests.
test: unit e2e

# The unit tests run on PYTEST_WORKERS processes (pytest-xdist; the CI machine has 2 cores),
# each on a database of its own (tests/conftest.py: DATABASE_URL's database with the
# worker's name appended, e.g. test_gw0, or a SQLite file of its own); tests marked
# xdist_group run on one worker. `make unit PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= 2
unit: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The browser tests (marked e2e): a live server on 127.0.0.1 with a fresh SQLite database,
# driven through Debian's Chromium (apt-get install chromium; never `playwright install`).
# Screenshots of the key pages land in tests/e2e/artifacts/.
# `make e2e E2E_WORKERS=2` runs them on two processes, each with a live server on a free
# port, a SQLite database and a Chromium of its own; one process is the default, as each
# worker pays for its own Chromium, migrations and demo load, which 28 tests do not win back
# on a busy 2-core machine (measured at a load average near 9: 185 s on two workers, 141 s
# on one; both green).
E2E_WORKERS ?= 0
e2e: $(STAMP)
	@test -x /usr/bin/chromium || { echo "/usr/bin/chromium is missing: installing Debian's chromium"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
	$(BIN)/python -m pytest -m e2e tests/e2e -n $(E2E_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check collective tests bench
	$(BIN)/lint-imports

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
