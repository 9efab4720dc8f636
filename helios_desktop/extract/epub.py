"""EPUB through zipfile: the package's title, authors, language and date, chapter
titles and the text of the first chapters in spine order (XHTML read by the standard
HTML parser, which expands no declared entities)."""

from __future__ import annotations

import io
import posixpath
from html.parser import HTMLParser

from .base import Corrupt, Extracted, ExtractOptions, clip
from .zipparts import Parts, attr, local


class _Chapter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.heading = ""
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "title", "script", "style"):
            self._in.append(tag)
        if tag in ("p", "div", "br", "li", "h1", "h2", "h3"):
            self.text.append("\n")

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        where = self._in[-1] if self._in else ""
        if where in ("script", "style", "title"):
            return
        if where in ("h1", "h2") and not self.heading and data.strip():
            self.heading = data.strip()
        self.text.append(data)


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str = "") -> Extracted:
    parts = Parts(io.BytesIO(data), options)
    opf = next((attr(e, "full-path") for _, e in parts.xml("META-INF/container.xml")
                if local(e.tag) == "rootfile"), "")
    if not opf or opf not in parts:
        raise Corrupt("META-INF/container.xml names no package document")
    base = posixpath.dirname(opf)
    meta: dict = {}
    manifest, spine = {}, []
    for _, elem in parts.xml(opf):
        name = local(elem.tag)
        value = (elem.text or "").strip()
        if name in ("title", "language", "date", "publisher", "description") and value:
            meta.setdefault(name if name != "date" else "created", value)
        elif name == "creator" and value:
            meta.setdefault("authors", []).append(value)
        elif name == "item":
            manifest[attr(elem, "id")] = posixpath.normpath(posixpath.join(base, attr(elem, "href")))
        elif name == "itemref":
            spine.append(attr(elem, "idref"))
    chapters, texts, length = [], [], 0
    for idref in spine:
        part = manifest.get(idref)
        if not part or part not in parts:
            continue
        parser = _Chapter()
        parser.feed(parts.read(part).decode("utf-8", "replace"))
        parser.close()
        if parser.heading:
            chapters.append(parser.heading)
        if length < options.max_chars:
            body = "\n".join(line.strip() for line in "".join(parser.text).splitlines() if line.strip())
            texts.append(body)
            length += len(body)
    meta["chapters"] = len(spine)
    meta["chapter_titles"] = chapters[:30]
    return Extracted(label="e-book", text=clip("\n\n".join(texts), options.max_chars), meta=meta)
