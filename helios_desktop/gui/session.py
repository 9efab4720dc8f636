"""What the window is showing (settings, open folder, its runs, the run on screen), with signals.

The panels listen to this model and change it through its methods; none reads another
panel's widgets (napari's widgets and their Qt-free model). Messages for the person go
out through it too, so any panel can say something without knowing where it is shown.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import Settings, load_settings
from ..engines.model_folder import model_note
from ..folders import database_path
from ..store.reader import LedgerReader
from .qt import QObject, pyqtSignal


class Session(QObject):
    settings_changed = pyqtSignal()
    folder_changed = pyqtSignal(str)      # a folder was opened: nothing of the last one stays
    preview_changed = pyqtSignal()        # the pre-scan of the open folder finished
    history_changed = pyqtSignal()        # the open folder's runs were read again
    shown_run_changed = pyqtSignal()      # another run on screen, or new rows in it
    message = pyqtSignal(str)             # for the person: preview line, status bar and log
    status = pyqtSignal(str)              # status bar only
    log = pyqtSignal(str)                 # the Log tab only

    def __init__(self, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or load_settings()
        self.folder: str | None = None
        self.preview: dict | None = None
        self.history: list[dict] = []      # the open folder's runs, newest first
        self.shown_run: int | None = None

    # -- settings and the engine ------------------------------------------------------------

    def reload_settings(self) -> None:
        """Read the settings again (raises ConfigError) and tell everyone."""
        self.settings = load_settings()
        self.settings_changed.emit()

    @property
    def database(self) -> Path:
        return database_path(self.settings)

    def reader(self) -> LedgerReader:
        return LedgerReader(self.database)

    def endpoint_target(self) -> str | None:
        """Where files go when the settings name a model server (issue 12's `engine:
        openai`, `endpoints`, `api_model`); None for the local model."""
        from ..engines.registry import OPENAI, choose_engine

        choice = choose_engine(self.settings, resolve=False)
        return choice.target if choice.engine == OPENAI else None

    def demonstration(self) -> bool:
        """Whether the settings run the built-in demonstration model."""
        from ..engines.model_folder import ModelFolderError, resolve_model_folder

        if self.endpoint_target():
            return False
        try:
            return resolve_model_folder(self.settings.model_path).demonstration
        except ModelFolderError:
            return False

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
        if self.settings.model_fields in ([], "auto"):
            # the demonstration model, not built, would be asked no field: the run is the
            # evidence's, no model needed (the first-run panel still offers one)
            return True, ""
        return False, ("No model is set up yet: choose a model (File › Choose Model) or build "
                       "the demonstration model.")

    def model_set_up(self) -> bool:
        """Whether a model writes this window's results: a model server, or a usable model
        folder (not the evidence alone)."""
        return bool(self.endpoint_target()) or model_note(self.settings.model_path)[0]

    # -- the open folder and its runs --------------------------------------------------------

    def open_folder(self, folder: str) -> None:
        """A checked folder becomes the open one; its last run goes on screen."""
        self.folder = folder
        self.preview = None
        self.folder_changed.emit(folder)
        latest = self.reload_history()
        self.show_run(latest["id"] if latest else None)

    def set_preview(self, result: dict) -> bool:
        """The pre-scan's result, if it is still the open folder's."""
        if result["folder"] != self.folder:
            return False
        self.preview = result
        self.preview_changed.emit()
        return True

    def reload_history(self) -> dict | None:
        """Read the open folder's runs (newest first); the newest or None."""
        folder = os.fsencode(self.folder) if self.folder else None
        reader = self.reader()
        try:
            self.history = reader.runs(folder) if folder else []
        finally:
            reader.close()
        self.history_changed.emit()
        return self.history[0] if self.history else None

    def show_run(self, run_id: int | None) -> None:
        """Put run ``run_id`` on screen (None: no run); again for the same run when new rows
        arrived."""
        self.shown_run = run_id
        self.shown_run_changed.emit()

    def unfinished(self) -> dict | None:
        """The newest run, if Resume would continue it."""
        latest = self.history[0] if self.history else None
        return latest if latest and latest["status"] in ("running", "interrupted") else None

    def completed_before(self) -> bool:
        return any(r["status"] == "completed" for r in self.history)
