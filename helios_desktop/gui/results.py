"""The results table: a Qt model that reads the SQLite ledger lazily, a page at a time.

Only the rows on screen are read (pages of 256, cached), so 100,000 rows scroll
smoothly; sorting and filtering are SQL. The connection is read-only. All file-derived
text is returned as plain strings (the view never interprets it as rich text).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ..store.ledger import LedgerError, open_readonly
from ..records import display_path
from .qt import QAbstractTableModel, QModelIndex, Qt

PAGE = 256
COLUMNS = [  # header, SQL expression
    ("Path", "f.path"), ("Status", "f.status"), ("Category", "a.category"),
    ("Language", "a.language"), ("Summary", "a.summary"), ("Keywords", "a.keywords"),
    ("Personal data", "a.contains_personal_data"),
    ("Tokens", "coalesce(f.prompt_tokens, 0) + coalesce(f.generated_tokens, 0)"),
    ("Seconds", "f.inference_seconds"), ("Reason", "f.reason"),
]


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.db: Path | None = None
        self.conn: sqlite3.Connection | None = None
        self.run_id: int | None = None
        self._count = 0
        self._pages: dict[int, list[tuple]] = {}
        self._order = "f.id"
        self._where = ""
        self._params: list = []
        self.filter_text = ""
        self.status = ""
        self.category = ""

    # -- data source ---------------------------------------------------------------------

    def open(self, db: Path, run_id: int | None = None) -> None:
        self.close()
        self.db = Path(db)
        self.run_id = run_id
        self.refresh()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def refresh(self) -> None:
        """Re-count and drop cached pages (new results arrived, or a filter changed)."""
        self.beginResetModel()
        self._pages.clear()
        self._count = 0
        try:
            if self.conn is None and self.db is not None and self.db.exists():
                self.conn = open_readonly(self.db)
            if self.conn is not None:
                run = self.run_id or self.conn.execute("SELECT max(id) FROM runs").fetchone()[0]
                self._build_where(run)
                self._count = self.conn.execute(
                    f"SELECT count(*) FROM files f LEFT JOIN analysis_results a ON a.file_id = f.id "
                    f"{self._where}", self._params).fetchone()[0]
        except (sqlite3.Error, LedgerError):
            self._count = 0  # not created yet, or mid-migration: the next refresh will do
        self.endResetModel()

    def _build_where(self, run: int | None) -> None:
        clauses, params = ["f.run_id = ?"], [run]
        if self.status:
            clauses.append("f.status = ?")
            params.append(self.status)
        if self.category:
            clauses.append("a.category = ?")
            params.append(self.category)
        if self.filter_text:
            like = f"%{self.filter_text}%"
            clauses.append("(CAST(f.path AS TEXT) LIKE ? OR a.summary LIKE ? OR a.keywords LIKE ?)")
            params += [like, like, like]
        self._where = "WHERE " + " AND ".join(clauses)
        self._params = params

    def set_filters(self, text: str = "", status: str = "", category: str = "") -> None:
        self.filter_text, self.status, self.category = text.strip(), status, category
        self.refresh()

    def _page(self, number: int) -> list[tuple]:
        page = self._pages.get(number)
        if page is None:
            cols = ", ".join(expr for _, expr in COLUMNS)
            try:
                page = self.conn.execute(
                    f"SELECT {cols}, f.message, a.result, a.raw_output, a.decided_by, f.id "
                    f"FROM files f LEFT JOIN analysis_results a ON a.file_id = f.id "
                    f"{self._where} ORDER BY {self._order} LIMIT ? OFFSET ?",
                    [*self._params, PAGE, number * PAGE]).fetchall()
            except sqlite3.Error:
                page = []
            if len(self._pages) > 64:
                self._pages.clear()
            self._pages[number] = page
        return page

    def row(self, index: int) -> tuple | None:
        page = self._page(index // PAGE)
        offset = index % PAGE
        return page[offset] if offset < len(page) else None

    # -- Qt model -------------------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.row(index.row())
        if row is None:
            return None
        value = row[index.column()]
        name = COLUMNS[index.column()][0]
        if name == "Path":
            return display_path(bytes(value))
        if name == "Keywords" and value:
            try:
                return ", ".join(json.loads(value))
            except ValueError:
                return str(value)
        if name == "Personal data":
            return "" if value is None else ("yes" if value else "no")
        if name == "Seconds" and value is not None:
            return f"{value:.3f}"
        return "" if value is None else str(value)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        direction = "DESC" if order == Qt.SortOrder.DescendingOrder else "ASC"
        self._order = f"{COLUMNS[column][1]} {direction}, f.id"
        self.refresh()

    def details(self, index: int) -> dict | None:
        """Everything about one row for the detail pane."""
        row = self.row(index)
        if row is None:
            return None
        n = len(COLUMNS)
        message, result, raw, decided, _file_id = row[n:n + 5]
        return {"path": bytes(row[0]), "status": row[1], "reason": row[9], "message": message,
                "result": json.loads(result) if result else None, "raw_output": raw,
                "decided_by": json.loads(decided) if decided else None}
