"""Evidence from structured files: configs and logs here; data and markup in ``markup``, the rest in ``textformats``.

Each ``*_summary`` reads the text and returns one plain sentence naming what is in
the file (sections, columns, keys, events, time spans), or '' when the format is
not what it claimed to be.
"""

from __future__ import annotations

import re
from collections import Counter

from .prose import _cap, clean, header_comment, join_names

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


# The other structured formats, kept reachable as ``structured.*`` (describe.py's one entry).
from .markup import (csv_summary, html_summary, json_summary, notebook_summary,  # noqa: E402,F401
                     xml_summary)
from .textformats import (diff_summary, email_summary, ics_summary, latex_summary,  # noqa: E402,F401
                          sql_summary, subtitle_summary, vcard_summary)
