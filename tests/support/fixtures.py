"""Fixtures and builders for configs, ledgers and windows; tests get them here, never from
another test file (napari's make_napari_viewer). Qt is imported only when a window is made,
so the core's tests run without it."""

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:  # conftest, servers and endpoint_proxy live there
    sys.path.insert(0, str(TESTS))

from conftest import TINY_MODEL  # noqa: E402

RUN_TIMEOUT = 120_000


def write_user_config(home: Path, text: str) -> Path:
    """The per-user config file of the isolated home, holding ``text``."""
    cfg = home / "config" / "helios" / "config.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text)
    return cfg


def tiny_model_config(db: Path) -> str:
    """Settings for a quick real run on the committed tiny model."""
    return (f"model_path: {TINY_MODEL}\nmax_output_tokens: 1200\nmax_input_tokens: 256\n"
            f"max_batch_size: 4\ndatabase: {db}\n")


def server_config(urls, db: Path, extra: str = "") -> str:
    """Settings that send the files to the model servers at ``urls``."""
    return (f"engine: openai\nendpoints: [{', '.join(urls)}]\napi_model: smollm2\n"
            f"max_output_tokens: 96\ndatabase: {db}\n{extra}")


def open_window(qtbot, tmp_path=None, monkeypatch=None):
    """A shown MainWindow on the isolated home's settings; with ``monkeypatch``, in a
    runtime folder of its own under ``tmp_path``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from helios_desktop.gui.mainwindow import MainWindow

    if monkeypatch is not None:
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def close_window(qtbot, w) -> None:
    """Kill a backend still running, close, and fail on a thread left running."""
    from PyQt6.QtCore import QThread

    if w.backend.running:
        w.backend.kill()
        qtbot.waitUntil(lambda: not w.backend.running, timeout=10_000)
    w.close()
    running = [t for t in w.findChildren(QThread) if t.isRunning()]
    assert not running, f"threads left running: {running}"


@pytest.fixture
def window(qtbot, tmp_path, isolated_home, monkeypatch):
    """A window set up for the tiny model, database in tmp_path (gui.db)."""
    write_user_config(isolated_home, tiny_model_config(tmp_path / "gui.db"))
    w = open_window(qtbot, tmp_path, monkeypatch)
    yield w
    close_window(qtbot, w)


def server_window(qtbot, tmp_path, isolated_home, monkeypatch, urls, extra=""):
    """A window whose settings send the files to the model servers at ``urls``."""
    write_user_config(isolated_home, server_config(urls, tmp_path / "gui.db", extra))
    return open_window(qtbot, tmp_path, monkeypatch)


@pytest.fixture
def ledger(tmp_path):
    """A fresh ledger (the one writer) in tmp_path, closed after the test."""
    from helios_desktop.store.ledger import Ledger

    led = Ledger(tmp_path / "ledger.db")
    yield led
    led.close()


def make_folder(root, n=120):
    """A folder of ``n`` notes in four subfolders, one code file and one binary file;
    returns how many files it holds."""
    root.mkdir()
    for i in range(n):
        sub = root / f"part{i % 4}"
        sub.mkdir(exist_ok=True)
        (sub / f"note{i}.txt").write_text(f"Note {i}: deliveries for depot {i % 9} were late.\n" * 3)
    (root / "code.py").write_text("def f():\n    return 1\n")
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    return n + 2
