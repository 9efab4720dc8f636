"""Is the model's category (or language) plausible for this file, and what is the
evidence's best guess?

The kind decides the category where it is decisive (``scan/kinds.py``: a ``.py`` file
is source code). Where it is not (a ``.txt`` file, a file without extension), the model
chooses, and a small model chooses badly: a plain-text letter comes back as
``source_code``. Each category here needs some sign of itself in the file (code lines
for ``source_code``, timestamped lines for ``log``, greeting or closing words for
``correspondence``, ...); a category without one is implausible and is replaced by
``category_guess``, which never returns ''.
"""

from __future__ import annotations

import re

from ..scan.kinds import cue_counts, log_line_count, natural_language
from ..scan.languages import natural_name
from .documents import DOCUMENT_LABELS, body, document_category
from .quality import PASS, Verdict

CODE_KINDS = ("Makefile", "patch", "Jupyter notebook", "stylesheet", "HTML page")
CONFIG_KINDS = ("YAML file", "TOML file", "settings file", "systemd unit", "shell profile",
                "Dockerfile")
DATA_KINDS = ("CSV table", "JSON file", "XML file", "calendar", "contact card", "SQL dump")

_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |#include|#define|function\b|return\b|"
    r"(?:public|private|static|const|let|var|fn|func|package|using)\s|[}{]\s*$)"
    r"|[;{]\s*$|\)\s*\{", re.M)
_CONFIG_LINE = re.compile(r"^\s*(?:\[[^\]\n]{1,60}\]|[A-Za-z_][\w.-]*\s*[=:]\s*\S)", re.M)
_MONEY = re.compile(r"(?:[$€£]\s?\d|\d[\d,.]*\s?(?:EUR|USD|GBP|CHF)\b)")


def _lines(text: str) -> list[str]:
    return [line for line in text[:6000].splitlines() if line.strip()]


def _share(pattern: re.Pattern, text: str) -> float:
    lines = _lines(text)
    if not lines:
        return 0.0
    return sum(1 for line in lines if pattern.search(line)) / len(lines)


def _delimited(text: str) -> bool:
    """At least three lines in a row with the same (two or more) count of one delimiter."""
    lines = _lines(text)[:20]
    for sep in (",", ";", "\t", "|"):
        counts = [line.count(sep) for line in lines]
        for i in range(len(counts) - 2):
            if counts[i] >= 2 and counts[i] == counts[i + 1] == counts[i + 2]:
                return True
    return False


def signs(text: str, label: str) -> dict[str, str]:
    """For each category, what in the file speaks for it ('' when nothing does)."""
    cues = cue_counts(text)
    code = label.endswith(("source", "script", "header")) or label in CODE_KINDS
    logs = log_line_count(text)
    out = {
        "source_code": "a code kind" if code else
        ("code lines" if _share(_CODE_LINE, text) >= 0.25 else ""),
        "log": "a log kind" if label == "log file" else
        (f"{logs} timestamped lines" if logs >= 3 else ""),
        "configuration": "a configuration kind" if label in CONFIG_KINDS else
        ("key = value lines" if _share(_CONFIG_LINE, text) >= 0.4 else ""),
        "data": "a data kind" if label in DATA_KINDS else
        ("delimited rows" if _delimited(text) else ""),
        "correspondence": "an e-mail" if label == "email message" else
        ("greeting or closing words" if cues["correspondence"] else ""),
        "legal": "a licence" if label == "licence text" else
        ("legal wording" if cues["legal"] else ""),
        "financial": "amounts" if _MONEY.search(text[:6000]) else
        ("financial wording" if cues["financial"] else ""),
        "report": "report wording" if cues["report"] else "",
        "documentation": "prose" if natural_language(text) or label in ("README", "Markdown document")
        else "",
        "other": "always possible",
    }
    if label in DOCUMENT_LABELS:
        # a document's metadata lines and table rows are not code, logs or settings
        for category in ("source_code", "log", "configuration"):
            out[category] = ""
        if label not in ("spreadsheet", "SQLite database", "zip archive", "tar archive"):
            out["data"] = ""
        elif not out["data"]:
            out["data"] = "a data kind"
    return out


def check_category(category, text: str, label: str) -> Verdict:
    """``pass`` when the file shows some sign of ``category``; else ``implausible``."""
    found = signs(text, label)
    if category not in found:
        return Verdict("implausible", f"{category!r} is not a known category")
    if found[category]:
        return Verdict(PASS, f"{found[category]}")
    return Verdict("implausible", f"{category!r} without any sign of it in the file")


def category_guess(text: str, label: str, hints: dict) -> str:
    """The evidence's best category for the file: the kind's when decisive, else the
    strongest sign in the file (code, log, data or configuration lines, then the one
    category whose cue words stand out, then amounts of money), else ``other``."""
    if hints.get("category"):
        return hints["category"]
    if label in DOCUMENT_LABELS:
        cues = cue_counts(body(text))
        ranked = sorted(((n, c) for c, n in cues.items() if n), reverse=True)
        cue = ranked[0][1] if ranked and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]) else ""
        return document_category(label, text, hints, cue)
    found = signs(text, label)
    for category in ("source_code", "log", "data", "configuration"):
        if found[category]:
            return category
    cues = cue_counts(text)
    ranked = sorted(((n, c) for c, n in cues.items() if n), reverse=True)
    if ranked and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
        return ranked[0][1]
    if found["financial"] == "amounts":
        return "financial"
    return "other"


def language_guess(label: str, hints: dict) -> str:
    """The evidence's best natural language: the decided one, else the one guessed from
    stop words, else '' (no prose, or too little text to tell)."""
    if hints.get("no_prose"):
        return ""
    return hints.get("language") or hints.get("language_guess") or ""


def check_language(language) -> tuple[Verdict, str]:
    """(verdict, the name to store). The kind and the file's stop words decide the
    language wherever they can, so the model answers only for files that give little to
    go on (a short note, a file without extension); there its answer must be a natural
    language Helios knows (an ISO 639-1 code is stored as the language's name). A
    programming or data language ("Python", "INI") is a format, not a language: the
    format has a field of its own, decided by the kind."""
    raw = language.strip() if isinstance(language, str) else ""
    name = natural_name(raw)
    if name is None:
        return Verdict("implausible", f"{language!r} is not a natural language Helios knows"), raw
    detail = "a known language" + (f" (the model wrote {raw!r})" if raw != name else "")
    return Verdict(PASS, detail), name
