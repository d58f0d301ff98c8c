# `make run` and `make test` work on a fresh machine: they create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint types unit unit-postgresql browser postgresql bench lock clean \
	messages catalogs language

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# setuptools announces every editable install with a warning about lookalike folders.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) catalogs
	$(BIN)/python -m bot

# The shop's languages (README, "Languages"): locales/<code>/LC_MESSAGES/messages.po, English
# being the message ids. `make messages` extracts every text into locales/messages.pot and
# merges it into each .po; `make catalogs` compiles the .mo files the bot loads (run by `run`,
# `test` and `bench`, so a fresh clone speaks every language). Add a language with
# `make language LANG_CODE=xx`, translate its .po, and commit it.
LOCALES := locales
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po))
KEYWORDS := --no-default-keywords -k t -k nt:1,2 -k N_

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --add-location=file --sort-by-file \
		--project=telegram-stripe-shop --copyright-holder="the shop's authors" \
		-o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages \
		--no-fuzzy-matching --ignore-obsolete

language: $(STAMP)
	test -n "$(LANG_CODE)"
	$(BIN)/pybabel init -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages -l $(LANG_CODE)

catalogs: $(CATALOGS)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# The suite runs twice: on SQLite, then on PostgreSQL (tests/databases.py: a throwaway server
# per session, its database emptied before each test). In each pass the fast tests run on
# FAST_WORKERS workers and the stories marked `slow` (crash storms, fuzzing, hostile clients,
# the browser, timing) one at a time, so that they keep the machine's cores to themselves.
unit: $(STAMP) catalogs
	$(BIN)/pytest -q -m "not slow" -n $(FAST_WORKERS)
	$(BIN)/pytest -q -m slow

unit-postgresql: $(STAMP) catalogs postgresql
	SHOP_TEST_DATABASE=postgresql $(BIN)/pytest -q -m "not slow" -n $(FAST_WORKERS)
	SHOP_TEST_DATABASE=postgresql $(BIN)/pytest -q -m slow

test: lint types browser postgresql unit unit-postgresql

# The developer's loop: everything but the stories marked `slow` (crash storm, fuzzing, hostile
# clients, the browser), on SQLite, in well under a minute. `make test` runs the whole suite on
# both engines. The fast stories spend most of their time waiting on sockets and timers (about a
# third of their wall time is CPU), so four workers overlap the waits even on two cores.
FAST_WORKERS ?= 4
test-fast: lint types catalogs
	$(BIN)/pytest -q -m "not slow" -n $(FAST_WORKERS)

# The sandbox's browser story drives Debian's chromium: installed here when missing (as root,
# with apt-get), otherwise the exact command to run is printed and the test stops.
browser:
	bash tools/ensure-chromium

# The PostgreSQL pass needs Debian's server binaries (never a running server: the tests start
# their own): installed here when missing, as root with apt-get, else the command is printed.
postgresql:
	bash tools/ensure-postgresql

# Not part of `test`: it takes minutes and measures rather than checks (bench/RESULTS.md).
bench: $(STAMP) catalogs
	$(BIN)/python -m bench

# requirements.lock: the exact versions and hashes a deploy installs (Dockerfile). Run after
# changing dependencies in pyproject.toml, or to take new releases; commit the result.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'uv>=0.4'
	$(BIN)/uv pip compile --quiet pyproject.toml --generate-hashes --upgrade --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" \
		-o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
