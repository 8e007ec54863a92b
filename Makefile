# Two commands set everything up on a machine with Python 3.11+ and make:
#   make train   create .venv, install, train the default experiment on the seeds
#   make test    create .venv, install, run ruff and the tests (all but the slow
#                end-to-end paths: make test-slow runs those, make test-all both)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  = $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma  := ,
PIP_VERSION := 26.3
ARGS   ?=
# make test runs the tests on every core (pytest-xdist); JOBS=1 runs them in one process.
JOBS   ?= auto
# Optional parts installed with the package (pyproject.toml); .ci/run adds spark.
EXTRAS ?= train,dev,scale,cluster

.PHONY: train test test-slow test-all lint bench experiments resources ui clean constraints

$(STAMP): pyproject.toml constraints.txt build-constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt --build-constraint build-constraints.txt -e '.[$(EXTRAS)]'
	@touch $(STAMP)

train: $(STAMP)
	$(BIN)/framing-train $(ARGS)

# The tests marked slow (pyproject.toml) run whole commands end to end: every README
# example, every shipped experiment, sweeps, serving, the bench, a wheel built and
# installed. make test leaves them to make test-slow; CI (.ci/run) runs both.
test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist worksteal -m "not slow" $(ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist worksteal -m slow $(ARGS)

test-all: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist worksteal $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)

# The table of experiments/README.md: every seed experiment, seeds and dev-set figures.
experiments: $(STAMP)
	$(BIN)/python benchmarks/experiments_table.py $(ARGS)

# Rebuild the shipped subjectivity model (needs ../shared/benchmarks/subj). No label
# issues file: it would quote the corpus's sentences inside the package.
resources: $(STAMP)
	$(BIN)/framing-train experiment=subjectivity tracking=off eval.label_issues=off \
	  output.model_path=$(CURDIR)/src/framing/resources/subjectivity.joblib

ui: $(STAMP)
	$(BIN)/framing ui $(ARGS)

# Re-resolve the newest allowed versions and pin them again.
constraints:
	rm -rf /tmp/framing-constraints-venv
	$(PYTHON) -m venv /tmp/framing-constraints-venv
	/tmp/framing-constraints-venv/bin/pip install --quiet "pip==$(PIP_VERSION)"
	/tmp/framing-constraints-venv/bin/pip install --quiet -e '.[train,dev,scale,cluster,spark,optuna,bench,issues]'
	( sed -n '1,2p' constraints.txt; /tmp/framing-constraints-venv/bin/pip freeze --all --exclude-editable | grep -v '^framing' | grep -v '^pip==' ) > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache build
