"""Evidence from structured files: configs, logs, tables, JSON, markup, calendars, patches.

Each ``*_summary`` reads the text and returns one plain sentence naming what is in
the file (sections, columns, keys, events, time spans), or '' when the format is
not what it claimed to be.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from html.parser import HTMLParser

from .prose import _cap, clean, first_sentence, header_comment, join_names

# -- configuration -----------------------------------------------------------------------

_INI_SECTION = re.compile(r"^\s*\[([^\]\n]{1,60})\]\s*$", re.M)
_BLOCK = re.compile(r"^\s*([A-Za-z_][\w.-]*)(?:\s+[^{};\n]{0,40})?\s*\{\s*$", re.M)
_YAML_TOP = re.compile(r"^([A-Za-z_\"'][\w .\"'-]{0,40}?):(?:\s|$)", re.M)
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*[=:]", re.M)


def _comment_purpose(text: str) -> str:
    lead = header_comment(text)
    return lead if lead and len(lead.split()) >= 3 else ""


_SEPARATORS = {":": "colon", "\t": "tab", ";": "semicolon", "|": "pipe", ",": "comma"}


def data_lines(text: str) -> list[str]:
    """Non-empty lines that are not '#' comments, from the file's opening."""
    return [line for line in text[:20000].splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def table_summary(text: str) -> str:
    """A file of delimited records without a table extension (/etc/passwd, /etc/group):
    rows, fields and the first field's values; '' when the lines are not such a table."""
    lines = data_lines(text)
    if len(lines) < 3:
        return ""
    for sep, word in _SEPARATORS.items():
        counts = Counter(line.count(sep) for line in lines)
        fields, rows = counts.most_common(1)[0]
        if fields >= 2 and rows >= 0.8 * len(lines):
            firsts = [line.split(sep, 1)[0].strip() for line in lines if line.count(sep) == fields]
            return clean(f"Table of {len(lines)} {word}-separated records with {fields + 1} "
                         f"fields each; first field: {join_names(f for f in firsts if f)}.", 240)
    return ""


def assignments_share(text: str) -> float:
    """The share of the data lines that assign a value to a key (KEY=value, key: value)."""
    lines = data_lines(text)
    if not lines:
        return 0.0
    return sum(1 for line in lines if _ASSIGN.match(line)) / len(lines)


def config_summary(text: str, label: str) -> str:
    purpose = _comment_purpose(text)
    sections = _INI_SECTION.findall(text[:20000])
    if label.startswith("YAML"):
        parts = _yaml_parts(text)
    elif sections:
        parts = f"sections {join_names(s.strip() for s in sections)}"
    elif _BLOCK.search(text):
        parts = f"blocks {join_names(m.group(1) for m in _BLOCK.finditer(text[:20000]))}"
    else:
        keys = _ASSIGN.findall(text[:20000])
        parts = f"settings {join_names(keys)}" if keys else ""
    if not (purpose or parts):
        return ""
    lead = _cap(label)
    if purpose:
        return clean(f"{lead}: {purpose.rstrip('.')}" + (f"; {parts}." if parts else "."), 240)
    return clean(f"{lead} with {parts}.", 240)


def _yaml_parts(text: str) -> str:
    top = [k.strip("\"'") for k in _YAML_TOP.findall(text[:20000])]
    if "jobs" in top and ("on" in top or "true" in top or "name" in top):
        name = re.search(r"^name:\s*(.+)$", text, re.M)
        jobs = _nested_keys(text, "jobs")
        trig = re.search(r"^on:\s*(\[?[\w, -]+\]?)\s*$", text, re.M)
        triggers = trig.group(1).strip("[] ") if trig else join_names(_nested_keys(text, "on"))
        return (f"CI workflow{' ' + repr(name.group(1).strip(chr(34) + chr(39))) if name else ''}"
                f" with jobs {join_names(jobs)}" + (f", run on {triggers}" if triggers else ""))
    if "stages" in top:
        return f"CI pipeline with stages {join_names(_list_items(text, 'stages'))}"
    if "services" in top:
        return f"services {join_names(_nested_keys(text, 'services'))}"
    return f"top-level keys {join_names(top)}" if top else ""


def _nested_keys(text: str, parent: str) -> list[str]:
    m = re.search(rf"^{re.escape(parent)}:\s*\n((?:[ \t]+.*\n?|\s*\n)+)", text, re.M)
    if not m:
        return []
    body = m.group(1)
    indent = min((len(l) - len(l.lstrip()) for l in body.splitlines() if l.strip()), default=2)
    return [k for k in re.findall(rf"^[ \t]{{{indent}}}([\w.-]+):", body, re.M)]


def _list_items(text: str, parent: str) -> list[str]:
    m = re.search(rf"^{re.escape(parent)}:\s*\n((?:[ \t]+-.*\n?)+)", text, re.M)
    return re.findall(r"-\s*([\w.-]+)", m.group(1)) if m else []


def systemd_summary(text: str) -> str:
    desc = re.search(r"^Description=(.+)$", text, re.M)
    start = re.search(r"^ExecStart=[-@+!]*(\S+)", text, re.M)
    wanted = re.search(r"^WantedBy=(.+)$", text, re.M)
    if not (desc or start):
        return ""
    out = "systemd unit" + (f" “{clean(desc.group(1), 80)}”" if desc else "")
    if start:
        out += f" that runs {start.group(1)}"
    if wanted:
        out += f", wanted by {wanted.group(1).strip()}"
    return out + "."


def shell_profile_summary(text: str) -> str:
    exports = re.findall(r"^\s*export\s+([A-Za-z_]\w*)", text, re.M)
    aliases = re.findall(r"^\s*alias\s+([\w.-]+)=", text, re.M)
    functions = re.findall(r"^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)\s*\{", text, re.M)
    sourced = re.findall(r"^\s*(?:\.|source)\s+(\S+)", text, re.M)
    options = re.findall(r"^\s*shopt\s+-s\s+([\w ]+)", text, re.M)
    parts = []
    if exports:
        parts.append(f"exports {join_names(exports, 5)}")
    if aliases:
        parts.append(f"aliases {join_names(aliases, 5)}")
    if functions:
        parts.append(f"functions {join_names(functions, 4)}")
    if sourced:
        parts.append(f"sources {join_names(sourced, 3)}")
    if options:
        parts.append(f"sets shell options {join_names([o for line in options for o in line.split()], 4)}")
    purpose = _comment_purpose(text)
    if not parts:
        return clean(f"Shell start-up file: {purpose}", 240) if purpose else ""
    return clean("Shell start-up file" + (f" ({purpose.rstrip('.')})" if purpose else "")
                 + ": " + "; ".join(parts) + ".", 240)


def dockerfile_summary(text: str) -> str:
    bases = re.findall(r"^\s*FROM\s+(\S+)", text, re.M | re.I)
    if not bases:
        return ""
    ports = re.findall(r"^\s*EXPOSE\s+(.+)$", text, re.M | re.I)
    cmd = re.search(r"^\s*(?:CMD|ENTRYPOINT)\s+(.+)$", text, re.M | re.I)
    out = f"Dockerfile building on {join_names(bases, 3)}"
    if ports:
        out += f", exposing port {' '.join(ports).strip()}"
    if cmd:
        out += f", running {clean(cmd.group(1).strip(), 70)}"
    return clean(out + ".", 240)


def makefile_summary(text: str) -> str:
    targets = [t for t in re.findall(r"^([A-Za-z0-9_][\w./-]*)\s*:(?!=)", text, re.M)]
    if not targets:
        return ""
    phony = re.findall(r"^\.PHONY:\s*(.+)$", text, re.M)
    purpose = _comment_purpose(text)
    out = "Makefile" + (f" ({purpose.rstrip('.')})" if purpose else "")
    out += f" with targets {join_names(targets)}"
    if not phony and "$(CC)" in text:
        out += ", compiling with $(CC)"
    return clean(out + ".", 240)


# -- logs --------------------------------------------------------------------------------

_STAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2}(?:T| +)\d{2}:\d{2}(?::\d{2})?|"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|"
    r"\d{2}/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2})")
_SYSLOG_SOURCE = re.compile(r"^\S+\s+\d+\s+[\d:]+\s+\S+\s+([\w./-]+?)(?:\[\d+\])?:")
_LEVEL = re.compile(r"\b(ERROR|ERR|WARN(?:ING)?|INFO|DEBUG|CRITICAL|FATAL|NOTICE)\b")
_VARIABLE = re.compile(r"\b0x[0-9a-f]+\b|\d+(?:[.:/-]\d+)*|'[^']*'|\"[^\"]*\"", re.I)


def log_summary(text: str, label: str = "log file") -> str:
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines:
        return ""
    stamps = [m.group(1) for l in lines if (m := _STAMP.search(l))]
    sources = Counter(m.group(1) for l in lines if (m := _SYSLOG_SOURCE.match(l)))
    levels = Counter(m.group(1)[:4].replace("ERR", "ERRO")[:4] for l in lines if (m := _LEVEL.search(l)))
    events = Counter()
    for line in lines:
        rest = _STAMP.sub("", line, count=1)
        rest = _SYSLOG_SOURCE.sub("", rest)
        rest = _LEVEL.sub("", rest)
        template = _VARIABLE.sub("#", rest).strip(" []:-|")
        template = re.sub(r"\s+", " ", template)
        if template:
            events[" ".join(template.split()[:6])] += 1
    out = f"Log of {len(lines)} lines"
    if sources:
        out += f" from {join_names([s for s, _ in sources.most_common(3)])}"
    if stamps:
        out += f", {stamps[0]} to {stamps[-1]}" if stamps[0] != stamps[-1] else f", at {stamps[0]}"
    errors = levels.get("ERRO", 0) + levels.get("CRIT", 0) + levels.get("FATA", 0)
    if errors:
        out += f", {errors} error{'s' if errors > 1 else ''}"
    if events:
        top, n = events.most_common(1)[0]
        if n > 1:
            out += f"; most frequent: “{clean(top.replace('#', '…'), 70)}” ({n}x)"
        else:
            out += f"; first: “{clean(next(iter(events)).replace('#', '…'), 70)}”"
    return clean(out + ".", 240)


# -- data --------------------------------------------------------------------------------

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


# -- calendars, contacts, subtitles ------------------------------------------------------

def _ical_date(value: str) -> str:
    m = re.match(r"(\d{4})(\d{2})(\d{2})", value)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else value


def ics_summary(text: str) -> str:
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    events = re.findall(r"BEGIN:VEVENT(.*?)END:VEVENT", unfolded, re.S)
    if not events and "BEGIN:VCALENDAR" not in text:
        return ""
    titles = [m.group(1).strip() for e in events if (m := re.search(r"^SUMMARY[^:\n]*:(.+)$", e, re.M))]
    starts = sorted(_ical_date(m.group(1)) for e in events
                    if (m := re.search(r"^DTSTART[^:\n]*:(\d{8})", e, re.M)))
    name = re.search(r"^X-WR-CALNAME:(.+)$", unfolded, re.M)
    out = f"Calendar{' “' + name.group(1).strip() + '”' if name else ''} with {len(events)} " \
          f"event{'s' if len(events) != 1 else ''}"
    if starts:
        out += f" from {starts[0]} to {starts[-1]}" if starts[0] != starts[-1] else f" on {starts[0]}"
    if titles:
        out += f": {join_names(titles, 4)}"
    return clean(out + ".", 240)


def vcard_summary(text: str) -> str:
    cards = re.findall(r"BEGIN:VCARD(.*?)END:VCARD", re.sub(r"\r?\n[ \t]", "", text), re.S | re.I)
    if not cards:
        return ""
    people = []
    for card in cards:
        fn = re.search(r"^FN[^:\n]*:(.+)$", card, re.M)
        org = re.search(r"^ORG[^:\n]*:(.+)$", card, re.M)
        title = re.search(r"^TITLE[^:\n]*:(.+)$", card, re.M)
        who = fn.group(1).strip() if fn else "unnamed"
        extra = ", ".join(x.group(1).strip().replace(";", " ") for x in (title, org) if x)
        people.append(f"{who} ({extra})" if extra else who)
    fields = Counter(re.findall(r"^([A-Z-]+)[;:]", "\n".join(cards), re.M))
    have = [f for f in ("TEL", "EMAIL", "ADR", "BDAY") if f in fields]
    out = ("Contact card for " if len(cards) == 1 else f"{len(cards)} contact cards: ") + \
        join_names(people, 3)
    if have:
        out += f", with {', '.join(h.lower() for h in have)}"
    return clean(out + ".", 240)


_CUE_TIME = re.compile(r"(\d{1,2}:\d{2}:\d{2})[,.]\d{3}\s*-->\s*(\d{1,2}:\d{2}:\d{2})")


def subtitle_summary(text: str) -> str:
    times = _CUE_TIME.findall(text)
    if not times:
        return ""
    blocks = re.split(r"\n\s*\n", text.strip())
    lines = []
    for block in blocks:
        body = [l for l in block.splitlines()
                if l.strip() and not _CUE_TIME.search(l) and not l.strip().isdigit()
                and not l.startswith(("WEBVTT", "NOTE"))]
        if body:
            lines.append(re.sub(r"<[^>]+>", "", " ".join(body)))
    out = f"Subtitles: {len(times)} cues from {times[0][0]} to {times[-1][1]}"
    if lines:
        out += f", opening with “{clean(lines[0], 80)}”"
    return clean(out + ".", 240)


# -- papers, patches, SQL dumps ----------------------------------------------------------

def latex_summary(text: str) -> str:
    def macro(name):
        m = re.search(rf"\\{name}\*?\s*(?:\[[^\]]*\])?\s*\{{((?:[^{{}}]|\{{[^{{}}]*\}})*)\}}", text)
        return clean(re.sub(r"\\[a-zA-Z]+\*?|[{}~]", " ", re.sub(r"\\[`'^\"~]", "", m.group(1))), 100) if m else ""

    title, author = macro("title"), macro("author")
    sections = [clean(re.sub(r"\\[a-zA-Z]+|[{}]", "", s), 40)
                for s in re.findall(r"\\section\*?\{([^}]*)\}", text)]
    abstract = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", text, re.S)
    if not (title or sections or abstract):
        return ""
    out = f"LaTeX paper “{title}”" if title else "LaTeX document"
    if author:
        out += f" by {author.split(' and ')[0].split(',')[0].strip()}"
    if abstract:
        plain = re.sub(r"\\[a-zA-Z]+|[{}]", "", abstract.group(1))
        out += f": {first_sentence(plain, 110)}"
    if sections:
        out += f" Sections: {join_names(sections, 5)}."
    return clean(out, 240)


def diff_summary(text: str) -> str:
    files = re.findall(r"^\+\+\+ (?:b/)?(\S+)", text, re.M)
    files = [f for f in files if f != "/dev/null"]
    if not files:
        return ""
    added = len(re.findall(r"^\+(?!\+\+ )", text, re.M))
    removed = len(re.findall(r"^-(?!-- )", text, re.M))
    subject = re.search(r"^Subject:\s*(?:\[[^\]]*\]\s*)?(.+)$", text, re.M)
    out = f"Patch “{clean(subject.group(1), 80)}”" if subject else "Patch"
    out += f" changing {len(files)} file{'s' if len(files) != 1 else ''} ({join_names(files, 4)}), " \
           f"+{added} -{removed} lines."
    return clean(out, 240)


def sql_summary(text: str) -> str:
    tables = re.findall(r"create\s+table\s+(?:if\s+not\s+exists\s+)?[\"`\[]?([\w.]+)", text, re.I)
    inserts = Counter(m for m in re.findall(r"insert\s+into\s+[\"`\[]?([\w.]+)", text, re.I))
    rows = sum(len(re.findall(r"\)\s*[,;]", stmt)) for stmt in
               re.findall(r"insert\s+into.*?;\s*$", text, re.I | re.S | re.M)) if inserts else 0
    dump = re.search(r"(\w+) dump|dumped by|pg_dump|mysqldump|sqlite", text[:2000], re.I)
    if not (tables or inserts):
        return ""
    out = ("SQL dump" if dump or inserts else "SQL script")
    if tables:
        out += f" creating tables {join_names(tables)}"
    if inserts:
        out += f"{',' if tables else ''} inserting {rows or sum(inserts.values())} rows into " \
               f"{join_names(inserts)}"
    return clean(out + ".", 240)


def email_summary(text: str) -> str:
    head, _, body = text.partition("\n\n")
    fields = dict(re.findall(r"^(From|To|Subject|Date):\s*(.+)$", head, re.M | re.I))
    fields = {k.lower(): v.strip() for k, v in fields.items()}
    if "subject" not in fields and "from" not in fields:
        return ""
    sender = re.sub(r"\s*<[^>]+>", "", fields.get("from", "")).strip('" ')
    out = "Email"
    if sender:
        out += f" from {sender}"
    if fields.get("subject"):
        out += f" about “{clean(fields['subject'], 80)}”"
    paras = [p for p in re.split(r"\n\s*\n", body) if len(p.split()) >= 5]
    if paras:
        out += f": {first_sentence(paras[0], 120)}"
    return clean(out, 240)
