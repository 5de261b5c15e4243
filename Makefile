# Two commands on a fresh machine: `make run` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov and aws-sam-translator pin older boto3/pydantic than the application: their own virtualenv.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
TEMPLATES := template.yaml $(wildcard infra/stacks/*.yaml)

.PHONY: venv tools browser pdftools plan-document-picture contract-tools spectral pgbouncer run test lint typecheck cfn-lint checkov translate check package pr bench load smoke openapi clean

$(STAMP): pyproject.toml layers/shared/requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r requirements-tools.txt
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

browser:  ## Debian's chromium + chromedriver for the Swagger UI browser test (installed when missing)
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
		echo "installing chromium and chromium-driver (the Swagger UI browser test needs them)"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; }

pdftools:  ## Debian's poppler-utils (pdftoppm) for the tests that draw plan documents to pixels (installed when missing)
	@command -v pdftoppm >/dev/null 2>&1 || { \
		echo "installing poppler-utils (the plan document tests draw pages with pdftoppm)"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils; }

# Node tools of the contract (Spectral + OWASP ruleset, openapi-typescript, openapi-fetch, TypeScript),
# pinned in contract/package-lock.json; Node 20.17+ must be installed.
CONTRACT_STAMP := contract/node_modules/.installed

$(CONTRACT_STAMP): contract/package.json contract/package-lock.json
	cd contract && npm ci --no-audit --no-fund --loglevel=error
	touch $(CONTRACT_STAMP)

contract-tools: $(CONTRACT_STAMP)

spectral: contract-tools  ## openapi.json against spectral:oas + OWASP API security: 0 errors (contract/.spectral.yaml)
	contract/node_modules/.bin/spectral lint openapi.json --ruleset contract/.spectral.yaml --fail-severity error \
		--display-only-failures --quiet

pgbouncer:  ## Debian's PgBouncer: the transaction-pooling proxy the tests and `make load` put in front of PostgreSQL
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
		echo "installing pgbouncer (the tests stand it in for RDS Proxy)"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq pgbouncer; }

run: venv  ## the whole API locally on the embedded stack; Ctrl-C or SIGTERM (to make too) stops all of it
	$(VENV)/bin/eduautismo-local serve --stop-with-parent

# The header names the PostgreSQL and Redis in use. LOCAL_SERVICES=embedded make test ignores any running
# server: embedded PostgreSQL + fakeredis, the path of a machine with neither.
test: venv browser pdftools contract-tools pgbouncer  ## the whole suite: DATABASE_URL/REDIS_URL, else 127.0.0.1 servers, else embedded + fakeredis
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy layers/shared/eduautismo

cfn-lint: venv  ## every template, with the serverless rules; no errors, no warnings
	$(VENV)/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- $(TEMPLATES)

checkov: tools  ## no failed check; skips only in a resource's Metadata, with a reason
	$(TOOLS_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		$(addprefix -f ,$(TEMPLATES))

translate: tools  ## template.yaml translates with aws-sam-translator; functions and routes as production needs
	$(TOOLS_VENV)/bin/python infra/checks/sam_translate.py

check: lint typecheck cfn-lint checkov translate spectral

package: venv  ## the layer built for Lambda (manylinux, CPython 3.12) and every function zipped, with sizes
	$(PY) infra/checks/package.py

pr: check test  ## everything CI runs

bench: venv  ## the benchmark data set in a private database, every scenario, one table (+ bench-results.json)
	$(PY) -m benchmarks.run

LOAD_SECONDS ?= 60
# LOAD_CONTAINERS=200: that many Lambda-like containers (processes, one engine each) over PgBouncer instead.
load: venv pgbouncer  ## the local server under 50 concurrent users for LOAD_SECONDS; fails on any error or lost write
	$(PY) -m benchmarks.load --seconds $(LOAD_SECONDS) $(if $(LOAD_CONTAINERS),--containers $(LOAD_CONTAINERS))

smoke:  ## after a deploy: make smoke URL=<ApiUrl> TOKEN=<ID token>; health, one read, one export link fetched
	@test -n "$(URL)" -a -n "$(TOKEN)" || { echo "usage: make smoke URL=https://... TOKEN=eyJ..."; exit 2; }
	@SMOKE_TOKEN="$(TOKEN)" python3 infra/checks/smoke.py --url "$(URL)"

plan-document-picture: venv pdftools  ## pages 1 and 2 of a demo student's plan document as PNG in docs/ (the README's picture)
	$(PY) -m eduautismo_local.pictures docs

openapi: venv  ## regenerate the committed openapi.json from the functions' resolvers
	$(PY) -m eduautismo_local.openapi > openapi.json

clean:
	rm -rf $(VENV) $(TOOLS_VENV) .local .aws-sam build contract/node_modules
