"""Summaries of files known by their name or form: Debian copyright files, changelogs,
credits and well-known system files (``scan/wellknown.py`` tells them apart).

Each says first what the file is ("Debian copyright file for package tar: licences
GPL-3+ and GFDL-NIV-1.3+"), then what is in it, so a person reading a result list
knows the file without opening it.
"""

from __future__ import annotations

import os
import re

from ..scan.wellknown import (CHANGELOG, CREDITS, DEBIAN_CHANGELOG_HEAD, DEBIAN_COPYRIGHT,
                              SYSTEM_FILE, SYSTEM_FILES)
from . import prose

_FIELD = re.compile(r"^(Upstream-Name|License|Comment):[ \t]*(\S[^\n]*)", re.M)
_LICENCE_SPLIT = re.compile(r",?\s+(?:and|or)\s+|,\s*", re.I)
_TRAILER = re.compile(r"^ -- .+?<[^>]*>\s+\w{3}, (\d{1,2} \w{3} \d{4})", re.M)
_ITEM = re.compile(r"^\s+[*-]\s+(.+)$", re.M)
# /etc/issue escapes (agetty): what the banner shows in their place.
_ISSUE_ESCAPES = {"n": "host name", "l": "terminal", "r": "kernel release", "m": "architecture",
                  "s": "system name", "d": "date", "t": "time", "o": "domain", "u": "users",
                  "4": "IPv4 address", "6": "IPv6 address"}


def _package(path: bytes, name: str) -> str:
    """The Debian package a file belongs to: /usr/share/doc/PACKAGE/copyright."""
    parent = os.path.basename(os.path.dirname(os.fsdecode(path)))
    return parent if parent and parent not in (".", "/") else ""


def debian_licences(text: str) -> list[str]:
    """The licences a Debian copyright file names, in order of first mention."""
    names: list[str] = []
    for field, value in _FIELD.findall(text[:60000]):
        if field != "License":
            continue
        value = re.sub(r"\s+with\s+.*$", "", value.strip(), flags=re.I)
        for part in _LICENCE_SPLIT.split(value):
            part = part.strip(" ,()")
            if part and part not in names:
                names.append(part)
    if not names:  # an old-style file: the licence texts it names or quotes
        low = re.sub(r"\s+", " ", text[:60000].lower())
        for pattern, licence in prose._LICENCES:
            if re.search(pattern, low) and licence not in names:
                names.append(licence)
        names = [n for n in names if not (n == "GNU GPL" and any(m.startswith("GNU GPL ") for m in names))]
    return names


def _end(text: str) -> str:
    """One closing full stop, none after an ellipsis."""
    text = text.rstrip(". ")
    return text if text.endswith("…") else text + "."


def _listed(names: list[str], limit: int = 4) -> str:
    shown = names[:limit]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    if len(shown) == 1:
        return shown[0] + more
    return (", ".join(shown[:-1]) + (", " if more else " and ") + shown[-1] + more)


def copyright_summary(path: bytes, name: str, text: str) -> str:
    fields = dict((f, v.strip()) for f, v in reversed(_FIELD.findall(text[:5000])))
    package = _package(path, name) if name.lower() == "copyright" else ""
    upstream = fields.get("Upstream-Name", "")
    subject = package or upstream
    what = "Debian copyright file" + (f" for package {subject}" if subject else "")
    if upstream and package and upstream.lower() != package.lower():
        what += f" ({upstream})"
    licences = debian_licences(text)
    word = "licence" if len(licences) == 1 else "licences"
    tail = f": {word} {_listed(licences)}" if licences else ""
    if not tail:
        first = prose.first_sentence(text, 120)
        tail = f": {first}" if first else ""
    return _end(prose.clean(what + tail, 240))


def changelog_summary(path: bytes, name: str, text: str) -> str:
    heads = DEBIAN_CHANGELOG_HEAD.findall(text[:200000])
    if not heads:
        first = prose.prose_summary(text, "document")
        return prose.clean(f"Changelog ({name}): {first}", 240) if first else ""
    package = heads[0][0]
    kind = "Debian news" if name.lower().startswith("news") else "Debian changelog"
    dates = _TRAILER.findall(text[:200000])
    span = ""
    if len(heads) > 1:
        span = f", versions {heads[-1][1]} to {heads[0][1]}"
        if len(dates) > 1:
            span += f" ({dates[-1]} to {dates[0]})"
    else:
        span = f", version {heads[0][1]}" + (f" ({dates[0]})" if dates else "")
    count = f"{len(heads)} entr{'y' if len(heads) == 1 else 'ies'}"
    latest = _ITEM.search(text[:5000])
    if latest is None:  # NEWS.Debian: a paragraph, not a list of items
        body = text.split("\n", 1)[1] if "\n" in text else ""
        paras = prose.body_paragraphs(body)
        latest_text = prose.first_sentence(paras[0], 110) if paras else ""
    else:
        latest_text = prose.first_sentence(latest.group(1), 110)
    tail = f"; latest: {latest_text.rstrip('.')}" if latest_text else ""
    return _end(prose.clean(f"{kind} of package {package}: {count}{span}{tail}", 240))


_CREDIT_WORDS = {"authors": "List of the authors", "thanks": "Thanks to the contributors",
                 "credits": "Credits", "contributors": "List of the contributors",
                 "maintainers": "List of the maintainers"}
_PERSON_LINE = re.compile(r"^\s*([A-Z][\w'.-]+(?: [A-Z][\w'.-]*){1,3})\s*(?:<[^>\n]+@|\s{2,}\S+@|,|$)", re.M)


def credits_summary(path: bytes, name: str, text: str) -> str:
    stem = name.lower().split(".", 1)[0]
    what = _CREDIT_WORDS.get(stem, "Credits")
    package = _package(path, name)
    what += f" of {package}" if package else ""
    people = [m.group(1) for m in _PERSON_LINE.finditer(text[:20000])]
    first = ""
    for para in prose.body_paragraphs(text):
        first = prose.first_sentence(para, 120)
        if first and not first.endswith(":"):  # "It is currently maintained by:"
            break
        first = ""
    if not first:
        first = prose.first_sentence(text, 120)
    named = f"{len(people)} people named, among them {prose.join_names(people, 3)}" if len(people) >= 2 else ""
    parts = [p for p in (named, first.rstrip(".")) if p]
    return _end(prose.clean(f"{what}: " + "; ".join(parts), 240)) if parts else f"{what}."


def _issue_value(value: str) -> str:
    shown = []
    for code in re.findall(r"\\(\w)", value):
        if code in _ISSUE_ESCAPES and _ISSUE_ESCAPES[code] not in shown:
            shown.append(_ISSUE_ESCAPES[code])
    value = f"“{value}”"
    return value + (f" (shows the {_listed(shown)})" if shown else "")


def system_file_summary(name: str, text: str, structural: str) -> str:
    """'hostname: the machine's host name, vm.'; longer files: the purpose, then what
    the structural summary (table, settings, prose) says of the content."""
    purpose = SYSTEM_FILES.get(name.lower(), "a system file")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    data = [line for line in lines if not line.startswith("#")]
    if len(data) <= 2 and len(" ".join(data)) <= 120 and len(lines) <= 4:
        value = " ".join(data)
        if name.lower().startswith("issue") and value:
            value = _issue_value(value)
        elif not value:  # only comments: "# UNCONFIGURED FSTAB FOR BASE SYSTEM"
            note = prose.clean(" ".join(line.lstrip("# ") for line in lines), 100)
            value = "no entries" + (f" (“{note}”)" if note else "")
        return _end(prose.clean(f"{name}: {purpose}, {value}", 240))
    return prose.clean(f"{name}: {purpose}. {structural}", 240) if structural else \
        prose.clean(f"{name}: {purpose}.", 240)


def notice_summary(path: bytes, name: str, label: str, text: str, structural) -> str:
    """The summary of a well-known file, or '' for any other kind. ``structural(label)``
    gives a system file's content summary, called only when needed."""
    if label == DEBIAN_COPYRIGHT:
        return copyright_summary(path, name, text)
    if label == CHANGELOG:
        return changelog_summary(path, name, text)
    if label == CREDITS:
        return credits_summary(path, name, text)
    if label == SYSTEM_FILE or name.lower() in SYSTEM_FILES:  # also hosts.conf: a settings file
        return system_file_summary(name, text, structural(label))
    return ""
