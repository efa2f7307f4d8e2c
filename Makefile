# skysift: the two commands of the README, and a few helpers.
#   make demo   - create .venv, install, run the demo survey end to end (snakemake, default config)
#   make test   - create .venv, install, run ruff and the default test suite (~20 min; CI runs it, then test-e2e)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all

.PHONY: setup demo test test-e2e test-slow lint bench report config-doc rulegraph clean-results

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,slurm,hats]'
	touch $@

demo: setup
	$(BIN)/snakemake --profile profiles/local --cores $(CORES)

test: setup lint
	$(BIN)/pytest -m "not slow and not e2e"

# the long end-to-end runs (every example, the tutorial, Slurm through sbatch, kills and faults): CI runs them too
test-e2e: setup
	$(BIN)/pytest -m "e2e and not slow"

# the slow tests: scale runs, every stage killed, Slurm retries and SLURMCluster
test-slow: setup
	$(BIN)/pytest -m slow

lint: setup
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/ruff format --check src tests workflow/scripts benchmarks
	$(BIN)/lint-imports
	$(BIN)/snakemake --lint --cores 1

report: setup
	$(BIN)/snakemake --report results/report.html

bench: setup
	$(BIN)/python benchmarks/bench_features.py

config-doc: setup
	$(BIN)/skysift config-doc

rulegraph: setup
	$(BIN)/snakemake --rulegraph --cores 1

clean-results:
	rm -rf results logs .snakemake
