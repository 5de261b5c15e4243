# Two commands on a fresh machine: `make run` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv run test lint typecheck cfn-lint check pr bench load openapi clean

$(STAMP): pyproject.toml layers/shared/requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: venv  ## the whole API locally on the embedded stack
	$(VENV)/bin/eduautismo-local serve

test: venv  ## the whole suite against real PostgreSQL and Redis
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy layers/shared/eduautismo

cfn-lint: venv
	$(VENV)/bin/cfn-lint template.yaml

check: lint typecheck cfn-lint

pr: check test  ## everything CI runs

bench: venv  ## DESIGN-scale data set in a private database, every scenario, one table (+ bench-results.json)
	$(PY) -m benchmarks.run

load: venv  ## the local server under 50 concurrent users for 60 s; fails on any error or lost write
	$(PY) -m benchmarks.load

openapi: venv  ## regenerate the committed openapi.json from the functions' resolvers
	$(PY) -m eduautismo_local.openapi > openapi.json

clean:
	rm -rf $(VENV) .local .aws-sam
