# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# requirements.txt is what production runs; requirements-dev.txt adds tests and tools.
STAMP := $(VENV)/.requirements-installed
DEV_STAMP := $(VENV)/.requirements-dev-installed

.PHONY: run test test-embedded lint setup demo clean bench screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(DEV_STAMP)

## setup: virtualenv, requirements, migrations, cache table, translations
setup: $(STAMP)
	mkdir -p var staticfiles
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	@# GNU gettext's msgfmt when installed, else Babel (pure Python, in requirements).
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0; \
	else \
		$(BIN)/pybabel -q compile -d locale -D django; \
	fi

## run: set up, create the demo login and start web, worker, beat and the sandbox
run: setup
	$(BIN)/python manage.py create_demo_user
	@echo ""
	@echo "  hiring_portal: http://127.0.0.1:$${HIRING_PORTAL_PORT:-8000}/admin/"
	@echo "  (stop everything with Ctrl-C)"
	@echo ""
	@# Each process under hiring_portal.respawn: one that dies is started again
	@# instead of honcho stopping them all (commands hold no single quote).
	sed -E "s/^([a-z_]+): (.*)$$/\1: python -m hiring_portal.respawn '\2'/" Procfile > var/Procfile.run
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f var/Procfile.run

## test: set up the same way, add the test tools and run the whole suite
test: $(DEV_STAMP) setup
	$(BIN)/pytest

## test-embedded: the suite's embedded-default part (SQLite, serverless broker)
test-embedded: $(DEV_STAMP) setup
	$(BIN)/pytest -m embedded

## screenshots: refresh the README's pictures from the browser tests
screenshots: $(DEV_STAMP) setup
	HIRING_PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -m browser tests/browser

## lint: ruff, ruff format, mypy (django-stubs) and import-linter's contracts
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf var .pytest_cache
