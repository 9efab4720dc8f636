"""RTF through striprtf (BSD): the text, and the {\\info} group's title, author and dates."""

from __future__ import annotations

import re

from .base import Corrupt, Extracted, ExtractOptions, clip

_INFO = re.compile(r"\{\\(title|author|subject|operator|company)\s+([^{}]*)\}")
_TIME = re.compile(r"\{\\(creatim|revtim)((?:\\[a-z]+\d+)+)\}")


def _time(group: str) -> str:
    parts = dict(re.findall(r"\\([a-z]+)(\d+)", group))
    if "yr" not in parts:
        return ""
    out = parts["yr"] + "".join(f"-{int(parts[k]):02d}" for k in ("mo", "dy") if k in parts)
    if "hr" in parts:
        out += f" {int(parts['hr']):02d}:{int(parts.get('min', 0)):02d}"
    return out


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str = "") -> Extracted:
    from striprtf.striprtf import rtf_to_text

    raw = data.decode("latin-1")  # RTF is 7-bit with escapes; latin-1 never fails
    meta: dict = {}
    head = raw[:20000]
    for key, value in _INFO.findall(head):
        value = value.strip()
        if value:
            meta[{"author": "authors", "operator": "last_modified_by"}.get(key, key)] = value
    if "authors" in meta:
        meta["authors"] = [meta["authors"]]
    for key, group in _TIME.findall(head):
        meta["created" if key == "creatim" else "modified"] = _time(group)
    try:
        text = rtf_to_text(raw, errors="replace")
    except (ValueError, IndexError, RecursionError) as exc:
        raise Corrupt(f"striprtf: {exc}") from None
    return Extracted(label="RTF document", text=clip(text.strip(), options.max_chars), meta=meta)
