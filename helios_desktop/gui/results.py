"""The results table: a Qt model over ``LedgerReader``, a page at a time.

Only the rows on screen are read (pages of 256, cached), so 100,000 rows scroll
smoothly; sorting and filtering happen in the reader's SQL. The columns are the
run's schema's (the built-in fields, or a custom schema's). All file-derived text is
returned as plain strings (the view never interprets it as rich text).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..records import display_path
from ..store.reader import Column, LedgerReader, ResultQuery
from .qt import QAbstractTableModel, QModelIndex, Qt

# The ledger's word for a file a worker holds now, as a person says it.
STATUS_LABELS = {"leased": "in progress"}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


PAGE = 256


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.db: Path | None = None
        self.reader: LedgerReader | None = None
        self.query = ResultQuery()
        self.columns: list[Column] = _default_columns()
        self._count = 0
        self.total = 0          # rows of the run without filters
        self.root: bytes = b""  # the analyzed folder: paths show relative to it
        self._pages: dict[int, list[dict]] = {}

    # -- data source ---------------------------------------------------------------------

    @property
    def run_id(self) -> int | None:
        return self.query.run_id

    @property
    def filter_text(self) -> str:
        return self.query.text

    def open(self, db: Path, run_id: int | None = None, root: str | bytes | None = None) -> None:
        self.close()
        self.db = Path(db)
        self.reader = LedgerReader(self.db)
        if root is not None:
            self.root = folder_root(root)
        self.query = self.query.with_(run_id=run_id)
        self.refresh()

    def clear(self) -> None:
        """No run shown (another folder was opened)."""
        self.close()
        self.query = ResultQuery(text=self.query.text, status=self.query.status,
                                 category=self.query.category)
        self.refresh()

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        self.reader = None

    @property
    def filtered(self) -> bool:
        q = self.query
        return bool(q.text or q.status or q.category or q.language or q.format or q.extension
                    or q.quality)

    def relative(self, path: bytes) -> str:
        return relative_path(self.root, path)

    def refresh(self) -> None:
        """Re-count and drop cached pages (new results arrived, or a filter changed)."""
        self.beginResetModel()
        self._pages.clear()
        self._count = self.total = 0
        if self.reader is not None:
            self.columns = self.reader.columns(self.query.run_id)
            self._count = self.reader.count(self.query)
            self.total = (self.reader.count(ResultQuery(run_id=self.query.run_id))
                          if self.filtered else self._count)
        self.endResetModel()

    def set_filters(self, text: str = "", status: str = "", category: str = "",
                    language: str = "", extension: str = "", quality: str = "",
                    format: str = "") -> None:
        self.query = self.query.with_(text=text.strip(), status=status, category=category,
                                      language=language, extension=extension, quality=quality,
                                      format=format)
        self.refresh()

    def _page(self, number: int) -> list[dict]:
        page = self._pages.get(number)
        if page is None:
            page = (self.reader.page(self.query, self.columns, number * PAGE, PAGE)
                    if self.reader is not None else [])
            if len(self._pages) > 64:
                self._pages.clear()
            self._pages[number] = page
        return page

    def row(self, index: int) -> dict | None:
        page = self._page(index // PAGE)
        offset = index % PAGE
        return page[offset] if offset < len(page) else None

    # -- Qt model -------------------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.row(index.row())
        if row is None:
            return None
        name = self.columns[index.column()].name
        value = row[name]
        if name == "path":
            return display_path(value) if role == Qt.ItemDataRole.ToolTipRole else self.relative(value)
        if name == "keywords" and value:
            try:
                return ", ".join(json.loads(value))
            except ValueError:
                return str(value)
        if name == "status":
            return status_label(value)
        if name == "contains_personal_data":
            return "" if value is None else ("yes" if value else "no")
        if name == "seconds" and value is not None:
            return f"{value:.3f}"
        return "" if value is None else str(value)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        name = self.columns[column].name if 0 <= column < len(self.columns) else ""
        self.query = self.query.with_(order_by=name,
                                      descending=order == Qt.SortOrder.DescendingOrder)
        self.refresh()

    def details(self, index: int) -> dict | None:
        """Everything about one row for the detail pane."""
        row = self.row(index)
        if row is None:
            return None
        return {"path": row["path"], "status": row["status"], "reason": row["reason"],
                "message": row["message"], "result": row["result"],
                "raw_output": row["raw_output"], "decided_by": row["decided_by"],
                "evidence": row.get("evidence"),
                "quality": row.get("quality"), "metadata": row.get("metadata")}


def folder_root(folder: str | bytes) -> bytes:
    """The analyzed folder as a prefix that paths under it start with."""
    return os.fsencode(folder).rstrip(b"/") + b"/"


def relative_path(root: bytes, path: bytes) -> str:
    """A path as the window shows it: relative to the analyzed folder's ``root``."""
    if root and path.startswith(root):
        path = path[len(root):]
    return display_path(path)


def _default_columns() -> list[Column]:
    return LedgerReader("/nonexistent").columns(None)
