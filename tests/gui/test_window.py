"""The window's state can be trusted (issue 13): offscreen, the real backend, the tiny model."""

import csv
import io
import os
import shutil
import subprocess
import sys

import pytest

from PyQt6.QtCore import Qt

from helios_desktop.config import save_user_settings
from helios_desktop.gui.settings_dialog import SettingsDialog, cpu_cores
from helios_desktop.store.lock import DatabaseLock
from helios_desktop.store.reader import LedgerReader

from conftest import REPO, TINY_MODEL
from support.gui import RUN_TIMEOUT, make_folder, open_folder, run, server_config, small_folder
from servers import LlamaServer, needs_server


# 1 --------------------------------------------------------------------------------------------

def test_start_needs_a_usable_model(qtbot, tmp_path, make_window):
    not_a_model = tmp_path / "empty-model"
    not_a_model.mkdir()
    w = make_window(f"model_path: {not_a_model}\n")
    folder = tmp_path / "f"
    small_folder(folder)
    open_folder(qtbot, w, folder)
    assert not w.form.startButton.isEnabled()
    assert not w.form.resumeButton.isEnabled()
    assert "cannot be used" in w.form.previewLabel.text()
    # The panel names the folder that is wrong; it does not offer to build the demo model.
    assert w.form.firstRunPanel.isVisible() and not w.form.buildModelButton.isVisible()
    w.start_run()
    assert not w.run.backend.running and not w.form.resumeButton.isEnabled()
    w.close()


def test_start_with_a_model_server_says_where_files_go(qtbot, tmp_path, make_window):
    # No local model at all, but a model server in the settings: Start is offered, and the
    # window says which server the files go to before anything is sent.
    w = make_window("engine: openai\nendpoints: [http://127.0.0.1:9/v1]\napi_model: smollm2\n")
    folder = tmp_path / "f"
    small_folder(folder)
    open_folder(qtbot, w, folder)
    assert w.session.engine_ready() == (True, "")
    assert w.form.startButton.isEnabled()
    assert ("Files will be sent to the model server http://127.0.0.1:9/v1 (model smollm2)"
            in w.form.previewLabel.text())
    w.close()


@pytest.mark.server
@pytest.mark.timeout(900)
@needs_server
def test_workers_panel_says_a_killed_endpoint_is_down(qtbot, tmp_path, make_window):
    """Two model servers, one killed before the run: the run finishes on the other, and the
    workers panel's line for the killed one says down, with why; the live one's says up."""
    live = LlamaServer(threads=2).start()
    killed = LlamaServer().start()
    killed.kill()
    try:
        w = make_window(server_config(
            [live.url, killed.url],
            "max_concurrency: 2\nrequest_timeout: 600\nendpoint_down_timeout: 600\n"))
        folder = tmp_path / "f"
        small_folder(folder, n=4)
        open_folder(qtbot, w, folder)
        with qtbot.waitSignal(w.backend_exited, timeout=600_000) as exited:
            w.start_run()
        assert exited.args[0] == 0, w.form.logView.toPlainText()
        table = w.form.workersTable
        lines = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
        assert lines[live.url] == "up"
        assert lines[killed.url].startswith("down: cannot connect"), lines
        w.close()
    finally:
        live.kill()


# 2 --------------------------------------------------------------------------------------------

def test_a_folder_shows_its_own_last_results(qtbot, window, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    total = small_folder(a)
    small_folder(b)
    open_folder(qtbot, window, a)
    run(qtbot, window)
    assert window.results.model.rowCount() == total

    open_folder(qtbot, window, b)  # never analyzed: nothing of a's run stays
    assert window.results.model.rowCount() == 0
    assert window.form.progressBar.value() == 0 and window.form.rateLabel.text() == ""
    assert not window.form.lastRunLabel.isVisible()
    assert not window.form.actionExportCsv.isEnabled()
    assert window.form.startButton.text() == "Start"

    open_folder(qtbot, window, a)  # analyzed before: its results, from the database
    assert window.results.model.rowCount() == total
    assert window.form.actionExportCsv.isEnabled()
    assert window.form.lastRunLabel.text().startswith("Last analyzed:")
    assert "tiny-llama" in window.form.lastRunLabel.text()
    assert window.form.startButton.text() == "Analyze changed files"
    assert window.form.reanalyzeButton.isVisible() and window.form.reanalyzeButton.isEnabled()
    assert window.form.historyTable.rowCount() == 1


# 5 --------------------------------------------------------------------------------------------

def test_results_of_another_model_are_not_reused(qtbot, window, tmp_path):
    folder = tmp_path / "f"
    small_folder(folder)
    open_folder(qtbot, window, folder)
    run(qtbot, window)
    run(qtbot, window)  # same model, nothing changed: results kept
    reader = LedgerReader(tmp_path / "gui.db")
    assert reader.runs()[0]["reused"] == 6
    assert "6 unchanged files kept the results" in window.form.lastRunLabel.text()
    other = tmp_path / "other-model"
    shutil.copytree(TINY_MODEL, other)
    save_user_settings({"model_path": str(other)})
    window.apply_settings()
    run(qtbot, window)
    latest = reader.runs()[0]
    assert latest["model"] == "other-model" and latest["reused"] == 0
    assert latest["done"] == 6
    run(qtbot, window, fresh=True)  # "Re-analyze all": nothing reused either
    assert reader.runs()[0]["reused"] == 0
    reader.close()
    # The History tab lists the four runs; any of them exports.
    assert window.form.historyTable.rowCount() == 4
    first = window.session.history[-1]["id"]
    out = tmp_path / "run1.csv"
    with qtbot.waitSignal(window.export_done, timeout=30_000) as done:
        window.exports.export_to(str(out), "csv", run_id=first)
    assert done.args[1] == 8
    assert len(list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))) == 9


def test_a_second_analysis_of_the_database_waits_its_turn(qtbot, window, tmp_path):
    """Issue 25 item 4: another analysis holds the database; the window queues this one,
    names the folder it waits for, and starts it by itself once the lock is free."""
    folder = tmp_path / "f"
    small_folder(folder)
    open_folder(qtbot, window, folder)
    lock = DatabaseLock(tmp_path / "gui.db", "analysis", folder="/srv/other-folder").acquire()
    try:
        window.start_run()
        assert window.run.waiting is not None and not window.run.backend.running
        assert "Queued: waiting for the analysis of /srv/other-folder" in window.last_message
        assert f"pid {os.getpid()}" in window.last_message
        assert window.form.stopButton.text() == "Cancel" and not window.form.startButton.isEnabled()
    finally:
        lock.release()
    with qtbot.waitSignal(window.backend_exited, timeout=RUN_TIMEOUT) as exited:
        pass  # the queue's timer starts it once the lock is gone
    assert exited.args[0] == 0, window.form.logView.toPlainText()
    assert window.run.waiting is None and window.form.stopButton.text() == "Stop"


# 6 --------------------------------------------------------------------------------------------

def test_settings_refuse_values_they_would_change(qtbot, window, tmp_path):
    dialog = SettingsDialog(window.session.settings, window)
    qtbot.addWidget(dialog)
    f = dialog.form
    f.workersEdit.setText("999")
    dialog.save()
    assert dialog.saved_to is None and "'workers'" in f.errorLabel.text() and "999" in f.errorLabel.text()
    f.workersEdit.setText("1")
    f.batchEdit.setText("abc-5")
    dialog.save()
    assert dialog.saved_to is None and "abc-5" in f.errorLabel.text()
    f.batchEdit.setText("4")
    f.modelEdit.setText(str(tmp_path / "no-such-model"))
    dialog.save()
    assert dialog.saved_to is None and "Model folder" in f.errorLabel.text()
    f.modelEdit.setText(str(TINY_MODEL))
    f.workersEdit.setText(str(cpu_cores() + 1))
    assert "CPU cores" in f.warningLabel.text()
    # Messages have their room from the start: the form does not jump when one appears.
    assert f.warningLabel.minimumHeight() >= 36 and f.errorLabel.minimumHeight() >= 36
    dialog.save()
    assert dialog.saved_to is not None
    # workers: auto (the default) is accepted as typed
    dialog = SettingsDialog(window.session.settings, window)
    qtbot.addWidget(dialog)
    dialog.form.workersEdit.setText("auto")
    assert dialog.problem() == "" and dialog.form.warningLabel.text() == ""
    dialog.save()
    assert dialog.saved_to is not None
    assert "workers: auto" in dialog.saved_to.read_text()


# 7 --------------------------------------------------------------------------------------------

def test_gui_on_a_missing_folder_shows_the_window_with_the_message(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    missing = tmp_path / "nonexistent"
    out = subprocess.run([sys.executable, "-m", "helios_desktop", "gui", str(missing),
                          "--exit-when-ready"], capture_output=True, text=True, cwd=REPO,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "window ready" in out.stdout and "does not exist" in out.stdout


def test_helios_folder_opens_the_window_on_it(tmp_path):
    folder = tmp_path / "f"
    small_folder(folder)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "helios_desktop", str(folder),
                          "--exit-when-ready"], capture_output=True, text=True, cwd=REPO,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "window ready" in out.stdout


# 8 --------------------------------------------------------------------------------------------

@pytest.mark.qt_log_ignore("does not support QPlatformServices")
def test_results_table_is_honest(qtbot, window, tmp_path):
    folder = tmp_path / "docs"
    total = small_folder(folder)
    open_folder(qtbot, window, folder)
    run(qtbot, window)
    f = window.form
    header = f.resultsView.horizontalHeader()
    assert not 0 <= header.sortIndicatorSection() < window.results.model.columnCount()  # no false arrow
    paths = [window.results.model.data(window.results.model.index(r, 0)) for r in range(total)]
    assert "Note0.txt" in paths and not any(p.startswith("/") for p in paths)
    f.resultsView.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    ordered = [window.results.model.data(window.results.model.index(r, 0)) for r in range(total)]
    assert ordered == sorted(ordered, key=str.lower)
    assert f.countLabel.text() == f"{total:,} files"

    f.resultsView.selectRow(ordered.index("Note0.txt"))
    assert "Note0.txt · done" in f.detailTitle.text()
    assert f.detailFields.rowCount() > 0 and f.detailText.isHidden()  # a form, no JSON
    f.jsonButton.setChecked(True)
    assert not f.detailText.isHidden() and "{" in f.detailText.toPlainText()
    f.filterEdit.setText("Note1")
    assert f.countLabel.text() == f"1 of {total}"
    assert "Note1" in f.detailTitle.text() or f.detailFields.rowCount() == 0
    f.filterEdit.setText("no such thing at all")
    assert f.countLabel.text().startswith("nothing matches")
    assert f.detailFields.rowCount() == 0 and f.detailTitle.text().startswith("Select a row")

    f.filterEdit.setText("Note1")
    out = tmp_path / "view.csv"
    with qtbot.waitSignal(window.export_done, timeout=30_000):
        window.exports.export_to(str(out), "csv", view_only=True)
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    assert len(rows) == 2 and rows[1][1].endswith("Note1.txt")
    assert window.exports.default_path("csv") == str(tmp_path / "docs-helios.csv")

    f.resultsView.selectRow(0)
    qtbot.mouseClick(f.openFileButton, Qt.MouseButton.LeftButton)
    # In the status bar, not the preview line (issue 25: that keeps the folder's count).
    assert "No application could open" in f.statusbar.currentMessage()


# 9 --------------------------------------------------------------------------------------------

def test_charts_start_at_zero_with_units_and_a_placeholder(qtbot, window):
    charts = window.live.charts
    assert not charts.plots["gpu_util"].isVisible() and not charts.plots["gpu_mem"].isVisible()
    assert charts.placeholders["files_per_s"].isVisible()
    plot = charts.plots["files_per_s"]
    assert plot.getAxis("bottom").labelText == "time (s)"
    assert plot.viewRange()[1][0] == 0
    charts.add_rate(-3.0)
    charts.add_rate(0.4)
    assert list(charts.rings["files_per_s"].view()[1]) == [0.0, 0.4]
    assert not charts.placeholders["files_per_s"].isVisible()
    low, high = plot.viewRange()[1]
    assert low == 0 and high >= 1


def test_the_line_and_the_chart_show_one_rate(qtbot, window, tmp_path):
    folder = tmp_path / "docs"
    make_folder(folder, n=40)
    open_folder(qtbot, window, folder)
    run(qtbot, window)
    ring = window.live.charts.rings["files_per_s"]
    assert len(ring) >= 1 and min(ring.view()[1]) >= 0
    assert window.live.rate.rate == pytest.approx(ring.view()[1][-1])


# 10 -------------------------------------------------------------------------------------------

def test_prescan_counts_an_empty_file_as_skipped(qtbot, window, tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("hello\n")
    (folder / "empty.txt").write_bytes(b"")
    with qtbot.waitSignal(window.folder_ready, timeout=30_000) as ready:
        window.set_folder(str(folder))
    result = ready.args[0]
    assert result["kinds"]["text"] == 1 and result["skipped"] == 1


# 11, 14, 15 -----------------------------------------------------------------------------------

def test_overview_history_and_help(qtbot, window, tmp_path):
    folder = tmp_path / "f"
    total = small_folder(folder) + 1
    (folder / "contact.txt").write_text("Write to max.muster@firma.ch about the depot.\n")
    open_folder(qtbot, window, folder)
    run(qtbot, window)
    data = window.overview.panel.data
    assert data["total"] == total and data["status"]["skipped"] == 2
    assert data["kind"][".txt"] == 8
    # Only the file with evidence is flagged (the tiny model says yes at random), and the
    # evidence is shown.
    personal = window.overview.panel.tables["personal"]
    assert personal.rowCount() == 1 and personal.item(0, 0).text() == "contact.txt"
    assert personal.item(0, 1).text() == "e-mail (line 1): ma***@firma.ch"
    window.form.filterEdit.setText("contact")
    window.form.resultsView.selectRow(0)
    fields = window.form.detailFields
    row = next(r for r in range(fields.rowCount()) if fields.item(r, 0).text() == "contains personal data")
    assert fields.item(row, 1).text() == "yes: e-mail (line 1): ma***@firma.ch"
    assert fields.item(row, 2).text() == "evidence"
    window.form.filterEdit.setText("")
    largest = window.overview.panel.tables["largest"]
    assert largest.rowCount() == min(10, total) and not largest.item(0, 0).text().startswith("/")
    index = window.overview.panel.labels["status"].index("skipped")
    window.overview.panel.click_bar("status", index)
    assert window.form.tabs.currentWidget() is window.form.resultsTab
    assert window.results.model.rowCount() == 2
    window.form.statusCombo.setCurrentIndex(0)
    window.overview.panel.click_bar("kind", window.overview.panel.labels["kind"].index(".bin"))
    assert window.results.model.rowCount() == 1 and window.form.extraFilterButton.text().startswith(
        "extension: .bin")
    window.form.extraFilterButton.click()
    assert window.results.model.rowCount() == total and window.form.extraFilterButton.isHidden()
    language = window.overview.panel.labels["language"][0]
    window.overview.panel.click_bar("language", 0)
    assert window.results.model.rowCount() == data["language"][language]
    window.form.extraFilterButton.click()
    assert window.form.historyTable.rowCount() == 1
    assert "tiny-llama" in window.about_text() and "Gemma" in window.about_text()
    assert "F5" in window.shortcuts_text() and "Esc" in window.shortcuts_text()
    assert window.form.actionStop.shortcut().toString() == "Esc"


# issue 11 -------------------------------------------------------------------------------------

def test_the_quality_filter_shows_who_decided(qtbot, window, tmp_path):
    """A real ledger whose results went through the real gate: the Results tab's quality
    filter shows the model-decided rows, the refused ones, and the ones never asked."""
    from helios_desktop.analysis.outcome import finish
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.base import Generation
    from helios_desktop.records import Document, FileTask, ScanChunk
    from helios_desktop.scan.kinds import detect_kind
    from helios_desktop.store.ledger import Ledger

    folder = tmp_path / "garden"
    folder.mkdir()
    texts = {"plan.txt": "The tomatoes go to the south bed; purple carrots by the shed.\n",
             "loop.txt": "Compost bin notes: turn the heap weekly and keep it damp.\n",
             "cut.txt": "Seed order: basil, dill and two kinds of beans for May.\n",
             "quiet.txt": "Watering rota: Ana on Mondays, Jo on Thursdays.\n"}
    answers = {  # what a model answered for each file
        "plan.txt": ('{"summary": "Tomatoes move to the south bed, purple carrots by the shed.", '
                     '"category": "other", "language": "English", "keywords": ["tomatoes", '
                     '"carrots"], "contains_personal_data": false}', None),
        "loop.txt": ('{"summary": "This text This text This text This text.", "category": "log", '
                     '"language": "English", "keywords": ["x", "x"], "contains_personal_data": false}',
                     None),
        "cut.txt": ('{"summary": "Seed order for', None),
        "quiet.txt": ('{"summary": "A watering rota for Ana and Jo.", "category": "other", '
                      '"language": "English", "keywords": ["watering"], '
                      '"contains_personal_data": false}', frozenset()),
    }
    for name, text in texts.items():
        (folder / name).write_text(text)
    ledger = Ledger(tmp_path / "gui.db")  # the window's database (see the window fixture)
    root = os.fsencode(folder)
    run_id = ledger.start_run(root, "tiny-llama", "cpu", {})
    paths = {os.fsencode(folder / n): n for n in texts}
    ledger.add_discovered(run_id, ScanChunk(tasks=[FileTask(p, 10, 1) for p in paths]))
    outcomes = []
    for task in ledger.lease(run_id, 10):
        name = paths[task.path]
        kind = detect_kind(task.path, texts[name])
        doc = Document(task.path, kind.label, texts[name], hints=kind.hints())
        answer, fields = answers[name]
        gen = Generation(answer, 50, 30, name != "cut.txt")
        outcomes.append((task.file_id, finish(doc, gen, 0.1, load_schema(None), 160, fields)))
    ledger.record(outcomes)
    ledger.finish_run(run_id, "completed", 0)
    ledger.close()

    open_folder(qtbot, window, folder)
    f = window.form

    def shown() -> set[str]:
        model = window.results.model
        return {model.data(model.index(r, 0)) for r in range(model.rowCount())}

    assert shown() == set(texts)
    choose = {key: i for i in range(f.qualityCombo.count()) if (key := f.qualityCombo.itemData(i)) is not None}
    f.qualityCombo.setCurrentIndex(choose["model"])
    assert shown() == {"plan.txt"}
    assert f.countLabel.text() == "1 of 4"
    f.resultsView.selectRow(0)
    assert "plan.txt" in f.detailTitle.text()
    f.qualityCombo.setCurrentIndex(choose["evidence"])
    assert shown() == {"loop.txt", "cut.txt"}  # refused by the gate, or no usable answer
    f.qualityCombo.setCurrentIndex(choose["not_asked"])
    assert shown() == {"quiet.txt"}
    f.qualityCombo.setCurrentIndex(choose["unchecked"])
    assert shown() == set()
    f.qualityCombo.setCurrentIndex(choose[""])
    assert shown() == set(texts)


def test_the_window_says_when_workers_auto_measures_first(qtbot, window, tmp_path, monkeypatch):
    """workers: auto, nothing cached: the backend calibrates before the run starts; the
    window says so instead of looking stuck, then the run goes on as usual."""
    monkeypatch.delenv("HELIOS_WORKERS")  # as shipped; the cache is this test's own
    folder = tmp_path / "f"
    total = small_folder(folder)
    open_folder(qtbot, window, folder)
    with qtbot.waitSignal(window.backend_exited, timeout=RUN_TIMEOUT) as exited:
        window.start_run()
        qtbot.waitUntil(lambda: "Measuring how many workers" in window.form.rateLabel.text(),
                        timeout=RUN_TIMEOUT)
        assert "once per machine and model" in window.statusBar().currentMessage()
    assert exited.args[0] == 0, window.form.logView.toPlainText()
    assert window.results.model.rowCount() == total
    assert "Measuring" not in window.form.rateLabel.text()  # the run's own line replaced it
