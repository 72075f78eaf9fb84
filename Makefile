# The README's commands. Everything runs from ./.venv, created on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test check audit bench clean

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install -q 'uv>=0.13,<0.14'
	$(UV) sync --frozen --inexact --extra dev
	touch $@

install: $(VENV)/.installed

## make run: migrate ./data/scimgate.db, ensure tenant "demo", print its URL and a token, serve :8000
run: install
	$(VENV)/bin/scimgate demo

## make test: the whole suite, on SQLite and on PostgreSQL (127.0.0.1:5432 unless SCIMGATE_TEST_POSTGRES_URL)
test: install
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

## make check: formatting, lint, types, complexity (xenon rank C: up to 20), dependency audit
check: install audit
	$(VENV)/bin/ruff format --check src tests bench .ci
	$(VENV)/bin/ruff check src tests bench .ci
	$(VENV)/bin/mypy
	$(VENV)/bin/xenon --max-absolute C src

## make audit: known vulnerabilities in the locked dependencies (pip-audit); only warns when
## no advisory service answers (e.g. a package mirror without vulnerability data)
audit: install
	$(UV) export --quiet --frozen --no-hashes --extra dev --no-emit-project --output-file $(VENV)/audit-requirements.txt
	$(PY) .ci/audit_dependencies.py $(VENV)/audit-requirements.txt $(AUDIT_ARGS)

## make bench: SCIM load benchmark (see bench/README.md)
bench: install
	$(PY) bench/scim_load.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
