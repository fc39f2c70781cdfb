# PiCloud: two commands on a fresh machine with Python 3.11+ and make.
#   make serve  - set up and run PiCloud on embedded SQLite (http://localhost:8080/hello)
#   make test   - set up and run the whole test suite
PYTHON ?= python3
UV_VERSION ?= 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
# Trust the platform's certificate store as well as uv's own (TLS-inspecting proxies).
export UV_SYSTEM_CERTS ?= 1

.PHONY: serve test lint format bench clean setup

setup: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/picloud serve

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

format: $(STAMP)
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

# Installs wrk (apt) and workerd (npm, into bench/.cache) when missing; never part of `make test`.
# BENCH_ARGS=--servers compares server software and process counts instead.
BENCH_ARGS ?=
bench: $(STAMP)
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache
