# Two commands for a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
TOOLS := .tools
BUN := $(TOOLS)/node_modules/.bin/bun
PYTHON ?= python3
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup test-deps bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

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

test: setup test-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider tests

bench: setup
	$(VENV)/bin/python -m bench seed
	$(VENV)/bin/python -m bench vendors

clean:
	rm -rf $(VENV) $(TOOLS) .web .states
