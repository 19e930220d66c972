# Pasar Koperasi — two commands: `make run` and `make test`.
SHELL   := /bin/bash
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
FLASK   := $(VENV)/bin/flask --app wsgi
HOST    ?= 127.0.0.1
PORT    ?= 5000
# pytest-xdist workers for `make test` / `make test-pg` (0 runs the suite in one process).
TEST_WORKERS ?= 2
PO      := marketplace/translations/id/LC_MESSAGES/messages.po
MO      := $(PO:.po=.mo)

.PHONY: run serve setup install install-test db seed translations test test-pg bench bench-small bench-pg extract-messages migration screenshots clean

run: setup serve

setup: install translations db seed

serve:
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(PIP) install -q -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

translations: $(MO)
$(MO): $(PO) | $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d marketplace/translations -D messages

db: install
	$(FLASK) db upgrade

seed: install
	$(FLASK) seed-demo
	$(FLASK) reindex

# The whole suite on SQLite (the browser tests install Debian's chromium if it is missing).
test: install-test translations
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS)

# The whole suite again on PostgreSQL (installed and started by the script when missing).
test-pg: install-test translations
	bash scripts/ensure-chromium.sh
	. scripts/start-postgres.sh && TEST_DATABASE_URL="$$PASAR_PG_URL" $(VENV)/bin/pytest -q -n $(TEST_WORKERS)

# messages.po is the source of truth: extract the template from the code, merge it into the .po
# (new messages arrive empty, never fuzzy-guessed; messages gone from the code are dropped), then show
# the counts. Translate the empty msgstr entries in the .po; tests/marketplace/test_i18n.py fails on any
# untranslated or fuzzy entry and when the .po is out of date with the code.
POT     := $(VENV)/messages.pot
extract-messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --add-location=file --sort-output -w 100 \
	    --project=pasar-koperasi --version=0.1 --copyright-holder="Pasar Koperasi developers" -o $(POT) .
	$(VENV)/bin/pybabel update -i $(POT) -d marketplace/translations -D messages -l id -w 100 \
	    --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
	$(VENV)/bin/pybabel compile -d marketplace/translations -D messages --statistics

# Screenshots of each role's ten busiest screens on a 360-px phone, from a fresh demo, into screenshots/.
screenshots: install-test translations
	bash scripts/ensure-chromium.sh
	$(PY) scripts/screenshots.py

# Benchmarks at cooperative scale (data generated once and cached under bench/data/).
# SIZES: the data sizes of the per-page table, smallest first (the mixed workload runs at the last one);
# e.g. `make bench SIZES=small,default` or `make bench-pg SIZES=small,large`.
SIZES ?= small,default,large

bench: $(VENV)/.installed-bench translations
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-bench-tools.sh
	$(PY) -m bench.run --sizes $(SIZES)
	$(PY) -m bench.profile

bench-small: $(VENV)/.installed-bench translations
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-bench-tools.sh
	$(PY) -m bench.run --small --sizes tiny,small

# The per-page table on the local PostgreSQL (scripts/start-postgres.sh): the generator fills one database
# per size (pasar_bench_<size>; BENCH_PG_URL changes the base name), cached like the SQLite data.
bench-pg: $(VENV)/.installed-bench translations
	. scripts/start-postgres.sh && $(PY) -m bench.pages --pg --sizes $(SIZES)

# New migration after a model change: make migration m="what changed"
migration: install
	$(FLASK) db migrate -m "$(m)"

clean:
	rm -rf $(VENV) instance
