"""Deterministic evidence about a file: its kind, its format, its natural language,
and a category where the evidence decides it.

The evidence goes into the prompt, and where it is decisive (a ``.py`` file is
source code, format Python, with no prose to have a language) it fixes the field; the
result records which fields were decided this way and which the model chose. The
format (Python, INI, CSV, plain text, ...) is always the kind's: a model is never asked.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass

from .wellknown import (CHANGELOG, CREDITS, DEBIAN_COPYRIGHT, PLAIN, SYSTEM_FORMATS,
                        data_lines, settings_category, settings_format, wellknown_kind)

# extension -> (kind label, category, format)
_EXT: dict[str, tuple[str, str, str]] = {}


def _add(exts: str, label: str, category: str, fmt: str) -> None:
    for ext in exts.split():
        _EXT[ext] = (label, category, fmt)


_add(".py .pyw .pyi", "Python source", "source_code", "Python")
_add(".js .mjs .cjs", "JavaScript source", "source_code", "JavaScript")
_add(".ts .tsx", "TypeScript source", "source_code", "TypeScript")
_add(".jsx", "JavaScript source", "source_code", "JavaScript")
_add(".java", "Java source", "source_code", "Java")
_add(".c", "C source", "source_code", "C")
_add(".h", "C header", "source_code", "C")
_add(".cc .cpp .cxx .hpp .hh", "C++ source", "source_code", "C++")
_add(".cs", "C# source", "source_code", "C#")
_add(".go", "Go source", "source_code", "Go")
_add(".rs", "Rust source", "source_code", "Rust")
_add(".rb", "Ruby source", "source_code", "Ruby")
_add(".php", "PHP source", "source_code", "PHP")
_add(".swift", "Swift source", "source_code", "Swift")
_add(".kt .kts", "Kotlin source", "source_code", "Kotlin")
_add(".scala", "Scala source", "source_code", "Scala")
_add(".sh .bash .zsh", "shell script", "source_code", "Shell")
_add(".ps1", "PowerShell script", "source_code", "PowerShell")
_add(".sql", "SQL script", "source_code", "SQL")
_add(".r", "R source", "source_code", "R")
_add(".lua", "Lua source", "source_code", "Lua")
_add(".pl .pm", "Perl source", "source_code", "Perl")
_add(".html .htm", "HTML page", "documentation", "HTML")
_add(".css .scss", "stylesheet", "source_code", "CSS")
_add(".yaml .yml", "YAML file", "configuration", "YAML")
_add(".toml", "TOML file", "configuration", "TOML")
_add(".ini .cfg .conf .properties .env", "settings file", "configuration", "INI")
_add(".xml", "XML file", "data", "XML")
_add(".json", "JSON file", "data", "JSON")
_add(".csv .tsv", "CSV table", "data", "CSV")
_add(".log", "log file", "log", "log")
_add(".md .markdown", "Markdown document", "documentation", "Markdown")
_add(".rst", "Markdown document", "documentation", "reStructuredText")
_add(".adoc", "Markdown document", "documentation", "AsciiDoc")
_add(".txt .text", "text document", "", PLAIN)
_add(".eml", "email message", "correspondence", "e-mail")
_add(".tex", "LaTeX document", "documentation", "LaTeX")
_add(".ipynb", "Jupyter notebook", "source_code", "Jupyter notebook")
_add(".ics .ifb", "calendar", "data", "iCalendar")
_add(".vcf .vcard", "contact card", "data", "vCard")
_add(".srt", "subtitles", "other", "SubRip")
_add(".vtt", "subtitles", "other", "WebVTT")
_add(".patch .diff", "patch", "source_code", "diff")
_add(".service .socket .timer .mount .target .path", "systemd unit", "configuration", "INI")

_NAMES = {
    "dockerfile": ("Dockerfile", "configuration", "Dockerfile"),
    "makefile": ("Makefile", "source_code", "Makefile"),
    "readme": ("README", "documentation", PLAIN),
    "license": ("licence text", "legal", PLAIN),
    "copying": ("licence text", "legal", PLAIN),
    "licence": ("licence text", "legal", PLAIN),
    "gnumakefile": ("Makefile", "source_code", "Makefile"),
    ".profile": ("shell profile", "configuration", "Shell"),
    ".bashrc": ("shell profile", "configuration", "Shell"),
    ".bash_profile": ("shell profile", "configuration", "Shell"),
    ".zshrc": ("shell profile", "configuration", "Shell"),
    "profile": ("shell profile", "configuration", "Shell"),
    "bash.bashrc": ("shell profile", "configuration", "Shell"),
    "changelog": ("changelog", "documentation", PLAIN),   # changelog.Debian(.gz), ChangeLog
    "changes": ("changelog", "documentation", PLAIN),
    "news": ("changelog", "documentation", PLAIN),
}

_DEBIAN_CHANGELOG = re.compile(r"[a-z0-9][a-z0-9.+-]+ \([^)\s]+\) [^;\n]+; urgency=")
_SHEBANG = re.compile(r"^#!\s*\S*?(python|bash|sh|node|perl|ruby)")
_SHEBANG_LANG = {"python": "Python", "bash": "Shell", "sh": "Shell", "node": "JavaScript",
                 "perl": "Perl", "ruby": "Ruby"}
_LOG_LINE = re.compile(r"^\s*\[?(?:\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|"
                       r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2})", re.M)

# Words that mark a document's category; counted on the lowercased text.
_CUES: dict[str, tuple[str, ...]] = {
    "legal": ("agreement", "hereby", "party", "parties", "clause", "shall", "governing law",
              "liability", "terms and conditions", "witness whereof", "indemnif"),
    "financial": ("invoice", "amount due", "total", "payment", "balance", "vat", "tax",
                  "receipt", "budget", "revenue", "iban", "subtotal"),
    "correspondence": ("dear ", "sincerely", "regards", "best wishes", "yours", "subject:",
                       "from:", "to:", "hi ", "hello ", "madame", "monsieur", "salutations",
                       "cordialement", "sehr geehrte", "freundlichen grüßen", "estimado",
                       "atentamente"),
    "report": ("report", "summary", "findings", "quarter", "results", "conclusion",
               "executive summary", "analysis", "recommendation"),
    "documentation": ("install", "usage", "how to", "example", "guide", "documentation",
                      "getting started", "configure", "step", "anleitung", "mode d'emploi"),
}

_STOPWORDS = {
    "English": ("the", "and", "of", "to", "is", "in", "that", "for", "with", "you"),
    "German": ("der", "die", "und", "das", "ist", "nicht", "mit", "sie", "ein", "zu"),
    "French": ("le", "la", "les", "et", "est", "des", "une", "pour", "dans", "vous"),
    "Spanish": ("el", "la", "los", "y", "es", "de", "que", "para", "una", "por"),
    "Italian": ("il", "di", "che", "è", "per", "una", "non", "sono", "della", "gli"),
    "Dutch": ("de", "het", "een", "en", "van", "is", "niet", "dat", "voor", "met"),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TAG = re.compile(r"<[^<>]{0,400}>")
STOPWORD_SHARE = 0.04  # the least share of stop words among prose's words (measured: 0.065 and up)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w+")
_ADDRESS = re.compile(r"[\w.+-]+@[\w.-]+|\b(?:https?|ftp)://\S+|\bwww\.\S+")
_PHONE = re.compile(r"\+?\d[\d ()-]{8,}\d")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b")


# Categories whose files hold no prose: their natural language is '' whatever words
# their comments or strings use (a docstring does not make Python English).
NO_PROSE = ("source_code", "data", "log")
# Kinds whose category their name and form decide, not the cue words of their text.
KNOWN_BY_FORM = frozenset({"README", CHANGELOG, CREDITS, DEBIAN_COPYRIGHT})


@dataclass
class Kind:
    label: str
    category: str = ""        # decided category, "" when the model should choose
    language: str = ""        # decided natural language, "" when undecided or no prose
    language_guess: str = ""  # a hint for the prompt when not decided
    personal_data: bool = False
    format: str = ""          # the file's format (Python, INI, CSV, plain text, ...)
    no_prose: bool = False    # the kind decides that there is no prose: language ''

    def hints(self) -> dict:
        return {"category": self.category, "language": self.language,
                "language_guess": self.language_guess, "personal_data": self.personal_data,
                "format": self.format, "no_prose": self.no_prose}


def known_extension(ext: str) -> str:
    """The kind label a text extension stands for ('' when it names no kind here)."""
    found = _EXT.get(ext.lower())
    return found[0] if found else ""


def natural_language(text: str) -> str:
    """The most likely natural language by stop-word counts ('' when unclear)."""
    # addresses and links are not prose: ".es" and ".de" domains read as Spanish "es"
    # and German "de" (a staff list of @riverside-coop.es addresses came out Spanish)
    # nor are markup tags and their attributes (an XML catalog read as plain text)
    words = Counter(_WORD.findall(_ADDRESS.sub(" ", _TAG.sub(" ", text[:4000])).lower()))
    if sum(words.values()) < 5:
        return ""
    scores = {lang: sum(words[w] for w in stop) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=scores.get)
    # Prose is dense in stop words (a fifth to a half of its words); a PGP key's base64,
    # an XML catalog or a list of names holds a few by chance ("es", "de", "la"), which
    # made /etc's keys Spanish and its catalogs Dutch.
    if scores[best] < 2 or scores[best] < STOPWORD_SHARE * sum(words.values()):
        return ""
    return best


def known_languages() -> set[str]:
    """The natural languages the stop words tell apart."""
    return set(_STOPWORDS)


def known_formats() -> set[str]:
    """Every format name the text kinds use (Python, INI, CSV, plain text, ...)."""
    names = {fmt for _, _, fmt in _EXT.values()} | {fmt for _, _, fmt in _NAMES.values()}
    return (names | set(_SHEBANG_LANG.values()) | set(SYSTEM_FORMATS.values())) - {""}


def cue_counts(text: str) -> dict[str, int]:
    """How often each category's cue words occur in the file's opening (lowercased)."""
    low = text[:6000].lower()
    return {cat: len(pattern.findall(low)) for cat, pattern in _CUE_PATTERNS.items()}


# A short cue only where a word starts: "tax" in "syntax" and "vat" in "private" made
# release notes financial (/usr/share/doc/git/RelNotes); longer ones anywhere, as German
# compounds hold them ("Kurzanleitung").
_CUE_PATTERNS = {cat: re.compile("|".join(
    (r"(?<!\w)" if len(cue.strip()) <= 4 else "") + re.escape(cue) for cue in cues))
    for cat, cues in _CUES.items()}


def log_line_count(text: str) -> int:
    """Lines in the file's opening that start with a timestamp, as log lines do."""
    return len(_LOG_LINE.findall(text[:4000]))


def prose_category(text: str) -> str:
    """The category a prose document's wording points to ('' when no cue stands out)."""
    scores = cue_counts(text)
    best = max(scores, key=scores.get)
    ordered = sorted(scores.values(), reverse=True)
    if ordered[0] >= 2 and ordered[0] > ordered[1]:
        return best
    return ""


def has_personal_data(text: str) -> bool:
    """E-mail addresses, IBANs or phone numbers in the part of the file the model sees."""
    sample = text[:8192]
    if "@" in sample and _EMAIL.search(sample):
        return True
    return bool(_IBAN.search(sample) or _PHONE.search(sample))


def detect_kind(path: bytes, text: str) -> Kind:
    name = os.fsdecode(os.path.basename(path))
    stem, ext = os.path.splitext(name.lower())
    personal = has_personal_data(text)
    found = _EXT.get(ext) or _NAMES.get(stem if not ext else name.lower()) or _NAMES.get(stem)
    if found is None and name.lower().startswith(("license", "licence", "copying")):
        found = _NAMES["license"]  # LICENSE-APACHE, COPYING.LIB, licence.txt
    if found is None or found[0] == "text document":
        # copyright files, changelogs, credits, /etc files: known by name or form
        found = wellknown_kind(name, text) or found
    if found is None:
        shebang = _SHEBANG.match(text)
        if shebang:
            lang = _SHEBANG_LANG[shebang.group(1)]
            found = (f"{lang} script", "source_code", lang)
        elif _DEBIAN_CHANGELOG.match(text):
            found = _NAMES["changelog"]
        elif log_line_count(text) >= 3:
            found = ("log file", "log", "log")
        elif text.lstrip().startswith(("{", "[")) and text.rstrip().endswith(("}", "]")):
            found = ("JSON file", "data", "JSON")
        else:
            found = ("text document", "", PLAIN)
    label, category, fmt = found
    if label == "changelog" and _DEBIAN_CHANGELOG.match(text):
        fmt = "Debian changelog"  # dch's form, whatever the file is called
    if label == "SQL script" and text.upper().count("INSERT INTO") >= 3:
        label, category = "SQL dump", "data"
    guess = natural_language(text)
    # A plain text file of records or settings is configuration whatever words its
    # comments use (/etc/protocols once came out "financial" for "tax" in a comment).
    if not category and log_line_count(text) < 3:  # timestamped lines are a log's
        category = settings_category(label, text)
        if category:
            fmt = settings_format(text)
    if label == "HTML page":
        # A page is read, not run: a manual or an article is documentation unless its
        # visible words say otherwise (cue words counted without the markup).
        text = re.sub(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", text, flags=re.S | re.I)
        guess = natural_language(text)
    # A README, a changelog, a copyright or credits file is what its name and form say:
    # a changelog's "tax" and "total" made it financial (/usr/share/doc, 94 files).
    if category in ("", "documentation") and label not in KNOWN_BY_FORM:
        cue = prose_category(text)
        if cue and (category == "" or cue != "documentation"):
            category = cue if category == "" or cue in ("legal", "financial", "report") else category
    # One meaning for the language: the natural language of the file's prose. Code, data
    # and logs have none; settings and tables neither (their comments do not count): only
    # a plain-text message has (/etc/motd, not adduser.conf's explanations).
    no_prose = category in NO_PROSE
    language = ""
    if category == "configuration":
        if fmt == PLAIN:
            language = natural_language("\n".join(data_lines(text)))
        no_prose = not language
    elif not no_prose:
        language = guess
    return Kind(label=label, category=category, language=language, language_guess=guess,
                personal_data=personal, format=fmt, no_prose=no_prose)


def format_by_name(name: str) -> str:
    """The format a file's name alone decides ('' when its content would have to tell):
    for results stored before the format had a field of its own."""
    low = name.lower()
    stem, ext = os.path.splitext(low)
    found = _EXT.get(ext) or _NAMES.get(low if ext else stem) or _NAMES.get(stem)
    if found is not None and found[2] != PLAIN:
        return found[2]
    if low in SYSTEM_FORMATS:
        return SYSTEM_FORMATS[low]
    if low == "copyright":
        return "Debian copyright"
    if low in ("changelog.debian", "news.debian"):
        return "Debian changelog"
    return found[2] if found is not None else ""
