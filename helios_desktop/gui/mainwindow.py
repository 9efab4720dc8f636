"""The main window: composes the panels that each own one concern, and wires their signals.

What the window shows is always the open folder's: opening a folder resets the live
view and shows the folder's last run from the database; the buttons say what they do
(Start, "Analyze changed files", "Re-analyze all", Resume) and only the ones that
mean something are offered. Each part lives in its own module: the folder and its
pre-scan (folder), the first run (first_run), the run buttons and the backend
(run_control), the live view (live), results and detail (results_tab, detail), the
overview (overview), the runs (history), export (export_actions); ``Session`` holds
what they share.
"""

from __future__ import annotations

from ..config import Settings
from .export_actions import ExportActions
from .first_run import FirstRunPanel
from .folder import FolderPanel
from .forms import form_class, style_sheet
from .small_screens import scroll_page
from .help import about_text, shortcuts_text
from .history import HistoryPanel
from .live import LiveView
from .overview import OverviewTab
from .qt import QMainWindow, QMessageBox, QSettings, pyqtSignal
from .results_tab import ResultsTab
from .run_control import RunControl
from .session import Session
from .settings_dialog import SettingsDialog


class MainWindow(QMainWindow):
    """Holds the Designer form by composition; the panels hold its widgets, one concern each."""

    folder_ready = pyqtSignal(dict)     # pre-scan result
    run_finished = pyqtSignal(dict)     # the run_finished event
    backend_exited = pyqtSignal(int, str)
    message = pyqtSignal(str)
    export_done = pyqtSignal(str, int)

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.form = f = form_class("main_window")()
        f.setupUi(self)
        self.setStyleSheet(style_sheet())
        self.qsettings = QSettings("Helios", "Helios Desktop")
        self.session = s = Session(settings, self)
        self.last_message = ""
        self._closing = False
        self.close_question: QMessageBox | None = None

        self.folder_panel = FolderPanel(f, s, self.qsettings, self)
        self.first_run = FirstRunPanel(f, s, self)
        self.run = RunControl(f, s, self)
        self.live = LiveView(f, self)
        self.results = ResultsTab(f, s, self)
        self.overview = OverviewTab(f, s, self)
        self.history = HistoryPanel(f, s, self)
        self.exports = ExportActions(f, s, self.results.model, self)
        # At 640x480 the Live page scrolls rather than squeeze its charts (the Overview's
        # panel too: overview.py).
        scroll_page(f.liveTab)

        s.message.connect(self._said)
        s.status.connect(f.statusbar.showMessage)
        s.log.connect(f.logView.appendPlainText)
        s.folder_changed.connect(lambda _folder: self.live.reset())
        s.settings_changed.connect(lambda: self.live.settings_changed(s.demonstration()))
        self.folder_panel.chosen.connect(self.set_folder)
        self.folder_panel.ready.connect(self.folder_ready)
        self.run.starting.connect(self._run_starting)
        self.run.resuming.connect(self.live.resume_from)
        self.run.backend.event_received.connect(self.live.on_event)
        self.run.stopping.connect(self.live.on_stopping)
        self.run.ended.connect(self.live.on_ended)
        self.run.ended.connect(self._run_ended)
        self.run.run_finished.connect(self.run_finished)
        self.run.backend_exited.connect(self.backend_exited)
        self.overview.panel.filter_requested.connect(self.results.filter_on)
        self.results.reveal.connect(lambda: f.tabs.setCurrentWidget(f.resultsTab))
        self.history.reveal_results.connect(lambda: f.tabs.setCurrentWidget(f.resultsTab))
        self.history.export_requested.connect(self.exports.export_run)
        self.exports.done.connect(self.export_done)

        f.actionSettings.triggered.connect(self.open_settings)
        f.actionQuit.triggered.connect(self.close)
        f.actionAbout.triggered.connect(
            lambda: QMessageBox.about(self, "About Helios", self.about_text()))
        f.actionShortcuts.triggered.connect(
            lambda: QMessageBox.information(self, "Keyboard shortcuts", shortcuts_text()))
        geometry = self.qsettings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.run.update_buttons()

    # -- what the panels ask of the window ------------------------------------------------------

    def set_folder(self, path: str) -> bool:
        """Open ``path`` (checked, its last results shown, its pre-scan started); False, with
        a message, when it cannot be opened now."""
        if self.run.running:
            self.show_message("A run is in progress; stop it before choosing another folder.")
            return False
        return self.folder_panel.open(path)

    def start_run(self, fresh: bool = False) -> None:
        self.run.start_run(fresh)

    def stop_run(self) -> None:
        self.run.stop_run()

    def show_message(self, text: str) -> None:
        """A message for the user (plain text): preview line, status bar and log."""
        self.session.message.emit(text)

    def _said(self, text: str) -> None:
        self.last_message = text
        self.form.statusbar.showMessage(text)
        self.form.logView.appendPlainText(text)
        self.message.emit(text)

    def _run_starting(self) -> None:
        self.live.reset()
        self.folder_panel.show_preview()  # no stale crash banner
        self.last_message = ""

    def _run_ended(self, outcome: str, _code: int) -> None:
        if outcome == "completed":
            self.form.tabs.setCurrentWidget(self.form.overviewTab)

    # -- drag and drop: the window is the drop target, the folder panel decides ----------------

    def dragEnterEvent(self, event) -> None:
        self.folder_panel.drag_enter(event)

    def dragLeaveEvent(self, event) -> None:
        self.folder_panel.drag_leave(event)

    def dropEvent(self, event) -> None:
        self.folder_panel.drop(event)

    # -- help, settings and closing -------------------------------------------------------------

    def about_text(self) -> str:
        return about_text(self.session.endpoint_target() or self.session.settings.model_path)

    def shortcuts_text(self) -> str:
        return shortcuts_text()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.session.settings, self)
        if dialog.exec() and dialog.saved_to:
            self.apply_settings()
            self.form.statusbar.showMessage(f"Settings saved to {dialog.saved_to}")

    def apply_settings(self) -> None:
        """Re-read the settings after they changed."""
        self.session.reload_settings()

    def closeEvent(self, event) -> None:
        if self.run.running:
            event.ignore()
            if not self._closing:
                self.ask_close()
            return
        self.run.cancel_queued()
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.shutdown()
        event.accept()

    def ask_close(self) -> None:
        """Closing during a run asks first: stop the run (what is done is kept, Resume goes
        on next time) and close, or keep running. Not modal to the loop (``open``), so the
        run's events keep arriving while the question waits."""
        if self.close_question is not None:
            self.close_question.raise_()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Analysis in progress",
                          "An analysis is running. Stop it and close Helios? What is done so "
                          "far is kept; Resume continues with the rest next time.",
                          QMessageBox.StandardButton.NoButton, self)
        stop = box.addButton("Stop the run and close", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        self.close_question = box

        def answered(button) -> None:
            self.close_question = None
            if button is stop and self.run.running:
                self._closing = True
                # Close once the backend has stopped cleanly (it resumes next time).
                self.run.backend_exited.connect(lambda _code, _err: self.close())
                self.run.stop_run()
            elif button is stop:
                self.close()

        box.buttonClicked.connect(answered)
        box.open()

    def shutdown(self) -> None:
        """Stop every thread this window started, and wait for them."""
        self.folder_panel.cancel()
        self.first_run.shutdown()
        self.exports.shutdown()
        self.results.model.close()
