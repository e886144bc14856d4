# Madoguchi: `make run` serves the system with demo data, `make test` runs the whole suite.
# Both install everything first (uv, locked) and need only Python 3.11+ on the machine.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
AGENT_VENV := reader_agent/.venv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve test lint typecheck pytest agent-install agent-test stop-db bench worker beat clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --locked --quiet

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving Madoguchi at http://$(HOST):$(PORT)/"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy config apps

pytest: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The reader agent is its own package (no Django); pyscard builds against libpcsclite,
# so its venv is separate. Without the PC/SC headers its hardware tests are skipped
# (failed under CI=true) and the rest still runs.
agent-install:
	@if [ ! -x $(AGENT_VENV)/bin/python ]; then $(PYTHON) -m venv $(AGENT_VENV); fi
	@if [ -f /usr/include/PCSC/winscard.h ] && command -v swig >/dev/null; then \
		$(AGENT_VENV)/bin/pip install --quiet --disable-pip-version-check -e "reader_agent[test,pcsc]"; \
	else \
		echo "PC/SC headers or swig missing: installing the agent without pyscard (hardware tests will not run)"; \
		$(AGENT_VENV)/bin/pip install --quiet --disable-pip-version-check -e "reader_agent[test]"; \
	fi

agent-test: agent-install
	cd reader_agent && .venv/bin/python -m pytest -q

test: lint typecheck pytest agent-test

stop-db: install
	$(PY) -m config.devdb stop

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS) $(AGENT_VENV) .pytest_cache .mypy_cache .ruff_cache
