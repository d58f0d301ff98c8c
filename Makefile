# `make run` and `make test` work on a fresh machine: they create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint types unit browser bench lock clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# setuptools announces every editable install with a warning about lookalike folders.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint types browser unit

# The developer's loop: everything but the stories marked `slow` (crash storm, fuzzing, hostile
# clients, the browser) in well under a minute. `make test` still runs the whole suite, one test
# at a time. The fast stories spend most of their time waiting on sockets and timers (about a
# third of their wall time is CPU), so four workers overlap the waits even on two cores.
FAST_WORKERS ?= 4
test-fast: lint types
	$(BIN)/pytest -q -m "not slow" -n $(FAST_WORKERS)

# The sandbox's browser story drives Debian's chromium: installed here when missing (as root,
# with apt-get), otherwise the exact command to run is printed and the test stops.
browser:
	bash tools/ensure-chromium

# Not part of `test`: it takes minutes and measures rather than checks (bench/RESULTS.md).
bench: $(STAMP)
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
