"""Evidence for documents read by ``extract/``: the summary each kind deserves, from its
metadata and its text (a report's title and first heading, a spreadsheet's sheets and
columns, a deck's slide titles, a message's sender, date and subject, a photo's camera,
date and place, an archive's contents), and the category a document's kind allows.

The extractor puts the metadata in ``hints["meta"]`` and, for the model, as
"Name: value" lines before the text; ``body`` takes those lines off again."""

from __future__ import annotations

import re

from .prose import _cap, body_paragraphs, clean, first_sentence

PROSE_DOCUMENTS = ("PDF document", "Word document", "OpenDocument text", "RTF document", "e-book")
DOCUMENT_LABELS = PROSE_DOCUMENTS + ("spreadsheet", "presentation", "email message", "mailbox",
                                     "photo", "image", "audio file", "video file", "zip archive",
                                     "tar archive", "SQLite database")
_HEADER = re.compile(r"^(?:Title|Authors|Subject|Created|Modified|Pages|Slides|Sheets|Producer|"
                     r"Language): .*$")
_MONEY = re.compile(r"(?:[$€£]\s?\d|\d[\d,.]*\s?(?:EUR|USD|GBP|CHF|NOK|SEK)\b|\b(?:amount|total|"
                    r"invoice|paid|price|cost|balance|salary|budget)\b)", re.I)


def body(text: str) -> str:
    """The document's own text, without the metadata lines put before it."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and _HEADER.match(lines[i]):
        i += 1
    if i and (i == len(lines) or not lines[i].strip()):
        return "\n".join(lines[i:]).strip()
    return text


_LAYOUT = re.compile(r"^(?:Slide \d+:?|Notes:|Sheet .+?(?: \(\d+ rows x \d+ columns\))?$|#+ )\s*", re.M)


def keyword_text(text: str) -> str:
    """The document's words for keywords: without the metadata lines and the labels the
    extractor wrote ("Slide 3:", "Notes:", "Sheet Invoices (4 rows x 4 columns)")."""
    # each line, table cell and bullet is its own phrase: YAKE must not join "week" and "Greet"
    lines = _LAYOUT.sub("", body(text)).replace(" | ", ". ").split("\n")
    return "\n".join(line.rstrip(" .") + "." for line in lines if line.strip())


def _quoted(meta: dict) -> str:
    title = clean(str(meta.get("title") or ""), 90)
    return f" “{title}”" if title else ""


def _by(meta: dict) -> str:
    authors = [re.sub(r"\s*<[^>]+>", "", str(a)).strip() for a in meta.get("authors") or []]
    authors = [a for a in authors if a]
    return f" by {', '.join(authors[:3])}" if authors else ""


def _count(n, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _prose(label: str, text: str, meta: dict) -> str:
    out = _cap(label) + _quoted(meta) + _by(meta)
    if meta.get("pages"):
        out += f", {_count(meta['pages'], 'page')}"
    if meta.get("text_layer") is False:
        return clean(f"Scanned {label}{_quoted(meta)}, {_count(meta.get('pages', 0), 'page')}, "
                     "no text layer" + (f" ({meta['producer']})" if meta.get("producer") else "")
                     + ".", 240)
    headings = [h for h in meta.get("headings") or meta.get("chapter_titles") or []
                if h.strip() and h.strip() != str(meta.get("title", "")).strip()]
    if headings:
        out += f"; first heading “{clean(headings[0], 70)}”"
    main = body(text)
    known = [str(meta.get("title") or "").strip()] + [h.strip() for h in headings[:1]]
    for para in body_paragraphs(main):
        para = para.lstrip("# ")
        for opening in known:  # the title or heading again at the top of the text
            if opening and para.startswith(opening):
                para = para[len(opening):].lstrip(" :\n")
        sentence = first_sentence(para, 130)
        if sentence and len(sentence.split()) >= 4 and sentence.strip("# ") not in meta.get("title", ""):
            return clean(f"{out}: {sentence}", 240)
    return clean(out + ".", 240)


def _sheets(meta: dict) -> str:
    sheets = meta.get("sheet_list") or []
    parts = []
    for s in sheets[:4]:
        cols = ", ".join(str(c) for c in s.get("columns", [])[:5] if str(c).strip())
        parts.append(f"{s['name']} ({_count(s.get('rows', 0), 'row')}" + (f": {cols})" if cols else ")"))
    out = f"Spreadsheet{_quoted(meta)} with {_count(len(sheets), 'sheet')}"
    return clean(out + (": " + "; ".join(parts) if parts else "") + ".", 240)


def _deck(meta: dict) -> str:
    titles = meta.get("slide_titles") or []
    out = f"Presentation{_quoted(meta)}{_by(meta)}, {_count(meta.get('slides', 0), 'slide')}"
    if titles:
        out += ": " + "; ".join(clean(t, 60) for t in titles[:5])
    if meta.get("notes_slides"):
        out += f" (speaker notes on {_count(meta['notes_slides'], 'slide')})"
    return clean(out + ".", 240)


def _email(text: str, meta: dict) -> str:
    sender = re.sub(r"\s*<[^>]+>", "", str(meta.get("sender", ""))).strip('" ') or \
        str(meta.get("sender", ""))
    out = "Email" + (f" from {sender}" if sender else "")
    if meta.get("date"):
        day = re.search(r"\d{1,2} \w{3} \d{4}", str(meta["date"]))
        out += f" on {day.group(0) if day else meta['date']}"
    if meta.get("subject"):
        out += f" about “{clean(str(meta['subject']), 80)}”"
    _, _, rest = text.partition("\n\n")
    paras = [p for p in re.split(r"\n\s*\n", rest) if len(p.split()) >= 5]
    if paras:
        out += f": {first_sentence(paras[0], 110)}"
    if meta.get("attachments"):
        out += f" (attached: {', '.join(a.split(' (')[0] for a in meta['attachments'][:3])})"
    return clean(out, 240)


def _mailbox(meta: dict) -> str:
    out = f"Mailbox of {_count(meta.get('messages', 0), 'message')}"
    if meta.get("first"):
        out += f" from {meta['first']} to {meta.get('last', meta['first'])}"
    senders = [re.sub(r"\s*<[^>]+>", "", s).strip('" ') for s in meta.get("senders") or []]
    if senders:
        out += f", mostly from {', '.join(senders[:3])}"
    return clean(out + ".", 240)


def _image(label: str, meta: dict) -> str:
    out = "Photo" if label == "photo" else f"{meta.get('format', '')} image".strip()
    if meta.get("created"):
        out += f" taken {meta['created'][:10]}"
    if meta.get("camera"):
        out += f" with a {meta['camera']}"
    gps = meta.get("gps")
    if gps:
        out += f" at {gps['latitude']:.4f}, {gps['longitude']:.4f}"
    out += f" ({meta.get('width')} x {meta.get('height')} pixels"
    out += f", {meta['format']})" if label == "photo" else ")"
    return clean(out + ".", 240)


def _media(label: str, meta: dict) -> str:
    out = _cap(label) + (f" “{meta['title']}”" if meta.get("title") else "")
    if meta.get("artist"):
        out += f" by {meta['artist']}"
    extra = [str(meta[k]) for k in ("album", "year") if meta.get(k)]
    if extra:
        out += f" ({', '.join(extra)})"
    if meta.get("duration_s") is not None:
        s = int(meta["duration_s"])
        out += f", {s // 60}:{s % 60:02d} long"
    return clean(out + ".", 240)


def _archive(label: str, meta: dict, notes: list[str]) -> str:
    out = f"{_cap(label)} of {_count(meta.get('members', 0), 'file')} ({meta.get('total_size', 0)} bytes)"
    tops = [t.split(" (")[0] for t in meta.get("top_folders") or [] if not t.startswith("(top")]
    if tops:
        out += f" in {', '.join(tops[:3])}"
    kinds = [k.split(" (")[0] for k in meta.get("kinds") or []]
    if kinds:
        out += f": {', '.join(kinds[:5])} files"
    bomb = next((n for n in notes if "zip bomb" in n or "nested" in n), "")
    return clean(out + (f"; {bomb}" if bomb else "") + ".", 240)


def _database(meta: dict) -> str:
    tables = meta.get("table_list") or []
    parts = [f"{t['name']} ({_count(t['rows'], 'row') if t.get('rows') is not None else 'view'}: "
             f"{', '.join(t['columns'][:4])})" for t in tables[:4]]
    return clean(f"SQLite database with {_count(meta.get('tables', 0), 'table')}"
                 + (": " + "; ".join(parts) if parts else "") + ".", 240)


_CHANGELOG = re.compile(r"^(\S+) \(([^)]+)\) [^;\n]*;", re.M)


def document_summary(label: str, text: str, hints: dict) -> str:
    """The kind's summary from the metadata, or '' for a label this module does not own."""
    meta = hints.get("meta") or {}
    if not meta:  # a changelog (also one read from a .gz) is summarised by notices.py
        return ""
    if label in PROSE_DOCUMENTS:
        return _prose(label, text, meta)
    if label == "spreadsheet":
        return _sheets(meta)
    if label == "presentation":
        return _deck(meta)
    if label == "email message":
        return _email(text, meta)
    if label == "mailbox":
        return _mailbox(meta)
    if label in ("photo", "image"):
        return _image(label, meta)
    if label in ("audio file", "video file"):
        return _media(label, meta)
    if label in ("zip archive", "tar archive"):
        return _archive(label, meta, meta.get("notes") or [])
    if label == "SQLite database":
        return _database(meta)
    return ""


def _plain_name(value) -> str:
    return re.sub(r"\s*<[^>]+>", "", str(value)).strip('" ')


def structural_keywords(label: str, text: str, hints: dict) -> list[str]:
    """Keyword candidates a document's structure names (sheet and column names, slide
    titles, sender and subject, camera, tables, the package of a changelog), for the
    kinds where they say more than word statistics would: YAKE is not run for them
    (tens of ms a file). [] for prose documents, whose words YAKE reads."""
    meta = hints.get("meta") or {}
    if label == "changelog":
        found = _CHANGELOG.findall(text[:2000])
        maintainer = re.search(r"^ -- (.+?) <", text[:20000], re.M)
        return [found[0][0], maintainer.group(1) if maintainer else "", found[0][1]] if found else []
    if label == "spreadsheet":
        sheets = meta.get("sheet_list") or []
        columns = [c for s in sheets for c in s.get("columns", [])[:4]]
        return [s["name"] for s in sheets[:2]] + columns + [str(meta.get("title", ""))]
    if label == "presentation":
        return [str(meta.get("title", ""))] + list(meta.get("slide_titles") or [])
    if label == "email message":
        return [_plain_name(meta.get("sender", "")), str(meta.get("subject", ""))] + \
            [a.split(" (")[0] for a in meta.get("attachments") or []]
    if label == "mailbox":
        return [_plain_name(s) for s in meta.get("senders") or []] + ["mailbox"]
    if label in ("photo", "image"):
        return [str(meta.get(k, "")) for k in ("camera", "format", "producer")] + \
            (["GPS position"] if meta.get("gps") else [])
    if label in ("audio file", "video file"):
        return [str(meta.get(k, "")) for k in ("title", "artist", "album", "genre")]
    if label in ("zip archive", "tar archive"):
        return [t.split(" (")[0].strip("/") for t in meta.get("top_folders") or []
                if not t.startswith("(")] + [k.split(" (")[0] + " files" for k in meta.get("kinds") or []
                                          if not k.startswith("no extension")]
    if label == "SQLite database":
        return [t["name"] for t in meta.get("table_list") or []] + ["SQLite database"]
    return []


def document_category(label: str, text: str, hints: dict, cue: str) -> str:
    """The best category for a document when its wording (``cue``) does not decide it."""
    if label == "spreadsheet":
        return "financial" if len(_MONEY.findall(body(text))) >= 2 else "data"
    if cue:
        return cue
    if label == "presentation" or (label in PROSE_DOCUMENTS and (hints.get("meta") or {}).get("headings")):
        return "report"
    if label in PROSE_DOCUMENTS:
        return "documentation" if label == "e-book" else "other"
    return "other"
