"""The core imports no Qt (and no torch): every module loads with both blocked."""

import os
import pkgutil
import subprocess
import sys
import tomllib

import helios_desktop

from conftest import REPO, analyze_args, helios

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


def _without_qt(tmp_path):
    """An environment in which PyQt6 and pyqtgraph cannot be imported, in every process."""
    shadow = tmp_path / "no-qt"
    for name in ("PyQt6", "pyqtgraph"):
        (shadow / name).mkdir(parents=True)
        (shadow / name / "__init__.py").write_text(f"raise ImportError('{name} is not installed')\n")
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shadow), env.get("PYTHONPATH")]))
    return env


def test_the_core_runs_without_qt_installed(tmp_path, tiny_model):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("Minutes: the depot opens on Monday.\n")
    env = _without_qt(tmp_path)
    result = helios(*analyze_args(folder, tmp_path / "h.db", tiny_model), env=env)
    assert result.returncode == 0, result.stderr
    assert helios("export", "--db", tmp_path / "h.db", "--format", "jsonl", env=env).returncode == 0
    gui = helios("gui", env={**env, "QT_QPA_PLATFORM": "offscreen"})
    assert gui.returncode == 1 and "pip install 'helios-desktop[gui]'" in gui.stderr


def test_qt_is_an_extra_not_a_core_dependency():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = " ".join(meta["dependencies"]).lower()
    assert "pyqt6" not in core and "pyqtgraph" not in core
    assert any(d.lower().startswith("pyqt6") for d in meta["optional-dependencies"]["gui"])
