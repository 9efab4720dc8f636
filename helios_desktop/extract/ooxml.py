"""Office Open XML (DOCX, XLSX, PPTX) through zipfile and a streaming XML parse.

Body text in reading order with headings marked, tables as rows, sheet names with
their columns and row counts, slide titles and speaker notes, comment and tracked-change
authors, and docProps/core.xml + app.xml. python-docx and openpyxl build whole object
trees (python-docx is reported to take minutes on an 800-row table); this streams.
"""

from __future__ import annotations

import io
import posixpath
import re

from .base import Extracted, ExtractOptions
from .zipparts import Parts, attr, iso_date, local, rid, text_of

ROWS_SHOWN = 30        # spreadsheet rows put in the text, per sheet
SHARED_STRINGS = 50_000


def core_properties(parts: Parts) -> dict:
    """Title, authors, dates, language from docProps/core.xml; producer and counts from app.xml."""
    meta: dict = {}
    if "docProps/core.xml" in parts:
        names = {"title": "title", "creator": "authors", "subject": "subject",
                 "created": "created", "modified": "modified", "language": "language",
                 "lastModifiedBy": "last_modified_by", "keywords": "keywords"}
        for _, elem in parts.xml("docProps/core.xml"):
            key = names.get(local(elem.tag))
            if key and (elem.text or "").strip():
                meta[key] = elem.text.strip()
    if "authors" in meta:
        meta["authors"] = [a.strip() for a in re.split(r";", meta["authors"]) if a.strip()]
    for key in ("created", "modified"):
        if key in meta:
            meta[key] = iso_date(meta[key])
    if "docProps/app.xml" in parts:
        for _, elem in parts.xml("docProps/app.xml"):
            name = local(elem.tag)
            value = (elem.text or "").strip()
            if name == "Application" and value:
                meta["producer"] = value
            elif name in ("Pages", "Slides", "Words") and value.isdigit():
                meta[name.lower()] = int(value)
    return meta


def _docx(parts: Parts, options: ExtractOptions) -> Extracted:
    meta = core_properties(parts)
    lines: list[str] = []
    headings: list[str] = []
    editors: set[str] = set()
    length = 0
    in_table = 0
    cell: list[str] = []
    row: list[str] = []
    tables = 0
    for event, elem in parts.xml("word/document.xml", events=("start", "end")):
        name = local(elem.tag)
        if event == "start":
            if name == "tbl":
                in_table += 1
                tables += 1
            elif name in ("ins", "del"):
                who = attr(elem, "author")
                if who:
                    editors.add(who)
            continue
        if name == "p":
            text = "".join(t.text or "" for t in elem.iter() if local(t.tag) in ("t", "tab"))
            style = next((attr(s, "val") for s in elem.iter() if local(s.tag) == "pStyle"), "")
            if in_table:
                cell.append(text)
            elif text.strip() and length < options.max_chars:
                if style.lower().startswith(("heading", "title")):
                    headings.append(text.strip())
                    text = "# " + text
                lines.append(text)
                length += len(text)
            elem.clear()
        elif name == "tc":
            row.append(" ".join(c for c in cell if c.strip()))
            cell = []
        elif name == "tr":
            if length < options.max_chars:
                line = " | ".join(row)
                lines.append(line)
                length += len(line)
            row = []
            elem.clear()
        elif name == "tbl":
            in_table -= 1
            lines.append("")
    comments = []
    if "word/comments.xml" in parts:
        for _, elem in parts.xml("word/comments.xml"):
            if local(elem.tag) == "comment":
                who = attr(elem, "author")
                comments.append(f"{who}: {text_of(elem).strip()}" if who else text_of(elem).strip())
                if who:
                    editors.add(who)
                elem.clear()
    if headings:
        meta["headings"] = headings[:20]
    if tables:
        meta["tables"] = tables
    if comments:
        meta["comments"] = len(comments)
    if editors:
        meta["editors"] = sorted(editors)[:20]
    text = "\n".join(lines).strip()
    if comments:
        text += "\n\nComments:\n" + "\n".join(comments[:50])
    notes = [f"{len(comments)} comments"] if comments else []
    return Extracted(label="Word document", text=text, meta=meta, notes=notes)


def _rels(parts: Parts, rels: str, base: str) -> dict[str, str]:
    """Relationship id -> part path, from a .rels part."""
    out = {}
    if rels not in parts:
        return out
    for _, elem in parts.xml(rels):
        if local(elem.tag) == "Relationship":
            target = attr(elem, "Target")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(base, target))
            out[attr(elem, "Id")] = path
    return out


def _column_index(ref: str) -> int:
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + (ord(ch.upper()) - 64)
    return max(n - 1, 0)


def _xlsx(parts: Parts, options: ExtractOptions) -> Extracted:
    meta = core_properties(parts)
    shared: list[str] = []
    if "xl/sharedStrings.xml" in parts:
        for _, elem in parts.xml("xl/sharedStrings.xml"):
            if local(elem.tag) == "si":
                shared.append(text_of(elem))
                elem.clear()
                if len(shared) >= SHARED_STRINGS:
                    break
    rels = _rels(parts, "xl/_rels/workbook.xml.rels", "xl")
    sheets = []
    for _, elem in parts.xml("xl/workbook.xml"):
        if local(elem.tag) == "sheet":
            sheets.append((attr(elem, "name"), rels.get(rid(elem), "")))
    described, lines = [], []
    for name, part in sheets:
        rows = 0
        columns = 0
        shown: list[str] = []
        header: list[str] = []
        if part in parts:
            for _, elem in parts.xml(part):
                if local(elem.tag) != "row":
                    continue
                values: dict[int, str] = {}
                for c in elem:
                    if local(c.tag) != "c":
                        continue
                    kind = c.get("t", "")
                    raw = next((v.text or "" for v in c if local(v.tag) == "v"), "")
                    if kind == "s" and raw.isdigit():
                        value = shared[int(raw)] if int(raw) < len(shared) else ""
                    elif kind == "inlineStr":
                        value = text_of(c)
                    else:
                        value = raw
                    if value != "":
                        values[_column_index(c.get("r", ""))] = value
                elem.clear()
                if not values:
                    continue
                rows += 1
                width = max(values) + 1
                columns = max(columns, width)
                cells = [values.get(i, "") for i in range(width)]
                if rows == 1:
                    header = cells
                if rows <= ROWS_SHOWN:
                    shown.append(" | ".join(cells))
        described.append({"name": name, "rows": rows, "columns": header[:30] if header else [],
                          "width": columns})
        lines.append(f"Sheet {name} ({rows} rows x {columns} columns)")
        lines.extend(shown)
        lines.append("")
    meta["sheets"] = len(sheets)
    meta["sheet_list"] = described
    return Extracted(label="spreadsheet", text="\n".join(lines).strip(), meta=meta)


def _slide_text(parts: Parts, part: str) -> tuple[str, list[str]]:
    """(title, other paragraphs) of one slide or notes page."""
    title, body = "", []
    for _, elem in parts.xml(part):
        if local(elem.tag) != "sp":
            continue
        kind = next((attr(p, "type") for p in elem.iter() if local(p.tag) == "ph"), None)
        paragraphs = ["".join(t.text or "" for t in p.iter() if local(t.tag) == "t")
                      for p in elem.iter() if local(p.tag) == "p"]
        paragraphs = [p for p in paragraphs if p.strip()]
        if kind in ("title", "ctrTitle") and not title:
            title = " ".join(paragraphs)
        elif kind not in ("sldNum", "sldImg", "dt", "ftr"):
            body.extend(paragraphs)
        elem.clear()
    return title, body


def _pptx(parts: Parts, options: ExtractOptions) -> Extracted:
    meta = core_properties(parts)
    rels = _rels(parts, "ppt/_rels/presentation.xml.rels", "ppt")
    order = [rels.get(rid(e), "") for _, e in parts.xml("ppt/presentation.xml")
             if local(e.tag) == "sldId"]
    lines, titles, notes_count, length = [], [], 0, 0
    for number, part in enumerate(order, 1):
        if part not in parts or length >= options.max_chars:
            continue
        title, body = _slide_text(parts, part)
        titles.append(title)
        lines.append(f"Slide {number}: {title}" if title else f"Slide {number}")
        lines.extend(body)
        folder, base = posixpath.split(part)
        slide_rels = _rels(parts, f"{folder}/_rels/{base}.rels", folder)
        for target in slide_rels.values():
            if "notesSlide" in target and target in parts:
                _, notes = _slide_text(parts, target)
                if notes:
                    notes_count += 1
                    lines.append("Notes: " + " ".join(notes))
        length = sum(len(line) for line in lines)
    meta["slides"] = len(order)
    meta["slide_titles"] = [t for t in titles if t][:30]
    if notes_count:
        meta["notes_slides"] = notes_count
    out_notes = [f"speaker notes on {notes_count} slides"] if notes_count else []
    return Extracted(label="presentation", text="\n".join(lines), meta=meta, notes=out_notes)


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str) -> Extracted:
    parts = Parts(io.BytesIO(data), options)
    reader = {"docx": _docx, "xlsx": _xlsx, "pptx": _pptx}[kind]
    return reader(parts, options)
