# Helios Desktop: the two commands of the README.
#   make run [FOLDER=path]   set up .venv, build the default model once, analyze FOLDER
#   make test                set up .venv, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FOLDER ?= resources/samples
STAMP := $(VENV)/.installed

.PHONY: run test venv model clean bundle bundle-test install-desktop

$(STAMP): pyproject.toml scripts/system-deps.sh
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Helios needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	bash scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cpu,gui,test]'
	touch $(STAMP)

venv: $(STAMP)

model: $(STAMP)
	$(BIN)/helios models build-default

# With a display, the desktop window opens on FOLDER; without one, the same analysis
# runs in the terminal.
run: model
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(BIN)/helios gui "$(FOLDER)"; \
	else \
	  echo "No display: analyzing $(FOLDER) in the terminal (the window needs DISPLAY)"; \
	  $(BIN)/helios analyze "$(FOLDER)"; \
	fi

test: $(STAMP)
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
