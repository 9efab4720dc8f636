"""The open folder's runs: the History tab and the last-run line above the buttons."""

from __future__ import annotations

from datetime import datetime

from .qt import QObject, QTableWidgetItem, pyqtSignal
from .session import Session


def when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "?"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 3600}h {seconds // 60 % 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m {seconds % 60:02d}s"


def last_run_text(run: dict) -> str:
    """What the last run did and what each button would do next."""
    counts = f"{run['done']:,} done, {run['failed']:,} failed, {run['skipped']:,} skipped"
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


class HistoryPanel(QObject):
    """Owns historyTable, its Show and Export buttons, and lastRunLabel."""

    reveal_results = pyqtSignal()      # a run was put on screen: show the Results tab
    export_requested = pyqtSignal(int)  # run id

    def __init__(self, form, session: Session, parent=None):
        super().__init__(parent)
        self.form, self.session = form, session
        self._new_folder = False
        form.historyTable.itemSelectionChanged.connect(self._selected)
        form.historyShowButton.clicked.connect(self._show)
        form.historyExportButton.clicked.connect(self._export)
        session.folder_changed.connect(self._folder_changed)
        session.history_changed.connect(self._history_changed)

    def _folder_changed(self, _folder: str) -> None:
        self._new_folder = True

    def _history_changed(self) -> None:
        latest = self.session.history[0] if self.session.history else None
        label = self.form.lastRunLabel
        if latest is None:
            label.setVisible(False)
        elif latest["status"] != "running" or self._new_folder:
            # A folder just opened shows even a run that never ended as stopped.
            label.setText(last_run_text(latest))
            label.setVisible(True)
        else:
            # The run in progress (a resumed one too): no "Stopped on ..." line while it goes.
            label.setText(f"Analyzing since {when(latest['started_at'])} with "
                          f"{latest.get('model') or '?'}: Stop keeps what is done, and "
                          "Resume continues with the rest.")
            label.setVisible(True)
        self._new_folder = False
        self._fill()

    def _fill(self) -> None:
        table = self.form.historyTable
        history = self.session.history
        table.setRowCount(len(history))
        for row, run in enumerate(history):
            seconds = (run["finished_at"] - run["started_at"]) if run["finished_at"] else None
            for col, value in enumerate([run["id"], when(run["started_at"]), run["status"],
                                         run.get("model") or "", f"{run['done']:,}",
                                         f"{run['failed']:,}", f"{run['skipped']:,}",
                                         duration(seconds)]):
                table.setItem(row, col, QTableWidgetItem(str(value)))
        table.resizeColumnsToContents()

    def chosen_run(self) -> int | None:
        rows = self.form.historyTable.selectionModel().selectedRows()
        return self.session.history[rows[0].row()]["id"] if rows else None

    def _selected(self) -> None:
        chosen = self.chosen_run() is not None
        self.form.historyShowButton.setEnabled(chosen)
        self.form.historyExportButton.setEnabled(chosen)

    def _show(self) -> None:
        run_id = self.chosen_run()
        if run_id is not None:
            self.session.show_run(run_id)
            self.reveal_results.emit()

    def _export(self) -> None:
        run_id = self.chosen_run()
        if run_id is not None:
            self.export_requested.emit(run_id)
