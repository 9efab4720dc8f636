"""Small QObject workers that run off the GUI thread, and the thread plumbing for them."""

from __future__ import annotations

import traceback

from ..store.export import export
from ..store.ledger import open_readonly
from .qt import QObject, QThread, pyqtSignal, pyqtSlot


def start_in_thread(worker: QObject, owner: QObject) -> QThread:
    """The standard pattern: move to a new thread, run on start, clean up on finish."""
    thread = QThread(owner)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    worker.finished.connect(worker.deleteLater)
    thread.finished.connect(thread.deleteLater)
    thread.start()
    return thread


class ExportWorker(QObject):
    """Writes the export with the same code as `helios export`."""

    done = pyqtSignal(str, int)       # path, rows
    failed = pyqtSignal(str, str)     # message, traceback
    finished = pyqtSignal()

    def __init__(self, db: str, fmt: str, out: str, run_id: int | None = None, query=None):
        super().__init__()
        self.db, self.fmt, self.out, self.run_id = db, fmt, out, run_id
        self.query = query  # a ResultQuery: export only the rows it selects

    @pyqtSlot()
    def run(self) -> None:
        try:
            conn = open_readonly(self.db)
            try:
                rows = export(conn, self.fmt, self.out, self.run_id, query=self.query)
            finally:
                conn.close()
            self.done.emit(self.out, rows)
        except Exception as exc:
            self.failed.emit(f"export to {self.out} failed: {exc}", traceback.format_exc())
        finally:
            self.finished.emit()
