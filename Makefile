# Quick start: `make run` (dashboard on demo runs), `make demo-serve` (promote the recommended
# demo run and serve it), `make serve` (scoring service of what is promoted) and `make test`;
# `make bundle` writes the promoted model's service folder with a Dockerfile (BUNDLE_DIR);
# `make score-batch INPUT=book.parquet OUTPUT=scored` scores a whole book (ENGINE=spark: Spark).
# `make run-auth` shows sign-in locally: a mock OpenID Connect provider and the dashboard wired
# together, four eyes on, three users (alice requests, bob approves, vera only reads).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8501
SERVE_PORT ?= 8000
BUNDLE_DIR ?= dist/scoring-service
ENGINE ?= local
# Test processes (pytest-xdist); 1 runs the suite in this process, as plain `pytest` does.
TEST_WORKERS ?= 2
SCORE_BATCH_ARGS ?=
export MLFLOW_TRACKING_URI ?= file:./mlruns

.PHONY: run run-auth serve demo-serve bundle score-batch test lint bench bench-evidently demo clean

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
	$(PY) -m ui --server.port $(PORT)

# Sign-in on this machine (README "Four eyes, identity"): oidc-provider-mock on AUTH_PORT, the
# [auth] secrets in AUTH_DEMO_DIR (not .streamlit/), a deploy folder of its own.
AUTH_PORT ?= 9400
AUTH_DEMO_DIR ?= .auth-demo
AUTH_USERS := \
	--user-claims '{"sub": "alice", "name": "Alice Analyst", "email": "alice@bank.example", "groups": ["model-developers"]}' \
	--user-claims '{"sub": "bob", "name": "Bob Validator", "email": "bob@bank.example", "groups": ["model-validators"]}' \
	--user-claims '{"sub": "vera", "name": "Vera Viewer", "email": "vera@bank.example", "groups": ["risk-readers"]}'
AUTH_ENV := AUTHLIB_INSECURE_TRANSPORT=1 PROMOTION_APPROVALS=2 \
	STREAMLIT_SECRETS_FILES=$(AUTH_DEMO_DIR)/secrets.toml AUTH_SECRETS_FILE=$(AUTH_DEMO_DIR)/secrets.toml \
	PROMOTION_MANIFEST=$(AUTH_DEMO_DIR)/deploy/promotion.json AUTH_REQUESTERS=model-developers \
	AUTH_APPROVERS=model-validators AUTH_VIEWERS=risk-readers

run-auth: demo $(VENV)/.dev
	mkdir -p $(AUTH_DEMO_DIR)
	printf '[auth]\nredirect_uri = "http://localhost:$(PORT)/oauth2callback"\ncookie_secret = "%s"\nclient_id = "credit-governance-dashboard"\nclient_secret = "the-mock-accepts-any"\nserver_metadata_url = "http://localhost:$(AUTH_PORT)/.well-known/openid-configuration"\n' \
		"$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')" > $(AUTH_DEMO_DIR)/secrets.toml
	$(PY) -m oidc_provider_mock --port $(AUTH_PORT) $(AUTH_USERS) & provider=$$!; \
		trap 'kill $$provider' EXIT INT TERM; \
		echo "open http://localhost:$(PORT)/promotion and log in as alice, bob or vera"; \
		$(AUTH_ENV) $(PY) -m ui --server.port $(PORT)

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
	$(PY) -m pytest $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup)

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
