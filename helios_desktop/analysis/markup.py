"""Evidence from data and markup files: CSV, JSON, notebooks, HTML and XML."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from html.parser import HTMLParser

from .prose import clean, first_sentence, join_names


def csv_summary(text: str) -> str:
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 5)[0] if "\n" in sample else sample,
                                      delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return ""
    header = [c.strip() for c in rows[0]]
    has_header = all(h and not re.fullmatch(r"[-+\d.,:/ ]+", h) for h in header)
    n = len(rows) - (1 if has_header else 0)
    cols = f"columns {join_names(header, 8)}" if has_header else f"{len(header)} columns"
    return clean(f"Table of {n} row{'s' if n != 1 else ''} with {cols}.", 240)


def json_summary(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        keys = re.findall(r'^\s{0,4}"([^"]{1,40})"\s*:', text[:20000], re.M)
        return f"JSON document (cut or invalid) with keys {join_names(keys)}." if keys else ""
    if isinstance(data, dict) and "cells" in data and "nbformat" in data:
        return notebook_summary(data)
    return _describe_json(data)


def _describe_json(data, depth: int = 0) -> str:
    if isinstance(data, dict):
        keys = list(data)
        out = f"JSON object with keys {join_names(keys, 8)}" if keys else "empty JSON object"
        if len(keys) == 1 and isinstance(data[keys[0]], list) and depth == 0:
            inner = data[keys[0]]
            out = f"JSON object whose {keys[0]!r} holds {_describe_list(inner)}"
        return out + ("." if depth == 0 else "")
    if isinstance(data, list):
        return f"JSON array of {_describe_list(data)}."
    return f"JSON value {clean(json.dumps(data), 60)}."


def _describe_list(items: list) -> str:
    dicts = [i for i in items if isinstance(i, dict)]
    if dicts and len(dicts) == len(items):
        keys = Counter(k for d in dicts for k in d)
        return (f"{len(items)} record{'s' if len(items) != 1 else ''} with fields "
                f"{join_names([k for k, _ in keys.most_common()], 8)}")
    return f"{len(items)} item{'s' if len(items) != 1 else ''}"


def notebook_summary(nb: dict) -> str:
    cells = nb.get("cells") or []
    kinds = Counter(c.get("cell_type", "?") for c in cells if isinstance(c, dict))
    lang = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("language") or \
        ((nb.get("metadata") or {}).get("language_info") or {}).get("name") or ""
    title = ""
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            src = cell.get("source")
            src = "".join(src) if isinstance(src, list) else str(src or "")
            heading = re.search(r"^#+\s*(.+)$", src, re.M)
            title = heading.group(1) if heading else first_sentence(src)
            if title:
                break
    out = f"Jupyter notebook{f' ({lang})' if lang else ''}"
    if title:
        out += f" “{clean(title, 80)}”"
    out += f" with {kinds.get('code', 0)} code and {kinds.get('markdown', 0)} markdown cells"
    imports = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source")
            src = "".join(src) if isinstance(src, list) else str(src or "")
            imports += re.findall(r"^\s*(?:import|from)\s+([\w]+)", src, re.M)
    if imports:
        out += f", using {join_names(imports, 4)}"
    return clean(out + ".", 240)


class _Html(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title, self.h1, self.para = "", "", ""
        self._in = None
        self._buf: list[str] = []
        self.tags = Counter()

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        if tag in ("title", "h1", "p") and self._in is None:
            self._in, self._buf = tag, []

    def handle_endtag(self, tag):
        if tag == self._in:
            text = clean(" ".join(self._buf), 200)
            if tag == "title" and not self.title:
                self.title = text
            elif tag == "h1" and not self.h1:
                self.h1 = text
            elif tag == "p" and not self.para and len(text.split()) >= 4:
                self.para = text
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._buf.append(data)


def html_summary(text: str) -> str:
    parser = _Html()
    try:
        parser.feed(text[:200000])
    except Exception:  # HTMLParser is lenient; anything else means "not HTML after all"
        return ""
    name = parser.title or parser.h1
    if not (name or parser.para):
        return ""
    out = f"Web page “{name}”" if name else "Web page"
    if parser.h1 and parser.h1 != name:
        out += f", headed “{parser.h1}”"
    if parser.para:
        out += f": {first_sentence(parser.para)}"
    forms = parser.tags.get("form", 0)
    if forms:
        out += f" ({forms} form{'s' if forms > 1 else ''})"
    return clean(out, 240)


def xml_summary(text: str) -> str:
    root = re.search(r"<([A-Za-z_][\w:.-]*)[\s>]", re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "",
                                                          text[:20000], flags=re.S))
    if not root:
        return ""
    tags = Counter(re.findall(r"<([A-Za-z_][\w:.-]*)[\s>/]", text[:200000]))
    tags.pop(root.group(1), None)
    common = [t for t, _ in tags.most_common(6)]
    out = f"XML document with root <{root.group(1)}>"
    if common:
        top, n = tags.most_common(1)[0]
        out += f", {n} <{top}> element{'s' if n > 1 else ''}; elements {join_names(common)}"
    return clean(out + ".", 240)


class _Visible(HTMLParser):
    """The words a browser shows: data outside script and style, tags and attributes gone."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(text: str) -> str:
    """An HTML page's text as read, for its keywords: YAKE over the raw page picked
    "href", "div class" and "img src" (seen on the HTML manuals of /usr/share/doc)."""
    parser = _Visible()
    try:
        parser.feed(text[:200000])
        parser.close()
    except Exception:  # a page HTMLParser cannot take: the tags at least go
        return re.sub(r"<[^<>]*>", " ", text)
    return "\n".join(parser.parts)
