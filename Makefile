# mailport — `make serve` runs the service, `make test` runs the whole suite. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test test-fast bench lint typecheck layers gates clean lab-deps worker example demo

install: $(STAMP)

# Re-installs only when pyproject.toml changes; pip's own cache makes a re-run cheap.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,example]'
	@touch $(STAMP)

serve: install
	$(BIN)/mailport serve

worker: install
	$(BIN)/mailport worker

# The example invoicing app (examples/invoicing) on :8500, beside `make serve` (start that with
# MAILPORT_ALLOW_PRIVATE_HOSTS=true so the example's loopback webhook URL is accepted).
# Env: MAILPORT_URL (default http://127.0.0.1:8400), MAILPORT_API_KEY (else a tenant is made once
# with the operator key in MAILPORT_ADMIN_KEY_FILE, default var/admin.key), INVOICING_PORT,
# INVOICING_PUBLIC_URL, INVOICING_DB (default var/invoicing.db).
example: install
	PYTHONPATH=examples/invoicing $(BIN)/python -m invoicing

# A real mailbox on this machine (the lab's Dovecot + Postfix on loopback), mailport on a fresh
# data directory, a tenant, and a printed sign-in link: connect, test and send in the browser.
# Ctrl-C stops it all. Env: MAILPORT_PORT (default 8400), DEMO_LANG (en, nl, de, it, fr).
demo: install lab-deps
	$(BIN)/python scripts/demo.py

# Debian packages for the real test servers (Dovecot, Postfix) and the browser tests (Chromium),
# installed when missing (apt, as root).
lab-deps:
	bash scripts/install-test-deps.sh --with-chromium

test: install lab-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not lab and not browser" $(PYTEST_ARGS)

bench: install lab-deps
	BENCH="$(BENCH)" $(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check src tests bench scripts examples

typecheck: install
	$(BIN)/mypy

# The dependency rule between layers (core <- adapters <- services <- api/web/cli).
layers: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_architecture.py

# What CI checks before the suite: lint, types, layers.
gates: lint typecheck layers

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
