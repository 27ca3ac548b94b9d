# Two commands for a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
TOOLS := .tools
BUN := $(TOOLS)/node_modules/.bin/bun
PYTHON ?= python3
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup test-deps ocr-deps bench clean lock check

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

run: setup ocr-deps
	$(VENV)/bin/vrm bootstrap
	$(VENV)/bin/vrm serve

# Browser tests need Debian's chromium; the integration tests start PostgreSQL and a dovecot
# IMAP server (the watched invoice mailbox) from apt. Scanned invoices are read by Tesseract
# (OCR) with the English, German, French, Dutch, Spanish and Italian data, which `run` needs too.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-nld \
	tesseract-ocr-spa tesseract-ocr-ita
OCR_LANGUAGES := eng deu fra nld spa ita
OCR_MISSING = ! command -v tesseract >/dev/null \
	|| ! (for l in $(OCR_LANGUAGES); do tesseract --list-langs 2>/dev/null | grep -qx $$l || exit 1; done)

ocr-deps:
	@if $(OCR_MISSING); then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_PACKAGES) >/dev/null; \
	fi

test-deps:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| ! test -x /usr/sbin/dovecot || $(OCR_MISSING); then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql dovecot-imapd \
			$(OCR_PACKAGES) >/dev/null; \
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
