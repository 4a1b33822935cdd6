# Influencer Lens: CSV of videos -> faces -> influencers -> DuckDB warehouse -> report.
# Two commands on a fresh machine: `make build` and `make test` (both install what they need).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Telemetry off for every tool.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export GX_ANALYTICS_ENABLED := false
export SEND_ANONYMOUS_USAGE_STATS := no
export PYTHONUNBUFFERED := 1

# The one warehouse path. dbt and the report reach it through INFLUENCER_LENS_DB.
DB ?= data/warehouse.duckdb
export INFLUENCER_LENS_DB := $(abspath $(DB))
# Input CSV; empty = a demo corpus synthesized from $(SHARED)/faces.
VIDEOS ?=
SHARED ?= ../shared
DEMO_DIR ?= data/demo
INGEST_ARGS ?=

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DBT := $(VENV)/bin/dbt
DBT_FLAGS := --project-dir dbt_project --profiles-dir dbt_project

ifeq ($(strip $(VIDEOS)),)
INPUT_CSV := $(DEMO_DIR)/videos.csv
else
INPUT_CSV := $(VIDEOS)
endif

.PHONY: help install build demo ingest dbt gx report test test-fast bench lint clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

install: $(VENV)/.installed ## Create .venv with the pinned Python dependencies

build: install ## Build everything: ingest VIDEOS (or the demo corpus) -> dbt -> checks -> report
	@$(MAKE) --no-print-directory ingest dbt gx report

demo: install ## Synthesize the demo corpus from $(SHARED)/faces into $(DEMO_DIR)
	$(PY) -m ingest demo --faces $(SHARED)/faces --out $(DEMO_DIR)

ingest: install ## Run the Python stage on VIDEOS (default: the demo corpus) into DB
ifeq ($(strip $(VIDEOS)),)
	@$(MAKE) --no-print-directory demo
endif
	$(PY) -m ingest run $(INPUT_CSV) --db $(DB) $(INGEST_ARGS)

dbt: install ## dbt build: staging -> intermediate -> marts, with tests and unit tests
	$(PY) -W ignore::RuntimeWarning -m dbt.cli.main build $(DBT_FLAGS)

gx: install ## Great Expectations suites over raw and mart tables (stops on failure)
	$(PY) -m expectations --db $(DB) --dbt-run-results dbt_project/target/run_results.json --docs-dir out/data_docs

report: install ## Build the static report site
	@echo "report: not wired yet"

test: install ## Run all tests (unit, integration with real models, report in a browser)
	$(PY) -m pytest

test-fast: install ## Run the fast unit tests only
	$(PY) -m pytest -m "not slow and not browser"

bench: install ## Labelled benchmark (synthetic corpus + real clips) -> docs/benchmarks.md
	$(PY) -m bench --faces $(SHARED)/faces --videos $(SHARED)/videos --out docs/benchmarks.md

lint: install ## Ruff
	$(VENV)/bin/ruff check ingest bench tests expectations

clean: ## Remove build outputs (keeps .venv and the download cache)
	rm -rf dbt_project/target dbt_project/logs out reports/build
