# Audience Discovery Bot. `make demo` and `make test` work on a fresh machine.
PY_SYS ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEED   ?= ../shared/seed-data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

.PHONY: install demo test run bench lint typecheck format clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	# torch first, pinned: the CPU build (an unpinned torch pulls gigabytes of CUDA packages)
	$(PY) -m pip install -q "torch==2.13.0" || $(PY) -m pip install -q "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Embedded PostgreSQL + Qdrant local mode in ./data, synthetic sample data, ingest, status.
DEMO_DIR := data/sample
demo: $(STAMP)
	test -f $(DEMO_DIR)/crm_customers.csv || $(PY) -m ingest sample --customers 2000 --events-per-customer 10 --out $(DEMO_DIR)
	$(PY) -m ingest run --crm $(DEMO_DIR)/crm_customers.csv --events $(DEMO_DIR)/clickstream_events.csv
	$(PY) -m ingest status
	$(PY) -m discovery examples

# A base folder of its own: pytest's shared /tmp/pytest-of-USER keeps only its last three runs, so a
# concurrent run elsewhere on the machine could delete this one's embedded PostgreSQL cluster.
TEST_TMP ?= $(shell mktemp -d -t audience-tests-XXXXXX)
test: $(STAMP)
	$(PY) -m pytest --basetemp=$(TEST_TMP)

run: $(STAMP)
	$(PY) -m bot

bench: $(STAMP)
	$(PY) -m bench all

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

clean:
	rm -rf data .pytest_cache
