# VEID: `make run` installs everything and runs the main job end to end; `make test` runs the tests.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# System packages the pipeline and the tests need (Debian names).
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng libzbar0 fonts-dejavu-core fonts-dejavu-extra \
	fonts-liberation fonts-freefont-ttf \
	munge slurmctld slurmd slurmdbd slurm-client slurm-wlm-basic-plugins slurm-wlm-mysql-plugin mariadb-server
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install system-deps run test test-fast bench proto clean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

system-deps: .make/system.stamp  ## Install the Debian packages (tesseract, zbar, fonts, ...).
.make/system.stamp: Makefile
	@mkdir -p .make
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

install: system-deps $(VENV)/.installed  ## Install system packages and the Python environment in .venv.
$(VENV)/.installed: requirements.lock pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	@touch $@

run: install  ## Run VEID end to end on the embedded defaults.
	$(BIN)/python -m veid.demo

test: install  ## Run the whole test suite (pytest's "no tests" exit 5 fails the target).
	$(BIN)/python -m pytest

test-fast: install  ## Run the tests without the slow ones.
	$(BIN)/python -m pytest -m "not slow"

bench: install  ## Run every benchmark in bench/ and print their tables.
	$(BIN)/python -m bench

clean:  ## Remove the virtual environment and build outputs.
	rm -rf $(VENV) .make build *.egg-info
