"""OpenDocument text, spreadsheets and presentations (ODT, ODS, ODP): meta.xml and a
streaming read of content.xml (headings, paragraphs, tables as rows, slides and notes)."""

from __future__ import annotations

import io

from .base import Extracted, ExtractOptions
from .zipparts import Parts, attr, iso_date, local

ROWS_SHOWN = 30


def meta_properties(parts: Parts) -> dict:
    meta: dict = {}
    if "meta.xml" not in parts:
        return meta
    names = {"title": "title", "initial-creator": "authors", "creator": "last_modified_by",
             "creation-date": "created", "date": "modified", "language": "language",
             "generator": "producer", "subject": "subject"}
    for _, elem in parts.xml("meta.xml"):
        name = local(elem.tag)
        if name == "document-statistic":
            for key in ("page-count", "table-count", "word-count"):
                value = attr(elem, key)
                if value.isdigit():
                    meta[key.split("-")[0] + "s"] = int(value)
        key = names.get(name)
        if key and (elem.text or "").strip():
            meta[key] = elem.text.strip()
    for key in ("created", "modified"):
        if key in meta:
            meta[key] = iso_date(meta[key])
    if "authors" in meta:
        meta["authors"] = [meta["authors"]]
    elif "last_modified_by" in meta:
        meta["authors"] = [meta["last_modified_by"]]
    return meta


def _paragraph(elem) -> str:
    """A text:p or text:h with its spaces, tabs and line breaks."""
    out = []

    def walk(node):
        name = local(node.tag)
        if name == "s":
            out.append(" " * int(attr(node, "c") or 1))
        elif name == "tab":
            out.append("\t")
        elif name == "line-break":
            out.append("\n")
        elif name in ("note", "annotation"):
            return  # footnotes and comments are read apart
        else:
            out.append(node.text or "")
            for child in node:
                walk(child)
                out.append(child.tail or "")
            return
        out.append("")

    walk(elem)
    return "".join(out)


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str) -> Extracted:
    parts = Parts(io.BytesIO(data), options)
    meta = meta_properties(parts)
    lines: list[str] = []
    headings, sheets, titles, comments = [], [], [], []
    length = 0
    stack: list[str] = []  # open containers that change how a paragraph is read
    row: list[str] = []
    sheet = None
    slide_lines = 0
    for event, elem in parts.xml("content.xml", events=("start", "end")):
        name = local(elem.tag)
        if event == "start":
            if name in ("table-cell", "notes", "annotation"):
                stack.append(name)
            elif name == "table":
                sheet = {"name": attr(elem, "name"), "rows": 0, "columns": []}
                if kind == "ods":
                    sheets.append(sheet)
                    lines.append(f"Sheet {sheet['name']}")
            elif name == "page" and kind == "odp":
                titles.append(attr(elem, "name"))
                lines.append(f"Slide {len(titles)}")
                slide_lines = 0
            continue
        if name in ("table-cell", "notes", "annotation") and stack:
            stack.pop()
            if name == "table-cell":
                row.append(" ".join(_paragraph(p) for p in elem if local(p.tag) == "p"))
                elem.clear()
            elif name == "annotation":
                who = next((c.text for c in elem.iter() if local(c.tag) == "creator"), "")
                body = " ".join(_paragraph(p) for p in elem if local(p.tag) == "p")
                comments.append(f"{who}: {body}" if who else body)
                elem.clear()
            continue
        if name == "table-row":
            cells = list(row)
            while cells and not cells[-1].strip():
                cells.pop()
            row = []
            repeat = int(attr(elem, "number-rows-repeated") or 1)
            elem.clear()
            if not cells or sheet is None:
                continue
            sheet["rows"] += 1 if repeat > 1000 else repeat  # filler rows repeat to the sheet's end
            if sheet["rows"] == 1:
                sheet["columns"] = cells[:30]
            if sheet["rows"] <= ROWS_SHOWN and length < options.max_chars:
                line = " | ".join(cells)
                lines.append(line)
                length += len(line)
        elif name in ("p", "h") and not (stack and stack[-1] in ("table-cell", "annotation")):
            text = _paragraph(elem)
            in_notes = bool(stack) and stack[-1] == "notes"
            elem.clear()
            if not text.strip() or length >= options.max_chars:
                continue
            if name == "h":
                headings.append(text.strip())
                text = "# " + text
            elif kind == "odp" and not in_notes and slide_lines == 0 and titles:
                titles[-1] = text.strip()  # the first frame's text is the slide's title
                lines[-1] = f"Slide {len(titles)}: {text.strip()}"
                slide_lines += 1
                continue
            if in_notes:
                text = "Notes: " + text
            slide_lines += 1
            lines.append(text)
            length += len(text)
        elif name == "table" and kind != "ods":
            lines.append("")
    label = {"odt": "OpenDocument text", "ods": "spreadsheet", "odp": "presentation"}[kind]
    if headings:
        meta["headings"] = headings[:20]
    if kind == "ods":
        meta["sheets"] = len(sheets)
        meta["sheet_list"] = [{**s, "width": len(s["columns"])} for s in sheets]
    if kind == "odp":
        meta["slides"] = len(titles)
        meta["slide_titles"] = [t for t in titles if t][:30]
    text = "\n".join(lines).strip()
    if comments:
        meta["comments"] = len(comments)
        text += "\n\nComments:\n" + "\n".join(comments[:50])
    return Extracted(label=label, text=text, meta=meta)
