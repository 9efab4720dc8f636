"""Ready-made fixtures and helpers for the window's tests (napari's make_napari_viewer).

tests/conftest.py loads this module as a plugin, so its fixtures (``make_window``, which
builds a window on a config written for the test and fails the test if the window left a
QThread running; ``window``, one on the tiny model) reach every test; test modules import
the helpers they use from here, never from another test module. Qt is imported only
when a window test runs, so the core's tests load no Qt.
"""

from __future__ import annotations

import io
import os

import pytest

from helios_desktop.backend.events import EventWriter

from conftest import TINY_MODEL

RUN_TIMEOUT = 120_000
TINY_CONFIG = (f"model_path: {TINY_MODEL}\nmax_output_tokens: 1200\nmax_input_tokens: 256\n"
               "max_batch_size: 4\n")


@pytest.fixture
def make_window(qtbot, tmp_path, isolated_home, monkeypatch):
    """``make_window(config)``: a shown window whose user config is ``config`` plus the
    test's own database (tmp_path/gui.db). Every window made is closed at the end, its
    backend killed if still running, and no QThread may be left running."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QThread

    from helios_desktop.gui.mainwindow import MainWindow

    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    cfg = isolated_home / "config" / "helios" / "config.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    made = []

    def make(config: str = TINY_CONFIG):
        cfg.write_text(config + f"database: {tmp_path / 'gui.db'}\n")
        w = MainWindow()
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        if w.run.backend.running:
            w.run.backend.kill()
            qtbot.waitUntil(lambda w=w: not w.run.backend.running, timeout=10_000)
        w.close()
        running = [t for t in w.findChildren(QThread) if t.isRunning()]
        assert not running, f"threads left running: {running}"


@pytest.fixture
def window(make_window):
    """A window on the tiny model."""
    return make_window()


def server_config(urls, extra: str = "") -> str:
    """A config that sends the files to the model servers at ``urls``."""
    return (f"engine: openai\nendpoints: [{', '.join(urls)}]\napi_model: smollm2\n"
            f"max_output_tokens: 96\n{extra}")


def make_folder(root, n=120):
    root.mkdir()
    for i in range(n):
        sub = root / f"part{i % 4}"
        sub.mkdir(exist_ok=True)
        (sub / f"note{i}.txt").write_text(f"Note {i}: deliveries for depot {i % 9} were late.\n" * 3)
    (root / "code.py").write_text("def f():\n    return 1\n")
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    return n + 2


def small_folder(root, n=6):
    root.mkdir()
    for i in range(n):
        (root / f"Note{i}.txt").write_text(f"Depot {i} report: deliveries were late.\n")
    (root / "blob.bin").write_bytes(b"\x00\x01")
    (root / "empty.txt").write_bytes(b"")
    return n + 2


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def drop(window, *paths):
    """Drop ``paths`` on the window as a file manager would."""
    from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PyQt6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def open_folder(qtbot, window, folder):
    with qtbot.waitSignal(window.folder_ready, timeout=30_000):
        assert window.set_folder(str(folder))


def run(qtbot, window, fresh=False):
    with qtbot.waitSignal(window.backend_exited, timeout=RUN_TIMEOUT) as exited:
        window.start_run(fresh=fresh)
    assert exited.args[0] == 0, window.form.logView.toPlainText()


# A run_started event's fields as a CPU run of the tiny model sends them (a test names only
# the fields it is about; the backend's typed events need every one).
RUN_STARTED = {"run_id": 1, "folder": "/tmp/docs", "metrics_port": 0, "provider": "cpu",
               "model": "tiny-llama", "resumed": False, "pid": 1, "gpu": False,
               "demonstration": False, "workers": 1, "intra_op_threads": None,
               "sizing": "configured", "sizing_why": "workers: 1"}


def event_lines(*events: tuple[str, dict]) -> bytes:
    """Events as the backend writes them on stdout (its own EventWriter), as bytes."""
    out = io.StringIO()
    writer = EventWriter(out)
    for name, fields in events:
        if name == "run_started":
            fields = {**RUN_STARTED, **fields}
        writer.emit(name, **{**fields, "force": True} if name == "progress" else fields)
    return out.getvalue().encode()


def telemetry(generated: float, queue: float = 0.0, gpus: dict | None = None,
              processed: float = 0.0, prompt: float = 0.0) -> tuple[str, dict]:
    """One ``telemetry`` event's name and fields (the backend's shape)."""
    return ("telemetry", {"processed": processed, "generated_tokens": generated,
                          "prompt_tokens": prompt, "queue_depth": queue, "gpus": gpus or {}})
