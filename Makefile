# Quick start: `make run` (dashboard on demo runs), `make demo-serve` (promote the recommended
# demo run and serve it), `make serve` (scoring service of what is promoted) and `make test`;
# `make bundle` writes the promoted model's service folder with a Dockerfile (BUNDLE_DIR);
# `make score-batch INPUT=book.parquet OUTPUT=scored` scores a whole book (ENGINE=spark: Spark).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8501
SERVE_PORT ?= 8000
BUNDLE_DIR ?= dist/scoring-service
ENGINE ?= local
SCORE_BATCH_ARGS ?=
export MLFLOW_TRACKING_URI ?= file:./mlruns

.PHONY: run serve demo-serve bundle score-batch test lint bench bench-evidently demo clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The Spark engine's pins, apart from the runtime's (the dashboard does not need Java).
$(VENV)/.spark: requirements-spark.txt | $(BIN)/activate
	$(PY) -m pip install --quiet -r requirements-spark.txt
	touch $@

demo: $(VENV)/.runtime
	$(PY) -m core train --demo --if-empty

run: demo
	$(BIN)/streamlit run app.py --server.port $(PORT)

serve: $(VENV)/.runtime
	$(PY) -m core serve --port $(SERVE_PORT)

bundle: $(VENV)/.runtime
	$(PY) -m core bundle --out $(BUNDLE_DIR)

# The whole loop on the demo: train (if the store is empty), promote the run the Runs page
# recommends (unless a run is already promoted), serve it.
demo-serve: demo
	$(PY) -m core promote --recommended --if-none --by "make demo-serve" \
		--reason "demo: the run the Runs page recommends"
	$(PY) -m core serve --port $(SERVE_PORT)

# Score a CSV/Parquet book (file or folder) with the promoted model into a Parquet folder.
score-batch: $(VENV)/.runtime $(if $(filter spark,$(ENGINE)),$(VENV)/.spark)
	$(PY) -m core score-batch --input $(INPUT) --output $(OUTPUT) --engine $(ENGINE) \
		$(SCORE_BATCH_ARGS)

test: $(VENV)/.dev $(VENV)/.spark
	$(BIN)/ruff check .
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.dev
	for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

# The Evidently baseline of bench/bench_monitoring.py, in its own venv (it needs pandas 2.3.3).
bench/.venv-evidently/.installed: bench/requirements-evidently.txt
	$(PYTHON) -m venv bench/.venv-evidently
	bench/.venv-evidently/bin/pip install --quiet -r bench/requirements-evidently.txt
	touch $@

bench-evidently: bench/.venv-evidently/.installed

clean:
	rm -rf $(VENV) .pytest_cache
