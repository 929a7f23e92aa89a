# Two commands from a fresh clone: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PORT ?= 8000

# Development defaults; anything set in the environment wins.
run seed: export DEBUG ?= true
run: export SIMULATED_DAY_SECONDS ?= 20
run: export ACTIVATION_SWEEP_SECONDS ?= 5
# Links in emails point at the port it serves, unless PORTAL_URL says otherwise.
run: export PORTAL_URL ?= http://127.0.0.1:$(PORT)
# Webhooks may go to a receiver on this machine (elsewhere only public addresses are called).
run: export WEBHOOK_ALLOWED_ADDRESSES ?= 127.0.0.1
# Tests run with production settings (DEBUG off), which want a key and collected static files.
test: export SECRET_KEY ?= test-only-secret-key
test: export STATIC_MANIFEST ?= false
test: export SECURE_SSL_REDIRECT ?= false

# The screenshots the README shows, as the browser tests last took them.
SCREENSHOTS := technical-benefits-admin-at-contoso.example activate-provisioning activate-ids \
	admin-agent-sees-the-ids support-types-of-support support-add-again-diagnostic \
	technical-benefits-ja technical-benefits-zh-hans

.PHONY: run seed test install lint format clean screenshots messages faults bench soak

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The translations, compiled from the catalogs (.mo files are built, never committed).
CATALOGS := $(wildcard locale/*/LC_MESSAGES/django.po)
locale/.compiled: $(CATALOGS) $(BIN)/.installed
	$(BIN)/pybabel compile --directory locale --domain django --statistics
	touch $@

install: $(BIN)/.installed locale/.compiled

# The database, migrated, with the demo accounts; adds only what is missing.
seed: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo

# honcho reads no .env (-e /dev/null): the one copied from .env.example is Docker Compose's,
# and would switch `make run` to PostgreSQL, another port and https. scripts/respawn.py
# starts again any of the three processes that ends, while the others keep serving.
run: seed
	@echo "Portal on http://127.0.0.1:$(PORT)/ (Ctrl-C stops the web server, worker and beat)"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho -e /dev/null -f Procfile.dev start -p $(PORT)

# axe-core, which the browser tests inject into the pages (no lock file: it would record
# download addresses; the version is pinned in package.json).
node_modules/axe-core/axe.min.js: package.json
	@if command -v npm >/dev/null; then npm install --no-package-lock --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility tests will be skipped"; fi

# The tests run in TEST_PROCESSES processes side by side (pytest-xdist; 0 runs them in this one),
# each on its own test database and Redis database.
TEST_PROCESSES ?= 2
test: install node_modules/axe-core/axe.min.js
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles *.egg-info node_modules test-artifacts

screenshots:
	mkdir -p docs/screenshots
	for name in $(SCREENSHOTS); do cp test-artifacts/$$name.png docs/screenshots/; done

# After changing user-facing text: gather the strings into the catalogs (needs GNU gettext),
# then translate the new entries in locale/ja and locale/zh_Hans.
messages:
	$(BIN)/python manage.py makemessages --locale en --locale ja --locale zh_Hans --no-location \
		--ignore .venv --ignore node_modules --ignore tests --ignore var --ignore staticfiles \
		--ignore build --ignore docs

# The fault drill (scripts/fault_drill.py): on PostgreSQL and Redis only, and it stops and
# restarts the Redis server, so run it on a machine of its own (CI does).
faults: export SECRET_KEY ?= fault-drill-only-secret-key
faults: export STATIC_MANIFEST ?= false
faults: export SECURE_SSL_REDIRECT ?= false
faults: install
	$(BIN)/python scripts/fault_drill.py

# The benchmarks (BENCHMARKS.md): a dataset of 100,000 partners, the Technical benefits page
# under load and the activation worker's drain, on this machine's PostgreSQL and Redis (it
# starts them if down). About 25 minutes; BENCH_ARGS="--help" lists the knobs.
$(VENV)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: install $(VENV)/.bench-installed
	bash scripts/services.sh
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq pgbouncer >/dev/null)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The embedded default for SOAK_MINUTES (default 30) under `make run` in a copy of the tree,
# an activation every few seconds; exits non-zero if a process crashed or an activation did
# not complete (scripts/soak.py).
soak: install
	$(BIN)/python scripts/soak.py --venv "$(abspath $(VENV))" $(SOAK_ARGS)
