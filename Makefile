# Two commands for a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
TOOLS := .tools
BUN := $(TOOLS)/node_modules/.bin/bun
PYTHON ?= python3
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup test-deps bench clean lock check

# Exactly the locked set, checked against its hashes; then the project itself, without resolving.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes --no-deps -r requirements.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

# Resolve pyproject.toml's ranges afresh into requirements.lock (then commit it).
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
		--upgrade -o requirements.lock

# Reflex cannot download bun here, so it comes from the npm registry.
$(BUN):
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error bun
	$(BUN) --version

setup: $(VENV)/.installed $(BUN)

run: setup
	$(VENV)/bin/vrm bootstrap
	$(VENV)/bin/vrm serve

# Browser tests need Debian's chromium; the integration tests start PostgreSQL and a dovecot
# IMAP server (the watched invoice mailbox) from apt.
test-deps:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| ! test -x /usr/sbin/dovecot; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql dovecot-imapd >/dev/null; \
	fi

# The type check and the lint come first: they take seconds and fail fast.
check: setup
	$(VENV)/bin/ruff check vrm_dashboard tests bench rxconfig.py
	$(VENV)/bin/mypy

test: setup test-deps check
	$(VENV)/bin/pytest -q -p no:cacheprovider tests

bench: setup
	$(VENV)/bin/python -m bench seed
	$(VENV)/bin/python -m bench vendors

clean:
	rm -rf $(VENV) $(TOOLS) .web .states
