"""Export from the window: File › Export CSV/JSONL, a History run's Export, off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from ..store.export import export
from ..store.ledger import open_readonly
from ..store.reader import ResultQuery
from .jobs import Job, JobContext, run_in_background
from .qt import QFileDialog, QMessageBox, QObject, pyqtSignal
from .results import ResultsModel
from .session import Session


def write_export(db: str, fmt: str, out: str, run_id: int | None,
                 query: ResultQuery | None, _context: JobContext | None = None) -> int:
    """Write the export with the same code as `helios export`; ``query``: only its rows."""
    conn = open_readonly(db)
    try:
        return export(conn, fmt, out, run_id, query=query)
    finally:
        conn.close()


class ExportActions(QObject):
    """Owns the Export actions; reads the Results tab's model to offer "Export this view"."""

    done = pyqtSignal(str, int)   # path, rows

    def __init__(self, form, session: Session, model: ResultsModel, parent=None):
        super().__init__(parent)
        self.form, self.session, self.model = form, session, model
        self.jobs: list[Job] = []
        form.actionExportCsv.triggered.connect(lambda: self.choose("csv"))
        form.actionExportJsonl.triggered.connect(lambda: self.choose("jsonl"))
        session.history_changed.connect(self._history_changed)

    def _history_changed(self) -> None:
        has_rows = bool(self.session.history)
        self.form.actionExportCsv.setEnabled(has_rows)
        self.form.actionExportJsonl.setEnabled(has_rows)

    def default_path(self, fmt: str, run_id: int | None = None) -> str:
        """Beside the analyzed folder: FOLDER-helios.csv in its parent."""
        if not self.session.folder:
            return str(Path.home() / f"helios-results.{fmt}")
        folder = Path(self.session.folder)
        suffix = f"-run{run_id}" if run_id else ""
        return str(folder.parent / f"{folder.name}-helios{suffix}.{fmt}")

    def _parent(self):
        return self.form.tabs.window()

    def choose(self, fmt: str) -> None:
        """Ask where (and, when the table is filtered, which rows), then export."""
        view_only = False
        if self.model.filtered:
            box = QMessageBox(QMessageBox.Icon.Question, "Export",
                              f"The table shows {self.model.rowCount():,} of "
                              f"{self.model.total:,} rows.", parent=self._parent())
            view = box.addButton("Export this view", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Export all rows", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() not in box.buttons()[:2]:
                return
            view_only = box.clickedButton() is view
        out, _ = QFileDialog.getSaveFileName(self._parent(), f"Export {fmt.upper()}",
                                             self.default_path(fmt),
                                             f"{fmt.upper()} files (*.{fmt})")
        if out:
            self.export_to(out, fmt, view_only=view_only)

    def export_run(self, run_id: int) -> None:
        """A History run's Export button."""
        out, _ = QFileDialog.getSaveFileName(self._parent(), f"Export run {run_id}",
                                             self.default_path("csv", run_id),
                                             "CSV files (*.csv);;JSONL files (*.jsonl)")
        if out:
            self.export_to(out, "jsonl" if out.endswith(".jsonl") else "csv", run_id=run_id)

    def export_to(self, out: str, fmt: str, view_only: bool = False,
                  run_id: int | None = None) -> None:
        """Write the shown run (or ``run_id``) to ``out``; ``view_only``: only the rows the
        filters show."""
        run = run_id or self.model.run_id
        query = self.model.query.with_(run_id=run) if view_only else None
        db = str(self.session.database)
        job = run_in_background(
            self, lambda context: write_export(db, fmt, out, run, query, context),
            label=f"export to {out} failed", success=lambda rows: self._exported(out, rows),
            failure=self._failed)
        self.jobs.append(job)
        job.ended.connect(lambda: self.jobs.remove(job))

    def _exported(self, path: str, rows: int) -> None:
        self.session.message.emit(f"Saved {rows:,} rows to {path}")
        self.done.emit(path, rows)

    def _failed(self, message: str, details: str) -> None:
        self.session.message.emit(message)
        self.session.log.emit(details)

    def shutdown(self) -> None:
        """Let exports in flight finish (a half-written file helps no one)."""
        for job in list(self.jobs):
            job.wait()
