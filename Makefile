# The project's interface. `make help` lists the targets.
# Nothing but Python 3.11+ is needed: the first target run creates .venv and installs the project.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

# HOST, PORT and DATABASE_URL given to make reach the service (unset ones fall back to .env).
ifdef HOST
export HOST
endif
ifdef PORT
export PORT
endif
ifdef DATABASE_URL
export DATABASE_URL
endif

WORKERS ?= 1
USERS ?= 10000
POSTS ?= 100000
ITEMS ?= 100000
BENCH_ARGS ?=

.PHONY: help run serve test migrate rollback seed explain stats bench bench-fleet lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

# Each step says what it does, and pip shows what it fetches and builds: the first install
# takes minutes and must not look hung.
$(INSTALLED): pyproject.toml
	@echo "== $(VENV): creating the virtualenv with $$($(PYTHON) --version) (a few seconds)"
	$(PYTHON) -m venv $(VENV)
	@echo "== $(VENV): a pip that shows its progress while it installs (the one Python bundles does not)"
	$(PY) -m pip install --disable-pip-version-check --upgrade 'pip>=26'
	@echo "== $(VENV): installing the project and its dev tools (a few minutes the first time)"
	$(PY) -m pip install --disable-pip-version-check -e '.[dev]'
	@echo "== $(VENV): ready"
	touch $@

run: $(INSTALLED) ## serve on HOST:PORT (default 127.0.0.1:8000) with reload, migrating first
	$(PY) -m api.tools.serve --reload

serve: $(INSTALLED) ## serve the production way: WORKERS processes, no reload, no access log, uvloop + httptools
	$(PY) -m api.tools.serve --workers $(WORKERS)

# The suite's files are shared out between TEST_WORKERS processes (pytest-xdist), each with
# a database of its own; a file's tests stay together, so its module fixtures are made once.
# Files go out in the suite's order, longest first (tests/ordering.py), not by number of
# tests. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2

test: $(INSTALLED) ## run the whole suite against databases of its own, on TEST_WORKERS processes (default 2)
	$(PY) -m pytest --numprocesses=$(TEST_WORKERS) --dist=loadfile --no-loadscope-reorder

migrate: $(INSTALLED) ## apply pending migrations
	$(PY) -m api.tools.migrate apply

rollback: $(INSTALLED) ## undo the last migration
	$(PY) -m api.tools.migrate rollback

seed: $(INSTALLED) ## replace the development data: USERS, POSTS, ITEMS deterministic rows (password: seeded-password)
	$(PY) -m api.tools.seed --users $(USERS) --posts $(POSTS) --items $(ITEMS)

explain: $(INSTALLED) ## every named query's plan on the seeded development data
	$(PY) -m api.tools.explain

stats: $(INSTALLED) ## what each query file has cost the database (pg_stat_statements): calls, time, rows, blocks
	$(PY) -m api.tools.stats

bench: $(INSTALLED) ## the service against FastAPI and Starlette floors, 1 and 2 workers (BENCH_ARGS=--quick: a minute)
	$(PY) -m tests.bench $(BENCH_ARGS)

bench-fleet: $(INSTALLED) ## the consistency token's cost, and two workers behind HAProxy, direct and via PgBouncer
	$(PY) -m tests.bench.fleet

lint: $(INSTALLED) ## sqlfluff over sql/, squawk over migrations/, ruff over the code, mypy strict over api/
	$(PY) -m api.tools.lint

clean: ## remove .venv and caches (keeps .pgdata, your data)
	rm -rf $(VENV) .pytest_cache
