# Helios Desktop: the two commands of the README.
#   make run [FOLDER=path]   set up .venv, build the default model once, analyze FOLDER
#   make test                set up .venv, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FOLDER ?= resources/samples
STAMP := $(VENV)/.installed

.PHONY: run test venv model clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Helios needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

model: $(STAMP)
	$(BIN)/helios models build-default

run: model
	$(BIN)/helios analyze "$(FOLDER)"

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
