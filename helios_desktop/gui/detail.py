"""The detail pane of one result: its fields, who decided each, the JSON, opening the file."""

from __future__ import annotations

import json
import os

from ..analysis.quality import decided_note, verdict_lines
from ..store.reader import personal_evidence
from .qt import QDesktopServices, QHeaderView, QObject, QTableWidgetItem, QUrl
from .session import Session


def field_rows(info: dict) -> list[tuple[str, str, str]]:
    """(field, value, decided by) for each field of a result, in the schema's order."""
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
    return rows + metadata_rows(info.get("metadata"))


# The document's metadata as the extractor read it, in the order a person asks about it.
_META_LABELS = (
    ("title", "title"), ("authors", "authors"), ("editors", "edited by"),
    ("sender", "from"), ("recipients", "to"), ("subject", "subject"), ("date", "date"),
    ("created", "created"), ("modified", "modified"), ("pages", "pages"), ("slides", "slides"),
    ("sheets", "sheets"), ("sheet_list", "sheet contents"), ("slide_titles", "slide titles"),
    ("headings", "headings"), ("chapters", "chapters"), ("chapter_titles", "chapter titles"),
    ("attachments", "attachments"), ("comments", "comments"), ("producer", "producer"),
    ("language", "declared language"), ("camera", "camera"), ("width", "width"),
    ("height", "height"), ("gps", "GPS position"),
    ("artist", "artist"), ("album", "album"), ("year", "year"), ("duration_s", "duration (s)"),
    ("members", "members"), ("total_size", "total size (bytes)"), ("top_folders", "top folders"),
    ("kinds", "kinds inside"), ("tables", "tables"), ("table_list", "table contents"),
    ("inner", "compressed file"), ("compression", "compression"), ("notes", "extractor notes"))


def _meta_value(key: str, value) -> str:
    if key == "gps" and isinstance(value, dict):
        return f"{value.get('latitude', 0):.5f}, {value.get('longitude', 0):.5f}"
    if key in ("sheet_list", "table_list") and isinstance(value, list):
        parts = []
        for part in value[:6]:
            if not isinstance(part, dict):
                continue
            rows = part.get("rows")
            size = f"{rows} rows" if rows is not None else "view"
            columns = ", ".join(map(str, (part.get("columns") or [])[:6]))
            parts.append(f"{part.get('name', '?')} ({size}: {columns})")
        return "; ".join(parts)
    if isinstance(value, list):
        shown = ", ".join(map(str, value[:8]))
        return shown + (f" and {len(value) - 8} more" if len(value) > 8 else "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def metadata_rows(metadata: dict | None) -> list[tuple[str, str, str]]:
    """(field, value, "document") for what the extractor read of a document: title,
    authors, dates, pages, camera, members, its notes. [] for a text file."""
    if not isinstance(metadata, dict):
        return []
    # (the format is a result field of its own: it is not repeated here)
    rows = []
    for key, label in _META_LABELS:
        value = metadata.get(key)
        if value in (None, "", [], {}):
            continue
        rows.append((label, _meta_value(key, value), "document"))
    if metadata.get("text_layer") is False and "notes" not in metadata:
        rows.append(("text layer", "none (a scan)", "document"))
    return rows


def json_text(info: dict) -> str:
    lines = []
    if info["result"] is not None:
        lines.append(json.dumps(info["result"], indent=2, ensure_ascii=False))
    if info["raw_output"]:
        lines += ["raw model output:", info["raw_output"]]
    if info["decided_by"]:
        lines += ["", *verdict_lines(info["decided_by"], info.get("quality"))]
    if info.get("evidence"):
        lines.append("personal data evidence: " + json.dumps(info["evidence"], ensure_ascii=False))
    if info.get("metadata"):
        lines += ["", "document metadata:",
                  json.dumps(info["metadata"], indent=2, ensure_ascii=False)]
    return "\n".join(lines)


class DetailPane(QObject):
    """Owns detailTitle, detailFields, detailText and the Open file, Show in folder and JSON
    buttons."""

    def __init__(self, form, session: Session, parent=None):
        super().__init__(parent)
        self.form, self.session = form, session
        self.selected: bytes = b""
        f = form
        f.detailFields.setMinimumHeight(150)
        fields_header = f.detailFields.horizontalHeader()
        fields_header.setStretchLastSection(False)
        # value and decided-by share the width: a long verdict must not squeeze the value
        # to one word a line (seen at 800x600)
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.Stretch)):
            fields_header.setSectionResizeMode(col, mode)
        f.detailFields.verticalHeader().setVisible(False)
        f.openFileButton.clicked.connect(lambda: self.open_selected(folder=False))
        f.showFolderButton.clicked.connect(lambda: self.open_selected(folder=True))
        f.jsonButton.toggled.connect(f.detailText.setVisible)
        f.jsonButton.toggled.connect(
            lambda on: f.jsonButton.setText("Hide JSON" if on else "Show JSON"))

    def show(self, info: dict | None, shown_path: str = "") -> None:
        """One row's details (``ResultsModel.details``), or none; ``shown_path`` as the table
        shows it."""
        f = self.form
        for w in (f.openFileButton, f.showFolderButton, f.jsonButton):
            w.setEnabled(info is not None)
        table = f.detailFields
        if info is None:
            self.selected = b""
            f.detailTitle.setText("Select a row to see its result.")
            table.setRowCount(0)
            f.detailText.setPlainText("")
            return
        self.selected = info["path"]
        title = f"{shown_path} · {info['status']}"
        if info["reason"]:
            title += f" ({info['reason']}{': ' + info['message'] if info['message'] else ''})"
        f.detailTitle.setText(title)
        rows = field_rows(info)
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                table.setItem(r, c, QTableWidgetItem(text))
        table.resizeRowsToContents()
        f.detailText.setPlainText(json_text(info))

    def open_selected(self, folder: bool) -> None:
        path = os.fsdecode(self.selected)
        if not path:
            return
        target = os.path.dirname(path) if folder else path
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(target)):
            # The status bar and the log, not the preview line: that keeps the folder's count.
            text = (f"No application could open {target}: this desktop has no handler for it "
                    "(on Linux, xdg-open and a file manager).")
            self.session.status.emit(text)
            self.session.log.emit(text)
