"""The main window: drop a folder, watch the run live, browse and export the results."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..analysis.schema import CATEGORIES
from ..config import ConfigError, Settings, load_settings
from ..engines.model_folder import model_note
from ..folders import FolderError, Progress, check_folder, database_path
from ..records import display_path
from ..store.reader import LedgerReader
from .backend import BackendProcess, backend_command
from .charts import ChartsPanel
from .forms import form_class, style_sheet
from .poller import MetricsPoller
from .prescan import PreScanWorker, describe
from .qt import (QDesktopServices, QFileDialog, QHeaderView, QMainWindow, QProcess, QSettings,
                 QTableWidgetItem, QThread, QUrl, QVBoxLayout, pyqtSignal, pyqtSlot)
from .results import ResultsModel
from .settings_dialog import SettingsDialog
from .stall import StallMonitor
from .workers import ExportWorker, start_in_thread

STATUSES = ["", "done", "failed", "skipped", "pending", "leased"]


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

        self.model = ResultsModel(self)
        f.resultsView.setModel(self.model)
        f.resultsView.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        f.resultsView.horizontalHeader().setStretchLastSection(True)
        f.resultsView.setColumnWidth(0, 320)
        f.resultsView.setColumnWidth(4, 360)
        f.resultsView.selectionModel().currentRowChanged.connect(self._show_detail)
        f.statusCombo.addItems(["all statuses"] + STATUSES[1:])
        f.categoryCombo.addItems(["all categories", *CATEGORIES])
        f.filterEdit.textChanged.connect(self._apply_filters)
        f.statusCombo.currentIndexChanged.connect(self._apply_filters)
        f.categoryCombo.currentIndexChanged.connect(self._apply_filters)
        f.openFileButton.clicked.connect(lambda: self._open_selected(folder=False))
        f.showFolderButton.clicked.connect(lambda: self._open_selected(folder=True))

        f.actionOpenFolder.triggered.connect(self._choose_folder)
        f.actionExportCsv.triggered.connect(lambda: self._choose_export("csv"))
        f.actionExportJsonl.triggered.connect(lambda: self._choose_export("jsonl"))
        f.actionSettings.triggered.connect(self.open_settings)
        f.actionQuit.triggered.connect(self.close)
        f.buildModelButton.clicked.connect(self.build_default_model)
        f.chooseModelButton.clicked.connect(self._choose_model)
        f.startButton.clicked.connect(self.start_run)
        f.resumeButton.clicked.connect(self.start_run)
        f.stopButton.clicked.connect(self.stop_run)

        self.backend = BackendProcess(self)
        self.backend.event_received.connect(self._on_event)
        self.backend.stderr_line.connect(self._log)
        self.backend.exited.connect(self._on_exit)
        self.backend.stopping.connect(lambda: self._status("Stopping: finishing the batches in flight…"))

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
        self.last_progress: dict = {}
        self.last_finished: dict | None = None
        self.last_message = ""
        self._closing = False
        self._started_at = 0.0
        self.model_builder: QProcess | None = None
        geometry = self.qsettings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.form.firstRunPanel.setVisible(not self.model_ready())

    # -- first run ----------------------------------------------------------------------------

    def model_ready(self) -> bool:
        return model_note(self.settings.model_path)[0]

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
            self.form.firstRunPanel.setVisible(False)
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
        self.form.firstRunPanel.setVisible(not self.model_ready())
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
        """Check the folder and start its pre-scan; False (with a message) when unusable."""
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
        self.form.startButton.setEnabled(False)
        self.form.resumeButton.setEnabled(False)
        worker = PreScanWorker(self.folder, self.settings)
        # Bound methods of this window: Qt queues the calls to the GUI thread.
        worker.progress.connect(self._prescan_progress)
        worker.done.connect(self._prescan_done)
        worker.failed.connect(self._worker_failed)
        self.prescan_worker = worker
        self.prescan_thread = start_in_thread(worker, self)
        self.prescan_thread.finished.connect(self._prescan_thread_gone)
        return True

    @pyqtSlot(int, int)
    def _prescan_progress(self, files: int, _bytes: int) -> None:
        self.form.previewLabel.setText(f"Counting files… {files:,}")

    @pyqtSlot(str, str)
    def _worker_failed(self, message: str, details: str) -> None:
        self.show_message(message)
        self._log(details)

    def _prescan_thread_gone(self) -> None:
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
        self.form.previewLabel.setText(describe(result))
        self.form.startButton.setEnabled(result["files"] > 0)
        self.form.resumeButton.setEnabled(self._has_unfinished_run())
        self.folder_ready.emit(result)

    def _has_unfinished_run(self) -> bool:
        if not self.folder:
            return False
        reader = LedgerReader(self.database)
        try:
            return reader.unfinished_run(os.fsencode(self.folder)) is not None
        finally:
            reader.close()

    # -- running ------------------------------------------------------------------------------

    def start_run(self) -> None:
        if not self.folder or self.backend.running:
            return
        try:
            self.settings = load_settings()
        except ConfigError as exc:
            self.show_message(f"Settings problem: {exc}")
            return
        self.workers.clear()
        self.form.workersTable.setRowCount(0)
        self.last_finished = None
        self.charts.reset()
        self.form.progressBar.setValue(0)
        self.form.demoNote.setVisible(False)
        self._started_at = time.monotonic()
        self.backend.start(self.folder, ["--db", str(self.database)])
        self.stall.start()
        for w in (self.form.startButton, self.form.resumeButton):
            w.setEnabled(False)
        self.form.stopButton.setEnabled(True)
        self._status(f"Analyzing {self.folder}…")

    def stop_run(self) -> None:
        self.backend.stop()
        self.form.stopButton.setEnabled(False)

    def _on_event(self, event: dict) -> None:
        name = event["event"]
        if name == "run_started":
            self._poll_port.emit(int(event.get("metrics_port") or 0))
            gpu = bool(event.get("gpu"))
            self.charts.show_gpu(gpu)
            self.form.gpuNote.setText("" if gpu else "No NVIDIA GPU: running on CPU")
            if event.get("demonstration"):
                self.form.demoNote.setText(
                    "The built-in model is a small demonstration model: summaries are rough and "
                    "categories come mostly from file types. For real results choose Llama 3.2 "
                    "3B Instruct in File › Settings (see models/README.md).")
                self.form.demoNote.setVisible(True)
            self.model.open(self.database, event.get("run_id"))
        elif name == "progress":
            self._progress(event)
        elif name == "worker":
            self._worker(event)
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
        eta = p.eta_text()
        self.form.rateLabel.setText(
            f"{p.done:,} done, {p.failed:,} failed, {p.skipped:,} skipped · "
            f"{p.files_per_second:.1f} files/s, {p.tokens_per_second:.0f} tokens/s"
            + (f", {eta}" if eta else ""))

    def _worker(self, e: dict) -> None:
        info = self.workers.setdefault(e["worker"], {"restarts": 0})
        if e["state"] == "restarting":
            info["restarts"] += 1
        info.update({k: e.get(k) for k in ("state", "pid", "device", "batch_size") if e.get(k)})
        table = self.form.workersTable
        table.setRowCount(len(self.workers))
        for row, (wid, w) in enumerate(sorted(self.workers.items())):
            for col, value in enumerate([wid, w.get("state"), w.get("pid"), w.get("device"),
                                         w.get("batch_size"), w["restarts"]]):
                table.setItem(row, col, QTableWidgetItem("" if value is None else str(value)))

    def _on_exit(self, code: int, last_error: str) -> None:
        self.stall.stop()
        self._poll_port.emit(0)
        self.form.stopButton.setEnabled(False)
        self.form.startButton.setEnabled(bool(self.folder))
        interrupted = code == 130 or (self.last_finished or {}).get("status") == "interrupted"
        self.form.resumeButton.setEnabled(interrupted or code != 0)
        self.model.refresh()
        ok = self.database.exists()
        self.form.actionExportCsv.setEnabled(ok)
        self.form.actionExportJsonl.setEnabled(ok)
        stall_ms = self.stall.worst * 1000
        self._log(f"event loop: worst stall {stall_ms:.1f} ms over {self.stall.samples} ticks")
        if code == 0:
            c = (self.last_finished or {}).get("counts", {})
            self._status(f"Finished: {c.get('done', 0):,} done, {c.get('failed', 0):,} failed, "
                         f"{c.get('skipped', 0):,} skipped.")
            self.form.tabs.setCurrentWidget(self.form.resultsTab)
        elif interrupted:
            self._status("Stopped. Resume continues where the run stopped.")
        else:
            how = "crashed" if code == -1 else f"exited with code {code}"
            self.show_message(f"The analysis backend {how}. "
                              + (f"Last error: {last_error}" if last_error else
                                 "See the Log tab for details.")
                              + " Resume continues where it stopped.")
        self.backend_exited.emit(code, last_error)
        if self._closing:
            self.close()

    # -- results ------------------------------------------------------------------------------

    def _apply_filters(self) -> None:
        f = self.form
        status = f.statusCombo.currentText() if f.statusCombo.currentIndex() > 0 else ""
        category = f.categoryCombo.currentText() if f.categoryCombo.currentIndex() > 0 else ""
        self.model.set_filters(f.filterEdit.text(), status, category)

    def _show_detail(self, current, _previous=None) -> None:
        info = self.model.details(current.row()) if current.isValid() else None
        f = self.form
        f.openFileButton.setEnabled(info is not None)
        f.showFolderButton.setEnabled(info is not None)
        if info is None:
            f.detailText.setPlainText("")
            return
        self._selected = info["path"]
        lines = [display_path(info["path"]), f"status: {info['status']}"]
        if info["reason"]:
            lines.append(f"reason: {info['reason']} ({info['message'] or ''})")
        if info["result"] is not None:
            lines.append(json.dumps(info["result"], indent=2, ensure_ascii=False))
        elif info["raw_output"]:
            lines += ["raw model output:", info["raw_output"]]
        if info["decided_by"]:
            lines.append("decided by: " + ", ".join(f"{k}={v}" for k, v in info["decided_by"].items()))
        f.detailText.setPlainText("\n".join(lines))

    def _open_selected(self, folder: bool) -> None:
        path = os.fsdecode(getattr(self, "_selected", b""))
        if path:
            target = os.path.dirname(path) if folder else path
            QDesktopServices.openUrl(QUrl.fromLocalFile(target))

    # -- export ---------------------------------------------------------------------------------

    def _choose_export(self, fmt: str) -> None:
        default = str(Path.home() / f"helios-results.{fmt}")
        out, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}", default,
                                             f"{fmt.upper()} files (*.{fmt})")
        if out:
            self.export_to(out, fmt)

    def export_to(self, out: str, fmt: str) -> None:
        worker = ExportWorker(str(self.database), fmt, out, self.model.run_id)
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

    # -- settings and closing -----------------------------------------------------------------

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() and dialog.saved_to:
            self.settings = load_settings()
            self.form.firstRunPanel.setVisible(not self.model_ready())
            self._status(f"Settings saved to {dialog.saved_to}")

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
