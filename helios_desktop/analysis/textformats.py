"""Evidence from calendars, contacts, subtitles, LaTeX papers, patches, SQL dumps and email."""

from __future__ import annotations

import re
from collections import Counter

from .prose import clean, first_sentence, join_names


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
