# MMM Engine: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test demo install install-dev lint format migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/dev.txt requirements/base.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(VENV)/.base-installed $@

install: $(VENV)/.base-installed
install-dev: $(VENV)/.dev-installed

## run: create .venv, install, migrate and serve on http://$(HOST):$(PORT) on embedded defaults
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)/v1/mmm/health  (token: $(BIN)/python manage.py mint_token --tenant demo --actor me)"
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

## test: create .venv, install, run the whole suite (uses DATABASE_URL etc. when set); with
## RESIDENCY_TEST_DATABASE_URL_EU set, then the data residency tests on that second database
test: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$RESIDENCY_TEST_DATABASE_URL_EU" ]; then \
	  echo "data residency tests, second region on RESIDENCY_TEST_DATABASE_URL_EU"; \
	  DATABASE_URL_EU="$$RESIDENCY_TEST_DATABASE_URL_EU" $(BIN)/python -m pytest tests/residency; \
	fi

## demo: on embedded defaults, replay the recorded real webhooks and print what the engine did
demo: install
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	LOG_LEVEL=ERROR $(BIN)/python manage.py demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## migrate: apply the migrations and collect the admin's static files (services mode)
migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
