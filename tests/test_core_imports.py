"""The core imports no Qt (and no torch): every module loads with both blocked."""

import pkgutil
import subprocess
import sys

import helios_desktop

CORE = sorted(name for name in (m.name.removeprefix("helios_desktop.") for m in
                                 pkgutil.walk_packages(helios_desktop.__path__, "helios_desktop."))
              if name.split(".")[0] not in ("gui", "__main__") and "_gemma" not in name)

BLOCKER = """
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"PyQt6", "PySide6", "PyQt5", "pyqtgraph", "torch"}:
            raise ImportError(f"blocked import of {name}")
        return None
sys.meta_path.insert(0, Block())
for name in sys.argv[1:]:
    importlib.import_module("helios_desktop." + name)
loaded = [m for m in sys.modules if m.split(".")[0] in {"PyQt6", "PySide6", "pyqtgraph", "torch"}]
assert not loaded, loaded
print("ok", len(sys.argv) - 1)
"""


def test_every_core_module_imports_without_qt_or_torch():
    assert {"engines.onnx", "store.ledger", "scan.scanner", "backend.supervisor"} <= set(CORE)
    result = subprocess.run([sys.executable, "-c", BLOCKER, *CORE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok {len(CORE)}"


def test_blocker_really_blocks():
    # The check above would pass vacuously if the blocker did nothing.
    code = BLOCKER.replace('for name in sys.argv[1:]:', 'import PyQt6\nfor name in sys.argv[1:]:')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "blocked import of PyQt6" in result.stderr
