# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/speech-profile demo --out demo-out

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest
	# The notebooks explore a small demo store (built once under .cache/, minutes).
	$(BIN)/python -c "from speech.demo import notebook_store; notebook_store()"
	$(BIN)/pytest --nbmake --nbmake-timeout=900 notebooks/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-out .pytest_cache .ruff_cache
