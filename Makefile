# One Makefile; its targets are the commands CI runs (.ci/run calls `make lint typecheck test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint format typecheck test deploy-check demo drill bench bench-install bench-service bench-service-install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks deploy
	$(BIN)/ruff format --check src tests examples benchmarks deploy

format: $(STAMP)
	$(BIN)/ruff format src tests examples benchmarks deploy
	$(BIN)/ruff check --fix src tests examples benchmarks deploy

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest exits 5 when it collected no test; that must fail loudly, never pass.
test: $(STAMP)
	@$(BIN)/python -m pytest --cov --cov-report=term:skip-covered -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

# The deploy/ checks alone (promtool, kubectl kustomize + kubernetes-validate, hadolint,
# check-jsonschema, metric names); `make test` runs them too.
deploy-check: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/deploy tests/service/test_metrics.py

demo: $(STAMP)
	$(BIN)/python examples/demo.py
	$(BIN)/python examples/serve_demo.py

# The deployment drill (docs/drill.md): nginx, 3 replicas, 2 workers, PostgreSQL, Redis and
# Prometheus as real processes on 127.0.0.1; a replica and a worker killed mid-load. Needs
# Debian's nginx, prometheus and redis-server, and PostgreSQL's server binaries (.ci/run installs them).
drill: $(STAMP)
	$(BIN)/python -m deploy.drill $(DRILL_ARGS)

# AutoGen is a benchmark-only dependency: it lives in its own venv, never in muster's.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml benchmarks/requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q -U pip
	$(BENCH_VENV)/bin/python -m pip install -q -e '.[all]' -r benchmarks/requirements.txt
	@touch $@

bench-install: $(BENCH_VENV)/.installed

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m benchmarks

# LangGraph's Agent Server, the service benchmark's peer: a venv of its own, benchmark-only.
LG_VENV := .venv-langgraph
$(LG_VENV)/.installed: benchmarks/service/requirements.txt
	@test -x $(LG_VENV)/bin/python || $(PYTHON) -m venv $(LG_VENV)
	$(LG_VENV)/bin/python -m pip install -q -U pip
	$(LG_VENV)/bin/python -m pip install -q -r benchmarks/service/requirements.txt
	@touch $@

bench-service-install: $(STAMP) $(LG_VENV)/.installed

bench-service: $(STAMP) $(LG_VENV)/.installed
	$(LG_VENV)/bin/python -m benchmarks.service $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(LG_VENV) .mypy_cache .pytest_cache .ruff_cache .coverage
