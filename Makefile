# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
PORT ?= 3000
# Links in mails, and the only origin allowed to open the websocket: the port
# the app is served on, unless the environment says otherwise.
PUBLIC_BASE_URL ?= http://localhost:$(PORT)
export PUBLIC_BASE_URL
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint format bench seed migrate install chromium test-services clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(VENV)/bin/alembic upgrade head

seed: migrate
	$(PY) -m chainels_app.seed

run: seed
	$(VENV)/bin/reflex run --env prod --single-port \
		--frontend-port $(PORT) --backend-port $(PORT)

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Chromium is missing at $(CHROMIUM): installing Debian's chromium with apt-get"; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test-services: install
	$(VENV)/bin/pytest -q -rs tests/services tests/test_migrations.py

test: install chromium lint
	$(VENV)/bin/pytest -q -rs

bench: install
	@for script in bench/*.py; do [ -e "$$script" ] || continue; $(PY) "$$script"; done

clean:
	rm -rf .web data
