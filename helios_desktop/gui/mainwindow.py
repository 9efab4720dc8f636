"""The main window: drop a folder, watch the run live, browse and export the results.

What the window shows is always the open folder's: opening a folder resets the live
view and shows the folder's last run from the database; the buttons say what they do
(Start, "Analyze changed files", "Re-analyze all", Resume) and only the ones that
mean something are offered.
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..analysis.quality import QUALITY_CHOICES, decided_note, verdict_lines
from ..analysis.schema import CATEGORIES
from ..config import ConfigError, Settings, load_settings
from ..engines.model_folder import model_note
from ..folders import FolderError, Progress, check_folder, database_path
from ..store.reader import LedgerReader, personal_evidence
from .backend import BackendProcess, backend_command
from .charts import ChartsPanel, RateWindow
from .forms import form_class, style_sheet
from .overview import OverviewPanel
from .poller import MetricsPoller
from .prescan import PreScanWorker, describe
from .qt import (QDesktopServices, QFileDialog, QHeaderView, QMainWindow, QMessageBox, QProcess,
                 QSettings, Qt, QTableWidgetItem, QThread, QTimer, QUrl, QVBoxLayout, pyqtSignal,
                 pyqtSlot)
from .results import ResultsModel
from .settings_dialog import SettingsDialog
from .stall import StallMonitor
from .workers import ExportWorker, start_in_thread

STATUSES = ["", "done", "failed", "skipped", "pending", "leased"]

SHORTCUTS = [("Ctrl+O", "Open a folder"), ("F5", "Start (or resume) the analysis"),
             ("Esc", "Stop the analysis"), ("Ctrl+F", "Search the results"),
             ("Ctrl+E", "Export CSV"), ("Ctrl+Q", "Quit")]


def when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "?"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 3600}h {seconds // 60 % 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m {seconds % 60:02d}s"


def exit_description(code: int, sig: int) -> str:
    """'was killed by signal 9 (SIGKILL)' or 'exited with code 1'."""
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "unknown"
        return f"was killed by signal {sig} ({name})"
    return "could not be started" if code == -1 else f"exited with code {code}"


class MainWindow(QMainWindow):
    """Holds the Designer form by composition; adds charts and models in code."""

    folder_ready = pyqtSignal(dict)     # pre-scan result
    run_finished = pyqtSignal(dict)     # the run_finished event
    backend_exited = pyqtSignal(int, str)
    message = pyqtSignal(str)
    export_done = pyqtSignal(str, int)
    _poll_port = pyqtSignal(int)
    _poll_stop = pyqtSignal()

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.form = form_class("main_window")()
        self.form.setupUi(self)
        self.setStyleSheet(style_sheet())
        self.settings = settings or load_settings()
        self.qsettings = QSettings("Helios", "Helios Desktop")
        f = self.form

        self.charts = ChartsPanel()
        layout = QVBoxLayout(f.chartsHost)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.charts)
        f.chartsHost.setMinimumHeight(320)
        self.rate = RateWindow()

        self.overview = OverviewPanel()
        layout = QVBoxLayout(f.overviewHost)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.overview)
        self.overview.filter_requested.connect(self.filter_results)

        self.model = ResultsModel(self)
        view = f.resultsView
        view.setModel(self.model)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # Rows come in the order files were found: no column shows a sort arrow until the
        # person sorts by one.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
        view.setColumnWidth(0, 300)
        view.setColumnWidth(4, 340)
        view.selectionModel().currentRowChanged.connect(self._show_detail)
        self.model.modelReset.connect(self._results_changed)
        f.resultsSplitter.setStretchFactor(0, 3)
        f.resultsSplitter.setStretchFactor(1, 2)
        f.detailFields.setMinimumHeight(150)
        fields_header = f.detailFields.horizontalHeader()
        fields_header.setStretchLastSection(False)
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.ResizeToContents)):
            fields_header.setSectionResizeMode(col, mode)
        f.detailFields.verticalHeader().setVisible(False)
        f.statusCombo.addItems(["all statuses"] + STATUSES[1:])
        f.categoryCombo.addItems(["all categories", *CATEGORIES])
        for label, key in QUALITY_CHOICES:
            f.qualityCombo.addItem(label, key)
        f.filterEdit.textChanged.connect(self._apply_filters)
        f.statusCombo.currentIndexChanged.connect(self._apply_filters)
        f.categoryCombo.currentIndexChanged.connect(self._apply_filters)
        f.qualityCombo.currentIndexChanged.connect(self._apply_filters)
        f.openFileButton.clicked.connect(lambda: self._open_selected(folder=False))
        f.showFolderButton.clicked.connect(lambda: self._open_selected(folder=True))
        self._extra_filter = ("", "")  # (language or extension, value) from the Overview
        f.extraFilterButton.clicked.connect(self._clear_extra_filter)
        f.jsonButton.toggled.connect(f.detailText.setVisible)
        f.jsonButton.toggled.connect(
            lambda on: f.jsonButton.setText("Hide JSON" if on else "Show JSON"))

        f.actionOpenFolder.triggered.connect(self._choose_folder)
        f.actionExportCsv.triggered.connect(lambda: self._choose_export("csv"))
        f.actionExportJsonl.triggered.connect(lambda: self._choose_export("jsonl"))
        f.actionSettings.triggered.connect(self.open_settings)
        f.actionQuit.triggered.connect(self.close)
        f.actionStart.triggered.connect(self._start_shortcut)
        f.actionStop.triggered.connect(self.stop_run)
        f.actionFind.triggered.connect(self._find)
        f.actionAbout.triggered.connect(
            lambda: QMessageBox.about(self, "About Helios", self.about_text()))
        f.actionShortcuts.triggered.connect(
            lambda: QMessageBox.information(self, "Keyboard shortcuts", self.shortcuts_text()))
        f.buildModelButton.clicked.connect(self.build_default_model)
        f.chooseModelButton.clicked.connect(self._choose_model)
        f.startButton.clicked.connect(lambda: self.start_run())
        f.reanalyzeButton.clicked.connect(lambda: self.start_run(fresh=True))
        f.resumeButton.clicked.connect(lambda: self.start_run())
        f.stopButton.clicked.connect(self.stop_run)
        f.historyTable.itemSelectionChanged.connect(self._history_selected)
        f.historyShowButton.clicked.connect(self._history_show)
        f.historyExportButton.clicked.connect(self._history_export)

        self.backend = BackendProcess(self)
        self.backend.event_received.connect(self._on_event)
        self.backend.stderr_line.connect(self._log)
        self.backend.exited.connect(self._on_exit)
        self.backend.stopping.connect(self._stopping_tick)
        self._stop_timer = QTimer(self)
        self._stop_timer.setInterval(1000)
        self._stop_timer.timeout.connect(self._stopping_tick)

        self.poller = MetricsPoller()
        self.poller.sample.connect(self.charts.add_sample)
        self._poll_port.connect(self.poller.set_port)
        self._poll_stop.connect(self.poller.stop)
        self.poller_thread = start_in_thread(self.poller, self)

        self.stall = StallMonitor(parent=self)
        self.prescan_thread: QThread | None = None
        self.prescan_worker: PreScanWorker | None = None
        self.export_threads: list[tuple[QThread, ExportWorker]] = []
        self.folder: str | None = None
        self.preview: dict | None = None
        self.workers: dict[int, dict] = {}
        self.endpoints: dict[str, dict] = {}  # engine openai: one line each in the workers panel
        self.last_progress: dict = {}
        self.last_finished: dict | None = None
        self.last_message = ""
        self.history: list[dict] = []
        self._selected: bytes = b""
        self._closing = False
        self._started_at = 0.0
        self.model_builder: QProcess | None = None
        geometry = self.qsettings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._update_first_run()
        self._update_buttons()

    # -- the engine: a usable model, or a model server ---------------------------------------

    def endpoint_target(self) -> str | None:
        """Where files go when the settings name a model server (issue 12's `engine:
        openai`, `endpoints`, `api_model`); None for the local model."""
        from ..engines.registry import OPENAI, choose_engine

        choice = choose_engine(self.settings, resolve=False)
        return choice.target if choice.engine == OPENAI else None

    def engine_ready(self) -> tuple[bool, str]:
        """Can a run start, and if not, why (one sentence a person can act on)."""
        if self.endpoint_target():
            return True, ""
        usable, note = model_note(self.settings.model_path)
        if usable:
            return True, ""
        if self.settings.model_path:
            return False, (f"The model folder {self.settings.model_path} cannot be used: {note} "
                           "Choose another in File › Settings.")
        return False, "No model is set up yet: build the demonstration model or choose a model folder."

    def model_ready(self) -> bool:
        return self.engine_ready()[0]

    def _update_first_run(self) -> None:
        ready, why = self.engine_ready()
        f = self.form
        f.firstRunPanel.setVisible(not ready)
        if not ready and self.model_builder is None:
            missing = bool(self.settings.model_path)
            f.firstRunLabel.setText(why if missing else
                                    "No model is set up yet. Helios can build its small "
                                    "demonstration model now (a few minutes, once), or you can "
                                    "choose a model folder.")
            f.buildModelButton.setVisible(not missing)

    def build_default_model(self) -> None:
        """Build the demonstration model in a child process, showing its progress."""
        if self.model_builder is not None:
            return
        cmd = backend_command() + ["models", "build-default"]
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.readyReadStandardOutput.connect(self._builder_output)
        proc.finished.connect(self._builder_finished)
        self.model_builder = proc
        self.form.buildModelButton.setEnabled(False)
        self.form.firstRunLabel.setText("Building the demonstration model…")
        proc.start(cmd[0], cmd[1:])

    def _builder_output(self) -> None:
        text = bytes(self.model_builder.readAllStandardOutput()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self._log(line)
                if line.startswith("helios:"):
                    self.form.firstRunLabel.setText(line.removeprefix("helios:").strip())

    def _builder_finished(self, code: int, _status) -> None:
        self.model_builder = None
        self.form.buildModelButton.setEnabled(True)
        if code == 0 and self.model_ready():
            self._update_first_run()
            self._update_buttons()
            self._status("The demonstration model is ready.")
        else:
            self.form.firstRunLabel.setText(
                f"Building the model failed (exit code {code}); see the Log tab. You can also "
                "choose a model folder.")

    def _choose_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.use_model(folder)

    def use_model(self, folder: str) -> bool:
        from ..config import save_user_settings
        usable, note = model_note(folder)
        if not usable:
            self.show_message(note)
            return False
        save_user_settings({"model_path": folder})
        self.settings = load_settings()
        self._update_first_run()
        self._update_buttons()
        self._status(f"Using the model in {folder}")
        return True

    # -- messages -----------------------------------------------------------------------------

    def _status(self, text: str) -> None:
        self.form.statusbar.showMessage(text)

    def show_message(self, text: str) -> None:
        """A message for the user (plain text): preview line, status bar and log."""
        self.last_message = text
        self.form.previewLabel.setText(text)
        self._status(text)
        self._log(text)
        self.message.emit(text)

    def _log(self, line: str) -> None:
        self.form.logView.appendPlainText(line)

    @property
    def database(self) -> Path:
        return database_path(self.settings)

    def _reader(self) -> LedgerReader:
        return LedgerReader(self.database)

    # -- choosing a folder -------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self.form.dropZone.setProperty("hover", True)
            self.form.dropZone.style().polish(self.form.dropZone)

    def dragLeaveEvent(self, event) -> None:
        self.form.dropZone.setProperty("hover", False)
        self.form.dropZone.style().polish(self.form.dropZone)

    def dropEvent(self, event) -> None:
        self.dragLeaveEvent(event)
        urls = event.mimeData().urls()
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        event.acceptProposedAction()
        if len(paths) != 1:
            self.show_message("Drop one folder at a time (you dropped "
                              f"{len(paths) or len(urls)} items).")
            return
        self.set_folder(paths[0])

    def _choose_folder(self) -> None:
        start = self.qsettings.value("last_folder", str(Path.home()))
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to analyze", start)
        if folder:
            self.set_folder(folder)

    def set_folder(self, path: str) -> bool:
        """Check the folder, show its last results and start its pre-scan; False (with a
        message) when unusable."""
        if self.backend.running:
            self.show_message("A run is in progress; stop it before choosing another folder.")
            return False
        try:
            folder = check_folder(path)
        except FolderError as exc:
            message = str(exc)
            self.show_message(message[:1].upper() + message[1:] + ".")
            return False
        self._cancel_prescan()
        self.folder = str(folder)
        self.preview = None
        self.qsettings.setValue("last_folder", self.folder)
        self.form.dropZone.setText(self.folder)
        self.form.previewLabel.setText("Counting files…")
        self._reset_live_view()
        self._show_folder_results()
        self._update_buttons()
        worker = PreScanWorker(self.folder, self.settings)
        # Bound methods of this window: Qt queues the calls to the GUI thread.
        worker.progress.connect(self._prescan_progress)
        worker.done.connect(self._prescan_done)
        worker.failed.connect(self._worker_failed)
        self.prescan_worker = worker
        self.prescan_thread = start_in_thread(worker, self)
        self.prescan_thread.finished.connect(self._prescan_thread_gone)
        return True

    def _reset_live_view(self) -> None:
        """Nothing of the previous folder's run stays on screen."""
        f = self.form
        self.workers.clear()
        self.endpoints.clear()
        f.workersTable.setRowCount(0)
        self.last_progress = {}
        self.last_finished = None
        self.rate.reset()
        self.charts.reset()
        f.progressBar.setMaximum(1)
        f.progressBar.setValue(0)
        f.rateLabel.setText("")
        f.demoNote.setVisible(False)

    def _read_history(self) -> dict | None:
        """Read the open folder's runs (newest first) into ``history``; the newest or None."""
        folder = os.fsencode(self.folder) if self.folder else None
        reader = self._reader()
        try:
            self.history = reader.runs(folder) if folder else []
        finally:
            reader.close()
        return self.history[0] if self.history else None

    def _show_folder_results(self) -> None:
        """The open folder's last run, from the database: results, overview, history."""
        latest = self._read_history()
        f = self.form
        self._extra_filter = ("", "")  # an Overview click on another folder's bar
        self.model.query = self.model.query.with_(language="", extension="")
        f.extraFilterButton.setVisible(False)
        if latest is None:
            self.model.clear()
            f.lastRunLabel.setVisible(False)
        else:
            self.model.open(self.database, latest["id"], self.folder)
            f.lastRunLabel.setText(self._last_run_text(latest))
            f.lastRunLabel.setVisible(True)
        has_rows = latest is not None
        f.actionExportCsv.setEnabled(has_rows)
        f.actionExportJsonl.setEnabled(has_rows)
        self._fill_history()
        self._refresh_overview()

    def _last_run_text(self, run: dict) -> str:
        counts = (f"{run['done']:,} done, {run['failed']:,} failed, {run['skipped']:,} skipped")
        model = run.get("model") or "?"
        if run.get("reused"):
            counts += (f" ({run['reused']:,} unchanged files kept the results of the same "
                       "model's earlier run)")
        if run["status"] == "completed":
            return (f"Last analyzed: {when(run['finished_at'] or run['started_at'])} with {model}: "
                    f"{counts}. “Analyze changed files” re-analyzes only files that changed "
                    "(results of another model are not reused); “Re-analyze all” starts over.")
        left = run["pending"]
        return (f"Stopped on {when(run['finished_at'] or run['started_at'])} with {model}: "
                f"{counts}, {left:,} not yet analyzed. Resume continues with those; "
                "“Re-analyze all” starts over.")

    @pyqtSlot(int, int)
    def _prescan_progress(self, files: int, _bytes: int) -> None:
        self.form.previewLabel.setText(f"Counting files… {files:,}")

    @pyqtSlot(str, str)
    def _worker_failed(self, message: str, details: str) -> None:
        self.show_message(message)
        self._log(details)

    def _prescan_thread_gone(self) -> None:
        # Only forget the current pre-scan: an earlier one's thread may end after the next
        # one started (dropping the new worker's reference would delete it mid-scan).
        if self.sender() is self.prescan_thread:
            self.prescan_thread = None
            self.prescan_worker = None

    def _cancel_prescan(self) -> None:
        if self.prescan_worker is not None:
            self.prescan_worker.cancel()
        if self.prescan_thread is not None:
            self.prescan_thread.quit()
            self.prescan_thread.wait()
            self.prescan_thread = None

    @pyqtSlot(dict)
    def _prescan_done(self, result: dict) -> None:
        if result["folder"] != self.folder:
            return
        self.preview = result
        self.form.previewLabel.setText(self._preview_text())
        self._update_buttons()
        self.folder_ready.emit(result)

    def _preview_text(self) -> str:
        text = describe(self.preview) if self.preview else ""
        target = self.endpoint_target()
        if target:
            text += f". Files will be sent to the model server {target}."
        ready, why = self.engine_ready()
        if not ready:
            text += f". {why}"
        return text

    # -- the buttons --------------------------------------------------------------------------

    def _unfinished(self) -> dict | None:
        latest = self.history[0] if self.history else None
        return latest if latest and latest["status"] in ("running", "interrupted") else None

    def _update_buttons(self) -> None:
        """Offer only the actions that mean something now, each saying what it does."""
        f = self.form
        running = self.backend.running
        ready, why = self.engine_ready()
        can = bool(self.folder) and not running and ready and bool(
            self.preview and self.preview["files"] > 0)
        unfinished = None if running else self._unfinished()
        completed = any(r["status"] == "completed" for r in self.history)
        f.startButton.setText("Analyze changed files" if completed else "Start")
        f.startButton.setVisible(unfinished is None)
        f.startButton.setEnabled(can and unfinished is None)
        f.startButton.setToolTip(why if not ready else
                                 "Analyze the folder (F5); unchanged files keep results of the "
                                 "same model" if completed else "Analyze every file (F5)")
        f.resumeButton.setVisible(unfinished is not None)
        f.resumeButton.setEnabled(can and unfinished is not None)
        if unfinished is not None:
            f.resumeButton.setText(f"Resume ({unfinished['pending']:,} left)")
        f.reanalyzeButton.setVisible(bool(self.history) and not running)
        f.reanalyzeButton.setEnabled(can and bool(self.history))
        f.stopButton.setEnabled(running and not self.backend.stop_deadline)
        f.actionStart.setEnabled(can)
        f.actionStop.setEnabled(running)

    def _start_shortcut(self) -> None:
        if self.form.startButton.isEnabled() or self.form.resumeButton.isEnabled():
            self.start_run()

    # -- running ------------------------------------------------------------------------------

    def start_run(self, fresh: bool = False) -> None:
        """Start (or resume) the analysis; ``fresh``: re-analyze every file in a new run."""
        if not self.folder or self.backend.running:
            return
        try:
            self.settings = load_settings()
        except ConfigError as exc:
            self.show_message(f"Settings problem: {exc}")
            return
        ready, why = self.engine_ready()
        if not ready:
            self.show_message(why)
            self._update_first_run()
            self._update_buttons()
            return
        self._reset_live_view()
        if self.preview:
            self.form.previewLabel.setText(self._preview_text())  # no stale crash banner
        self.last_message = ""
        self._started_at = time.monotonic()
        args = ["--db", str(self.database)] + (["--fresh"] if fresh else [])
        self.backend.start(self.folder, args)
        self.stall.start()
        self._update_buttons()
        target = self.endpoint_target()
        self._status(f"Analyzing {self.folder}" + (f" on {target}" if target else "") + "…")

    def stop_run(self) -> None:
        if not self.backend.running:
            return
        self.backend.stop()
        self._stop_timer.start()
        self._update_buttons()

    def _stopping_tick(self) -> None:
        left = max(0, int(self.backend.stop_deadline - time.monotonic() + 0.999))
        text = (f"Stopping: the workers finish the files in flight so nothing is lost; at most "
                f"{left} s more, then they are stopped and their files wait for Resume.")
        self._status(text)
        self.form.rateLabel.setText(text)

    def _on_event(self, event: dict) -> None:
        name = event["event"]
        if name == "run_started":
            self._poll_port.emit(int(event.get("metrics_port") or 0))
            gpu = bool(event.get("gpu"))
            self.charts.show_gpu(gpu)
            self.form.gpuNote.setText("" if gpu else "No NVIDIA GPU: running on CPU")
            if event.get("demonstration"):
                self.form.demoNote.setText(
                    "The built-in model is a small demonstration model. Measured per field it "
                    "helps none, so by default the results come from each file's own evidence "
                    "(its answers are kept as raw output). For model-written results choose Llama 3.2 3B "
                    "Instruct or a model server in File › Settings (see models/README.md).")
                self.form.demoNote.setVisible(True)
            self.model.open(self.database, event.get("run_id"), self.folder)
            self._reload_history()
            self._update_buttons()
        elif name == "calibrating":
            text = (f"Measuring how many workers run {event.get('model') or 'the model'} "
                    f"fastest on this machine (once per machine and model, at most "
                    f"{event.get('budget_s', 60):.0f} s)…")
            self._status(text)
            self.form.rateLabel.setText(text)
        elif name == "progress":
            self._progress(event)
        elif name == "worker":
            self._worker(event)
        elif name == "endpoint":
            self.endpoints[event["endpoint"]] = event
            self._fill_workers()
        elif name == "file_failed":
            self._log(f"failed: {event.get('path')}: {event.get('reason')} {event.get('message', '')}")
        elif name == "batch_resized":
            self._log(f"worker {event['worker']}: batch size {event['old']} -> {event['new']}")
        elif name == "error":
            self._log(f"error: {event.get('message')}")
            self._status(f"Error: {event.get('message')}")
        elif name == "run_finished":
            self.last_finished = event
            self._progress({**self.last_progress, **event["counts"],
                            "pending": event["counts"].get("pending", 0)})
            self.run_finished.emit(event)

    def _progress(self, event: dict) -> None:
        self.last_progress = event
        p = Progress.from_event(event)
        self.form.progressBar.setMaximum(max(1, p.total))
        self.form.progressBar.setValue(p.finished)
        if self.backend.stop_deadline:
            return  # stopping: the line says so, with no ETA
        # One smoothed rate for the line and the chart (over the last 10 s).
        rate = self.rate.add(time.monotonic(), p.done + p.failed)
        self.charts.add_rate(rate)
        eta = ""
        if p.scanning:
            eta = ", scanning"
        elif rate > 0 and p.pending:
            secs = int(p.pending / rate)
            eta = f", ETA {secs // 60}m {secs % 60:02d}s"
        self.form.rateLabel.setText(f"{p.done:,} done, {p.failed:,} failed, {p.skipped:,} "
                                    f"skipped · {rate:.1f} files/s{eta}")

    def _worker(self, e: dict) -> None:
        info = self.workers.setdefault(e["worker"], {"restarts": 0})
        if e["state"] == "restarting":
            info["restarts"] += 1
        info.update({k: e.get(k) for k in ("state", "pid", "device", "batch_size") if e.get(k)})
        self._fill_workers()

    def _fill_workers(self) -> None:
        rows = [[wid, w.get("state"), w.get("pid"), w.get("device"), w.get("batch_size"),
                 w["restarts"]] for wid, w in sorted(self.workers.items())]
        # engine openai: one line per model server: up or down (with why), in flight, latency
        rows += [[name, "up" if e["up"] else f"down: {e.get('error', '')}", None,
                  f"server, {e.get('latency_seconds', 0):.2f} s/request", e.get("in_flight"), None]
                 for name, e in sorted(self.endpoints.items())]
        table = self.form.workersTable
        table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for col, value in enumerate(values):
                table.setItem(row, col, QTableWidgetItem("" if value is None else str(value)))

    def _on_exit(self, code: int, last_error: str) -> None:
        self.stall.stop()
        self._stop_timer.stop()
        self._poll_port.emit(0)
        sig = self.backend.exit_signal
        last_error = last_error.removeprefix("helios: error: ").strip()
        interrupted = code == 130 or (self.last_finished or {}).get("status") == "interrupted"
        # The backend is gone, and its workers with it: no worker stays "busy".
        for w in self.workers.values():
            if w.get("state") not in ("stopped",):
                w["state"] = "stopped" if code in (0, 130) else "gone (backend ended)"
        self._fill_workers()
        self.backend.stop_deadline = 0.0
        self._log(f"backend {exit_description(code, sig)}"
                  + (f"; last error: {last_error}" if last_error else ""))
        stall_ms = self.stall.worst * 1000
        self._log(f"event loop: worst stall {stall_ms:.1f} ms over {self.stall.samples} ticks")
        self._reload_history()
        self.model.refresh()
        self._refresh_overview()
        c = (self.last_finished or {}).get("counts") or {}
        if code == 0:
            self._status(f"Finished: {c.get('done', 0):,} done, {c.get('failed', 0):,} failed, "
                         f"{c.get('skipped', 0):,} skipped.")
            self.form.rateLabel.setText(self._status_line(c, "Finished"))
            self.form.tabs.setCurrentWidget(self.form.overviewTab)
        elif interrupted:
            self._status("Stopped. Resume continues where the run stopped.")
            self.form.rateLabel.setText(self._status_line(self.last_progress, "Stopped"))
        else:
            self.form.rateLabel.setText("")
            how = (f"crashed: it {exit_description(code, sig)}" if sig
                   else exit_description(code, sig))
            self.show_message(f"The analysis backend {how}. "
                              + (f"Last error: {last_error}. " if last_error else "")
                              + "The Log tab has its last lines. "
                              + ("Resume continues where it stopped." if self._unfinished()
                                 else ""))
        self._update_buttons()
        self.backend_exited.emit(code, last_error)
        if self._closing:
            self.close()

    @staticmethod
    def _status_line(c: dict, what: str) -> str:
        return (f"{what}: {c.get('done', 0):,} done, {c.get('failed', 0):,} failed, "
                f"{c.get('skipped', 0):,} skipped")

    def _reload_history(self) -> None:
        latest = self._read_history()
        f = self.form
        f.actionExportCsv.setEnabled(latest is not None)
        f.actionExportJsonl.setEnabled(latest is not None)
        if latest is not None and latest["status"] != "running":
            f.lastRunLabel.setText(self._last_run_text(latest))
            f.lastRunLabel.setVisible(True)
        self._fill_history()

    # -- results ------------------------------------------------------------------------------

    def _apply_filters(self) -> None:
        f = self.form
        status = f.statusCombo.currentText() if f.statusCombo.currentIndex() > 0 else ""
        category = f.categoryCombo.currentText() if f.categoryCombo.currentIndex() > 0 else ""
        extra = self._extra_filter
        self.model.set_filters(f.filterEdit.text(), status, category,
                               language=extra[1] if extra[0] == "language" else "",
                               extension=extra[1] if extra[0] == "extension" else "",
                               quality=f.qualityCombo.currentData() or "")
        f.extraFilterButton.setVisible(bool(extra[0]))
        f.extraFilterButton.setText(f"{extra[0]}: {extra[1]}  ✕" if extra[0] else "")

    def _clear_extra_filter(self) -> None:
        self._extra_filter = ("", "")
        self._apply_filters()

    def filter_results(self, field: str, value: str) -> None:
        """Show the Results tab filtered on one status, category, language or extension
        (a click on an Overview bar)."""
        f = self.form
        if field == "status":
            f.statusCombo.setCurrentText(value)
        elif field == "category":
            f.categoryCombo.setCurrentText(value)
        else:
            self._extra_filter = (field, value)
            self._apply_filters()
        f.tabs.setCurrentWidget(f.resultsTab)

    def _find(self) -> None:
        self.form.tabs.setCurrentWidget(self.form.resultsTab)
        self.form.filterEdit.setFocus()
        self.form.filterEdit.selectAll()

    def _results_changed(self) -> None:
        """After a refresh or a filter: the count line, and no detail of a row gone."""
        f = self.form
        shown, total = self.model.rowCount(), self.model.total
        if self.model.reader is None or total == 0:
            f.countLabel.setText("")
        elif shown == 0:
            f.countLabel.setText(f"nothing matches (of {total:,})")
        else:
            f.countLabel.setText(f"{shown:,} of {total:,}" if self.model.filtered
                                 else f"{total:,} files")
        self._show_detail(f.resultsView.currentIndex())

    def _show_detail(self, current, _previous=None) -> None:
        info = self.model.details(current.row()) if current.isValid() else None
        f = self.form
        for w in (f.openFileButton, f.showFolderButton, f.jsonButton):
            w.setEnabled(info is not None)
        table = f.detailFields
        if info is None:
            self._selected = b""
            f.detailTitle.setText("Select a row to see its result.")
            table.setRowCount(0)
            f.detailText.setPlainText("")
            return
        self._selected = info["path"]
        title = f"{self.model.relative(info['path'])} · {info['status']}"
        if info["reason"]:
            title += f" ({info['reason']}{': ' + info['message'] if info['message'] else ''})"
        f.detailTitle.setText(title)
        decided = info["decided_by"] or {}
        rows = []
        for key, value in (info["result"] or {}).items():
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, list):
                value = ", ".join(map(str, value))
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False)
            if key == "contains_personal_data" and info.get("evidence"):
                value += ": " + personal_evidence(info["evidence"])
            rows.append((key.replace("_", " "), str(value),
                         decided_note(key, str(decided.get(key, "")), info.get("quality"))))
        if not rows and info["raw_output"]:
            rows.append(("raw model output", info["raw_output"][:400], ""))
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                table.setItem(r, c, QTableWidgetItem(text))
        table.resizeRowsToContents()
        lines = []
        if info["result"] is not None:
            lines.append(json.dumps(info["result"], indent=2, ensure_ascii=False))
        if info["raw_output"]:
            lines += ["raw model output:", info["raw_output"]]
        if info["decided_by"]:
            lines += ["", *verdict_lines(info["decided_by"], info.get("quality"))]
        if info.get("evidence"):
            lines.append("personal data evidence: " + json.dumps(info["evidence"],
                                                                 ensure_ascii=False))
        f.detailText.setPlainText("\n".join(lines))

    def _open_selected(self, folder: bool) -> None:
        path = os.fsdecode(self._selected)
        if not path:
            return
        target = os.path.dirname(path) if folder else path
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(target)):
            self.show_message(f"No application could open {target}: this desktop has no "
                              "handler for it (on Linux, xdg-open and a file manager).")

    # -- overview and history -----------------------------------------------------------------

    def _refresh_overview(self) -> None:
        run_id = self.model.run_id
        if run_id is None:
            self.overview.clear()
            self.form.overviewLabel.setText("Open a folder to see its results at a glance.")
            return
        reader = self._reader()
        try:
            data = reader.overview(run_id, self.folder)
        finally:
            reader.close()
        self.overview.show_overview(data, self.model.relative)
        self.form.overviewLabel.setText(
            f"Run {run_id}: {data['total']:,} files. Click a bar to see those files in Results.")

    def _fill_history(self) -> None:
        table = self.form.historyTable
        table.setRowCount(len(self.history))
        for row, run in enumerate(self.history):
            seconds = (run["finished_at"] - run["started_at"]) if run["finished_at"] else None
            for col, value in enumerate([run["id"], when(run["started_at"]), run["status"],
                                         run.get("model") or "", f"{run['done']:,}",
                                         f"{run['failed']:,}", f"{run['skipped']:,}",
                                         duration(seconds)]):
                table.setItem(row, col, QTableWidgetItem(str(value)))
        table.resizeColumnsToContents()

    def _history_run(self) -> int | None:
        rows = self.form.historyTable.selectionModel().selectedRows()
        return self.history[rows[0].row()]["id"] if rows else None

    def _history_selected(self) -> None:
        chosen = self._history_run() is not None
        self.form.historyShowButton.setEnabled(chosen)
        self.form.historyExportButton.setEnabled(chosen)

    def _history_show(self) -> None:
        run_id = self._history_run()
        if run_id is not None:
            self.model.open(self.database, run_id, self.folder)
            self._refresh_overview()
            self.form.tabs.setCurrentWidget(self.form.resultsTab)

    def _history_export(self) -> None:
        run_id = self._history_run()
        if run_id is None:
            return
        out, _ = QFileDialog.getSaveFileName(self, f"Export run {run_id}",
                                             self.export_default_path("csv", run_id),
                                             "CSV files (*.csv);;JSONL files (*.jsonl)")
        if out:
            self.export_to(out, "jsonl" if out.endswith(".jsonl") else "csv", run_id=run_id)

    # -- export ---------------------------------------------------------------------------------

    def export_default_path(self, fmt: str, run_id: int | None = None) -> str:
        """Beside the analyzed folder: FOLDER-helios.csv in its parent."""
        if not self.folder:
            return str(Path.home() / f"helios-results.{fmt}")
        folder = Path(self.folder)
        suffix = f"-run{run_id}" if run_id else ""
        return str(folder.parent / f"{folder.name}-helios{suffix}.{fmt}")

    def _choose_export(self, fmt: str) -> None:
        view_only = False
        if self.model.filtered:
            box = QMessageBox(QMessageBox.Icon.Question, "Export",
                              f"The table shows {self.model.rowCount():,} of "
                              f"{self.model.total:,} rows.", parent=self)
            view = box.addButton("Export this view", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Export all rows", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() not in box.buttons()[:2]:
                return
            view_only = box.clickedButton() is view
        out, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}",
                                             self.export_default_path(fmt),
                                             f"{fmt.upper()} files (*.{fmt})")
        if out:
            self.export_to(out, fmt, view_only=view_only)

    def export_to(self, out: str, fmt: str, view_only: bool = False,
                  run_id: int | None = None) -> None:
        """Write the shown run (or ``run_id``) to ``out``; ``view_only``: only the rows the
        filters show."""
        run = run_id or self.model.run_id
        query = self.model.query.with_(run_id=run) if view_only else None
        worker = ExportWorker(str(self.database), fmt, out, run, query)
        worker.done.connect(self._exported)
        worker.failed.connect(self._worker_failed)
        thread = start_in_thread(worker, self)
        # Keep the Python wrappers alive until the thread ends (a collected worker is deleted).
        self.export_threads.append((thread, worker))
        thread.finished.connect(self._forget_finished_threads)

    @pyqtSlot(str, int)
    def _exported(self, path: str, rows: int) -> None:
        self.show_message(f"Saved {rows:,} rows to {path}")
        self.export_done.emit(path, rows)

    @pyqtSlot()
    def _forget_finished_threads(self) -> None:
        self.export_threads = [(t, w) for t, w in self.export_threads if not t.isFinished()]

    # -- help -----------------------------------------------------------------------------------

    def about_text(self) -> str:
        target = self.endpoint_target()
        model = target or self.settings.model_path or "the built-in demonstration model (Gemma 3 270M)"
        return (f"Helios Desktop {__version__}\n\nModel: {model}\n\n"
                "Licences: Helios Desktop is open source. The demonstration model Gemma 3 270M "
                "is provided under the Gemma Terms of Use (ai.google.dev/gemma/terms). "
                "Libraries: Qt 6 and PyQt6 (GPL v3 / commercial), pyqtgraph (MIT), "
                "ONNX Runtime and onnxruntime-genai (MIT), NumPy (BSD), PyYAML (MIT), "
                "prometheus-client (Apache-2.0), nvidia-ml-py (BSD).")

    def shortcuts_text(self) -> str:
        return "\n".join(f"{keys}\t{what}" for keys, what in SHORTCUTS)

    # -- settings and closing -----------------------------------------------------------------

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() and dialog.saved_to:
            self.apply_settings()
            self._status(f"Settings saved to {dialog.saved_to}")

    def apply_settings(self) -> None:
        """Re-read the settings after they changed."""
        self.settings = load_settings()
        self._update_first_run()
        if self.preview:
            self.form.previewLabel.setText(self._preview_text())
        self._update_buttons()

    def closeEvent(self, event) -> None:
        if self.backend.running:
            # Close once the backend has stopped cleanly (it resumes next time).
            self._closing = True
            self.stop_run()
            event.ignore()
            return
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop every thread this window started, and wait for them."""
        self._cancel_prescan()
        self._poll_stop.emit()
        if self.poller_thread is not None:
            self.poller_thread.quit()
            self.poller_thread.wait()
            self.poller_thread = None
        for thread, _worker in list(self.export_threads):
            thread.quit()
            thread.wait()
        self.model.close()
