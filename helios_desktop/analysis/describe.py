"""The evidence summary and keywords of one file: which extractor reads which kind.

``describe`` never returns noise: when no extractor recognises the file, the
summary falls back to the file's name, size in lines and its first sentence.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from . import markup, prose, structured
from .documents import DOCUMENT_LABELS, document_summary, keyword_text, structural_keywords
from .notices import notice_summary
from ..scan.wellknown import SYSTEM_FILE
from .prose import _cap
from .keywords import choose_keywords, evidence_keywords
from .quality import placeholder
from ..scan.kinds import natural_language


@dataclass(frozen=True)
class Description:
    summary: str
    keywords: list[str]


KEYWORD_CHARS = 1500  # of a document's text, for its keywords

# A text file that opens like a licence (/usr/share/common-licenses/BSD, GPL-3, ...).
_LICENCE_OPENING = re.compile(r"\s*(?:copyright\b|[^\n]{0,60}\blicen[cs]e\b)", re.I)


def _by_kind(name: str, ext: str, label: str, text: str, language: str) -> str:
    """The kind-specific summary, or '' to fall through to the generic one."""
    lower = name.lower()
    if label == "licence text" or lower.startswith(("license", "licence", "copying")) or (
            label == "text document" and _LICENCE_OPENING.match(text)):
        summary = prose.licence_summary(text)
        first = text.strip().split("\n", 1)[0]
        if summary and "copyright" not in summary.lower() and first.lower().startswith("copyright"):
            summary = f"{summary[:-1]}, {prose.clean(first, 100).rstrip('.')}."  # the holder
        return summary or prose.prose_summary(text, label)
    if label == "email message":
        return structured.email_summary(text)
    if label == "log file":
        return structured.log_summary(text)
    if label == "CSV table":
        return structured.csv_summary(text)
    if label in ("JSON file", "Jupyter notebook"):
        return structured.json_summary(text)
    if label == "XML file":
        return structured.xml_summary(text)
    if label == "HTML page":
        return structured.html_summary(text)
    if label == "calendar":
        return structured.ics_summary(text)
    if label == "contact card":
        return structured.vcard_summary(text)
    if label == "subtitles":
        return structured.subtitle_summary(text)
    if label == "LaTeX document":
        return structured.latex_summary(text)
    if label == "patch":
        return structured.diff_summary(text)
    if label in ("SQL script", "SQL dump"):
        return structured.sql_summary(text) or prose.code_summary(text, label, "SQL")
    if label == "Dockerfile":
        return structured.dockerfile_summary(text)
    if label == "Makefile":
        return structured.makefile_summary(text)
    if label == "systemd unit":
        return structured.systemd_summary(text)
    if label == "shell profile":
        return structured.shell_profile_summary(text)
    if label in ("YAML file", "TOML file", "settings file"):
        return structured.config_summary(text, label)
    if label.endswith(("source", "script", "header")) or label == "stylesheet":
        return prose.code_summary(text, label, language)
    if label in ("Markdown document", "README", "text document"):
        if re.match(r"(From|To|Subject|Date):", text):
            return structured.email_summary(text)
        data = "\n".join(line.split("#", 1)[0] for line in structured.data_lines(text))
        if label == "text document" and not natural_language(data):
            # /etc-style files without an extension: records, settings, or a commented list
            summary = structured.table_summary(text)
            if not summary and (structured.assignments_share(text) >= 0.6
                                or text.lstrip().startswith("#")):
                summary = structured.config_summary(text, "settings file")
            if summary:
                return summary
        return prose.prose_summary(text, "letter" if label == "text document" else "document")
    return ""


def _fallback(name: str, label: str, text: str) -> str:
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    first = ""
    for para in prose.body_paragraphs(text):
        first = prose.first_sentence(para, 150)
        if first:
            break
    if not first:
        first = prose.clean(next((l for l in text.splitlines() if l.strip()), ""), 120)
    return prose.clean(f"{_cap(label)} {name} ({lines} lines)" + (f": {first}" if first else "."), 240)


def _names(label: str, text: str, language: str) -> list[str]:
    """Defined names of code, used as keyword candidates ahead of YAKE's."""
    if label == "licence text":
        return [prose.licence_name(text)]
    if label.endswith(("source", "script", "header")):
        if language == "Python":
            return prose.python_docstring(text)[1] or prose.defined_names(text, language)
        return prose.defined_names(text, language)
    return []


def describe(path: bytes, text: str, label: str, hints: dict) -> Description:
    """The evidence summary and keywords for one file."""
    name = os.fsdecode(os.path.basename(path))
    ext = os.path.splitext(name)[1].lower()
    # code's summary and names go by its programming language: the format
    language = hints.get("format") or hints.get("language") or ""
    document = label in DOCUMENT_LABELS or label == "changelog"
    try:
        summary = document_summary(label, text, hints) if document else ""
        if not summary:
            summary = notice_summary(path, name, label, text,
                                     lambda kind: _by_kind(name, ext, "text document"
                                                           if kind == SYSTEM_FILE else kind,
                                                           text, language)) or \
                _by_kind(name, ext, label, text, language)
    except (RecursionError, ValueError, IndexError, KeyError, TypeError):
        summary = ""  # a malformed file must not fail the row
    if document:
        # Keywords from the document's words, not its metadata labels, and from its
        # opening: YAKE costs tens of ms per 1,000 characters, and a document's first pages
        # (a changelog's latest entries) name what it is about.
        text = (keyword_text(text) if hints.get("meta") else text)[:KEYWORD_CHARS]
    if not summary:
        summary = _fallback(name, label, text)
    category = hints.get("category") or ""
    if document:
        named = choose_keywords([k for k in structural_keywords(label, text, hints) if k],
                                label, short_ok=True)
        # an archive's folders and kinds say more than word statistics over its listing
        # ("bytes", "extension files"), even when there is only one of them
        if len(named) >= 2 or (named and label in ("zip archive", "tar archive")):
            return Description(summary, named)
    if label == "HTML page":  # the page's words, not its markup
        text = markup.visible_text(text)
    keywords = evidence_keywords(text, summary, label, category,
                                 hints.get("language_guess") or "English",
                                 names=_names(label, text, language)[:2], name=name)
    keywords = [k for k in keywords if not placeholder(k)]  # "NULL" in a C header
    if not keywords:  # a file too small for YAKE: the summary's own content words
        keywords = choose_keywords(re.findall(r"[\w.-]+", summary), label, short_ok=True) or \
            [os.path.splitext(name)[0] or name]
    return Description(summary, keywords)
