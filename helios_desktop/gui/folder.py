"""Choosing the folder to analyze: drop zone, File › Open Folder, pre-scan and preview line."""

from __future__ import annotations

from pathlib import Path

from ..folders import FolderError, check_folder
from .jobs import Job, run_in_background
from .prescan import describe, prescan
from .qt import QFileDialog, QObject, QSettings, pyqtSignal
from .session import Session
from .small_screens import compact_drop_zone


class FolderPanel(QObject):
    """Owns dropZone and previewLabel; the preview line also shows the session's messages."""

    chosen = pyqtSignal(str)        # a folder dropped or picked (the window decides if now)
    ready = pyqtSignal(dict)        # the pre-scan of the open folder finished

    def __init__(self, form, session: Session, qsettings: QSettings, parent=None):
        super().__init__(parent)
        self.form, self.session, self.qsettings = form, session, qsettings
        self.prescan: Job | None = None
        form.actionOpenFolder.triggered.connect(self.choose)
        session.message.connect(form.previewLabel.setText)
        session.settings_changed.connect(self.show_preview)

    # -- where a folder comes from ----------------------------------------------------------

    def drag_enter(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self._hover(True)

    def drag_leave(self, _event=None) -> None:
        self._hover(False)

    def drop(self, event) -> None:
        self._hover(False)
        urls = event.mimeData().urls()
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        event.acceptProposedAction()
        if len(paths) != 1:
            self.session.message.emit("Drop one folder at a time (you dropped "
                                      f"{len(paths) or len(urls)} items).")
            return
        self.chosen.emit(paths[0])

    def _hover(self, on: bool) -> None:
        zone = self.form.dropZone
        zone.setProperty("hover", on)
        zone.style().polish(zone)

    def choose(self) -> None:
        start = self.qsettings.value("last_folder", str(Path.home()))
        folder = QFileDialog.getExistingDirectory(self.form.dropZone.window(),
                                                  "Choose a folder to analyze", start)
        if folder:
            self.chosen.emit(folder)

    # -- opening it -------------------------------------------------------------------------

    def open(self, path: str) -> bool:
        """Check the folder, make it the session's and start its pre-scan; False (with a
        message) when unusable."""
        try:
            folder = str(check_folder(path))
        except FolderError as exc:
            message = str(exc)
            self.session.message.emit(message[:1].upper() + message[1:] + ".")
            return False
        self.cancel()
        self.qsettings.setValue("last_folder", folder)
        self.form.dropZone.setText(folder)
        compact_drop_zone(self.form.dropZone)
        self.form.previewLabel.setText("Counting files…")
        self.session.open_folder(folder)
        settings = self.session.settings
        job = run_in_background(
            self, lambda context: prescan(folder, settings, context),
            label=f"cannot scan {folder}", success=self._done, failure=self._failed,
            progress=self._progress)
        job.ended.connect(lambda: self._forget(job))
        self.prescan = job
        return True

    def _progress(self, counted: tuple[int, int]) -> None:
        self.form.previewLabel.setText(f"Counting files… {counted[0]:,}")

    def _done(self, result: dict) -> None:
        if self.session.set_preview(result):
            self.show_preview()
            self.ready.emit(result)

    def _failed(self, message: str, details: str) -> None:
        self.session.message.emit(message)
        self.session.log.emit(details)

    def _forget(self, job: Job) -> None:
        # Only forget the current pre-scan: an earlier one may end after the next started.
        if job is self.prescan:
            self.prescan = None

    def cancel(self) -> None:
        """Stop the pre-scan and wait for its thread (another folder, or closing)."""
        job, self.prescan = self.prescan, None
        if job is not None:
            job.cancel()
            job.wait()

    def show_preview(self) -> None:
        """The preview line: what the folder holds, where files go, what is missing."""
        if not self.session.preview:
            return
        text = describe(self.session.preview)
        target = self.session.endpoint_target()
        if target:
            text += f". Files will be sent to the model server {target}."
        ready, why = self.session.engine_ready()
        if not ready:
            text += f". {why}"
        elif not self.session.model_set_up():
            text += ". No model is set up: each file's own evidence decides every field."
        self.form.previewLabel.setText(text)
