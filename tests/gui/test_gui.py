"""The desktop window, offscreen, driving the real backend on the tiny model."""

import csv
import io
import os
import signal
import subprocess
import sys

import pytest

from PyQt6.QtCore import Qt

from helios_desktop.engines.devices import gpu_count

from conftest import REPO, TINY_MODEL
from support.gui import RUN_TIMEOUT, alive, drop, make_folder, server_config
from servers import LlamaServer, needs_server


def test_drop_run_browse_export(qtbot, window, tmp_path):
    folder = tmp_path / "docs"
    total = make_folder(folder)
    with qtbot.waitSignal(window.folder_ready, timeout=30_000) as ready:
        drop(window, folder)
    assert ready.args[0]["files"] == total
    assert window.form.previewLabel.text().startswith(f"{total:,} files")
    assert window.form.startButton.isEnabled()

    progress = []
    window.run.backend.event_received.connect(lambda e: progress.append(e) if e["event"] == "progress" else None)
    with qtbot.waitSignal(window.backend_exited, timeout=RUN_TIMEOUT) as exited:
        qtbot.mouseClick(window.form.startButton, Qt.MouseButton.LeftButton)
    assert exited.args[0] == 0, window.form.logView.toPlainText()
    assert progress, "no progress signals arrived"
    assert window.run.last_finished["status"] == "completed"
    assert window.form.progressBar.value() == window.form.progressBar.maximum() == total
    assert window.results.model.rowCount() == total
    assert window.form.gpuNote.text() == ("" if gpu_count() else "No NVIDIA GPU: running on CPU")
    # The stall monitor ran (tests assert no wall-clock figure; the log line reports it).
    assert window.run.stall.samples > 0
    assert "worst stall" in window.form.logView.toPlainText()

    # browse: filter and detail pane
    window.form.statusCombo.setCurrentText("skipped")
    assert window.results.model.rowCount() == 1
    window.form.resultsView.selectRow(0)
    assert "binary" in window.form.detailTitle.text()
    window.form.statusCombo.setCurrentIndex(0)
    window.form.filterEdit.setText("code.py")
    assert window.results.model.rowCount() == 1

    out = tmp_path / "gui.csv"
    with qtbot.waitSignal(window.export_done, timeout=30_000):
        window.exports.export_to(str(out), "csv")
    cli = subprocess.run([sys.executable, "-m", "helios_desktop", "export", "--db",
                          str(tmp_path / "gui.db"), "--format", "csv"], capture_output=True,
                         text=True, cwd=REPO, check=True)
    gui_rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    cli_rows = list(csv.reader(io.StringIO(cli.stdout, newline="")))
    assert gui_rows == cli_rows and len(gui_rows) == total + 1


def test_stop_then_resume_loses_nothing(qtbot, window, tmp_path):
    folder = tmp_path / "many"
    total = make_folder(folder, n=400)
    with qtbot.waitSignal(window.folder_ready, timeout=30_000):
        window.set_folder(str(folder))
    window.start_run()
    qtbot.waitUntil(lambda: window.live.last_progress.get("done", 0) > 0, timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(window.backend_exited, timeout=RUN_TIMEOUT) as exited:
        qtbot.mouseClick(window.form.stopButton, Qt.MouseButton.LeftButton)
        # While stopping, the window says why and for how long at most.
        assert "Stopping" in window.form.rateLabel.text()
        assert " s " in window.form.rateLabel.text()
        assert not window.form.stopButton.isEnabled()
    assert exited.args[0] == 130
    assert window.run.last_finished["status"] == "interrupted"
    # After the stop: no ETA, and one way on that says what it does.
    assert "ETA" not in window.form.rateLabel.text()
    assert window.form.resumeButton.isEnabled()
    assert not window.form.startButton.isVisible() and not window.form.startButton.isEnabled()
    assert "Resume continues" in window.form.lastRunLabel.text()
    assert window.form.reanalyzeButton.isVisible()
    with qtbot.waitSignal(window.backend_exited, timeout=RUN_TIMEOUT) as exited:
        qtbot.mouseClick(window.form.resumeButton, Qt.MouseButton.LeftButton)
    assert exited.args[0] == 0
    assert window.run.last_finished["status"] == "completed"
    counts = window.run.last_finished["counts"]
    assert counts["done"] + counts["failed"] + counts["skipped"] == total
    assert window.results.model.rowCount() == total


def test_a_crashed_backend_is_reported_and_the_window_stays_usable(qtbot, window, tmp_path):
    folder = tmp_path / "c"
    make_folder(folder, n=300)
    with qtbot.waitSignal(window.folder_ready, timeout=30_000):
        window.set_folder(str(folder))
    window.start_run()
    qtbot.waitUntil(lambda: window.live.last_progress.get("done", 0) > 0, timeout=RUN_TIMEOUT)
    worker_pids = [int(w["pid"]) for w in window.live.workers.values() if w.get("pid")]
    assert worker_pids
    with qtbot.waitSignal(window.backend_exited, timeout=30_000) as exited:
        os.kill(window.run.backend.process.processId(), signal.SIGKILL)
    assert exited.args[0] == -1
    assert "crashed" in window.last_message and "signal 9 (SIGKILL)" in window.last_message
    log = window.form.logView.toPlainText()
    assert "backend was killed by signal 9 (SIGKILL)" in log  # the Log tab says how it ended
    states = [w["state"] for w in window.live.workers.values()]
    assert states and "busy" not in states and "ready" not in states
    # Its workers die with it (parent-death signal), not 20 s later.
    qtbot.waitUntil(lambda: not any(alive(pid) for pid in worker_pids), timeout=10_000)
    assert window.form.resumeButton.isEnabled()
    with qtbot.waitSignal(window.backend_exited, timeout=RUN_TIMEOUT) as exited:
        qtbot.mouseClick(window.form.resumeButton, Qt.MouseButton.LeftButton)
    assert exited.args[0] == 0 and window.run.last_finished["status"] == "completed"
    assert "crashed" not in window.form.previewLabel.text()  # no stale banner


def test_bad_drops_get_clear_messages(qtbot, window, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    drop(window, f)
    assert "is a file" in window.last_message
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    drop(window, a, b)
    assert "one folder at a time" in window.last_message
    drop(window, tmp_path / "missing")
    assert "does not exist" in window.last_message
    assert not window.form.startButton.isEnabled()


def test_closing_stops_the_prescan_thread(qtbot, window, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(3000):
        (folder / f"{i}.txt").write_text("x")
    window.set_folder(str(folder))
    assert window.folder_panel.prescan is not None
    window.close()  # the fixture then checks that no QThread is left running
    assert window.folder_panel.prescan is None


def test_first_run_offers_a_model(qtbot, make_window, tmp_path, isolated_home):
    cfg = isolated_home / "config" / "helios" / "config.yaml"
    fresh = make_window("")  # no model, none built
    assert fresh.form.firstRunPanel.isVisible()
    assert not fresh.first_run.use_model(str(tmp_path))  # not a model folder: says so, stays
    assert "not a model folder" in fresh.last_message
    assert fresh.first_run.use_model(str(TINY_MODEL))
    assert not fresh.form.firstRunPanel.isVisible()
    assert f"model_path: {TINY_MODEL}" in cfg.read_text()
    fresh.close()


def test_prescan_classifies_files_as_the_run_does(qtbot, window, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")                       # the run skips it: empty
    (folder / "data.txt").write_bytes(b"header\x00\x01binary")    # the run skips it: binary
    (folder / "notes.txt").write_text("Minutes of the budget meeting.\n")
    (folder / "tool.py").write_text("import sys\nprint(sys.argv)\n")
    (folder / "scan0042").write_bytes(b"%PDF-1.7\n%\xe2\xe3\n")  # a PDF without extension
    with qtbot.waitSignal(window.folder_ready, timeout=30_000) as ready:
        assert window.set_folder(str(folder))
    assert ready.args[0]["kinds"] == {"document": 1, "text": 1, "code": 1, "image": 0,
                                      "archive": 0, "skip": 2}
    assert "40% to skip" in window.form.previewLabel.text()
    assert "20% documents" in window.form.previewLabel.text()


@pytest.mark.server
@needs_server
def test_window_names_the_server_and_shows_it_in_the_workers_panel(qtbot, tmp_path, make_window):
    server = LlamaServer(threads=2).start()
    try:
        w = make_window(server_config([server.url]))
        folder = tmp_path / "f"
        folder.mkdir()
        for i in range(3):
            (folder / f"n{i}.txt").write_text(f"Note {i}: the depot opens at {i + 6} am.\n")
        drop(w, folder)
        qtbot.waitUntil(lambda: w.form.startButton.isEnabled(), timeout=30_000)
        assert f"Files will be sent to the model server {server.url}" in w.form.previewLabel.text()
        with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT):
            w.start_run()
        table = w.form.workersTable
        cells = [table.item(r, 0).text() for r in range(table.rowCount())]
        assert server.url in cells
        qtbot.waitUntil(lambda: not w.run.backend.running, timeout=30_000)
        w.close()
    finally:
        server.kill()
