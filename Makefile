PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE ?= config.settings.base

.PHONY: install run test test-browser lint format bench bench-quick bench-logs faults fuzz-api worker beat dispatcher clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Embedded default: SQLite file, background work in-process, demo tenant.
run: install
	HUB_EMBEDDED_ENGINE=1 $(PY) manage.py rundemo

## The whole suite against the real PostgreSQL and Redis.
test: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## Browser tests: Playwright driving Debian's Chromium against the demo server (not in `make test`).
## Installs what it needs if missing; screenshots land in artifacts/screenshots/.
PLAYWRIGHT_VERSION := 1.65.2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-browser: install
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install --quiet "playwright==$(PLAYWRIGHT_VERSION)"
	HUB_BROWSER_TESTS=1 DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest browser_tests -p no:xdist $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

## A standalone dispatcher (workers already run one each; this is for a separate process).
dispatcher: install
	$(PY) manage.py run_dispatcher

## Benchmarks: the real stack (gunicorn, Celery worker + beat, granian receiver) on the database
## hub_bench and Redis db 8, each scenario against its own baseline; prints the table and writes
## bench/results.json + bench/results.md. `bench-quick` is the seconds-long CI version.
bench: install
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }; }; } || echo "wrk not installed: the Python load generator is used instead"
	$(PY) -m bench.run --logs $(BENCH_ARGS)

## 2,000,000 call logs: filtered list p95 and CSV export rate (also part of `make bench`).
bench-logs: install
	$(PY) bench/logs_bench.py $(BENCH_LOGS_ARGS)

bench-quick: install
	$(PY) -m bench.run --quick $(BENCH_ARGS)

## Fault injection on the real stack (database hub_faults, a private redis-server, gunicorn,
## a Celery worker and beat, a local buyer): a flapping buyer, SIGKILLed workers, Redis killed
## and flushed, and last the shared PostgreSQL restarted. Prints the counts of each scenario.
faults: install
	$(PY) -m faults.run --postgres $(FAULTS_ARGS)

## Schemathesis against every API operation, with more examples than the suite's run.
fuzz-api: install
	HUB_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),25) DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest tests/security/test_api_fuzz.py -p no:xdist $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3
