# Lightbox — the two commands: `make run` and `make test`.
SHELL := /bin/bash
# Python 3.11 to 3.14 (what the pinned wheels exist for); 3.11, the tested one, when present.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3.14 || command -v python3)
# The Makefile's targets are the development commands: DEBUG on unless the caller says otherwise
# (settings refuse to start in production, DEBUG off, without a SECRET_KEY and encryption keys).
export DEBUG ?= 1
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install install-test services db lint check bench clean

## Install everything, load the demo catalog and run web + worker + sweeper.
run: install services db
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_demo
	bin/run

## Run the whole test suite (what CI runs).
test: install install-test services lint check
	$(PY) -m pytest

install: $(STAMP)
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 14), "Lightbox needs Python 3.11 to 3.14, not " + sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) manage.py provision_model --all
	@# pymatting (a rembg dependency) JIT-compiles on first import; pay it once here.
	$(PY) -c 'import rembg'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

## Headless Chromium from Debian's package for the browser tests.
install-test:
	@{ test -x $(CHROMIUM) && command -v exiftool >/dev/null; } || { \
	  echo "Installing Debian's chromium and exiftool for the tests…"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium libimage-exiftool-perl >/dev/null; }

services:
	bin/ensure-services

db: install services
	$(PY) manage.py ensure_database
	$(PY) manage.py migrate --noinput -v0

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check: install
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=lightbox.example.com \
	  LIGHTBOX_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	  $(PY) manage.py check --deploy --fail-level WARNING

bench: install services db
	$(PY) bench/worker_model.py

clean:
	rm -rf $(VENV) var/static
