"""The format of a document as people name it (PDF, DOCX, JPEG, ZIP, ...), for the format field.

Text files take theirs from ``scan/kinds.py`` (Python, INI, CSV, plain text, ...); a
document's comes from what its bytes say (``scan/magic.py``) and, for images, from what
Pillow read. One style for both: the short name a person uses for the format.
"""

from __future__ import annotations

import os

# A registry kind (scan/magic.Format.kind, also metadata's "format") -> the name shown.
NAMES: dict[str, str] = {
    "pdf": "PDF", "docx": "DOCX", "xlsx": "XLSX", "pptx": "PPTX",
    "odt": "ODT", "ods": "ODS", "odp": "ODP", "rtf": "RTF", "epub": "EPUB",
    "eml": "e-mail", "msg": "Outlook message", "mbox": "mailbox",
    "gzip": "gzip", "bzip2": "bzip2", "xz": "xz", "zip": "ZIP", "tar": "tar",
    "sqlite": "SQLite", "image": "image", "audio": "audio", "video": "video",
}
# Pillow's format names that read better another way.
_IMAGE = {"WEBP": "WebP", "MPO": "JPEG"}  # MPO: a camera's JPEG with a second frame
# Media by extension: tinytag does not name the container, the name does.
_MEDIA = {".mp3": "MP3", ".ogg": "Ogg", ".oga": "Ogg", ".opus": "Opus", ".flac": "FLAC",
          ".wav": "WAV", ".m4a": "M4A", ".m4b": "M4A", ".aac": "AAC", ".wma": "WMA",
          ".aiff": "AIFF", ".aif": "AIFF", ".mp4": "MP4", ".m4v": "MP4", ".mov": "QuickTime",
          ".avi": "AVI", ".mkv": "Matroska", ".webm": "WebM", ".3gp": "3GP"}


def document_format(kind: str, meta: dict | None = None, path: bytes | str = b"") -> str:
    """The format of a document the extractor read: ``kind`` is the registry's (pdf,
    docx, image, gzip, ...), ``meta`` its metadata (an image's Pillow format, a tar's
    compression), ``path`` its name (audio and video containers)."""
    meta = meta or {}
    if kind == "image":
        found = str(meta.get("format") or "").upper()
        return _IMAGE.get(found, found) or "image"
    if kind in ("audio", "video"):
        ext = os.path.splitext(os.fsdecode(path).lower())[1]
        return _MEDIA.get(ext, kind)
    if kind == "tar" and meta.get("compression"):
        return f"tar ({meta['compression']})"  # a .tar.gz is a tar archive, gzip-compressed
    return NAMES.get(kind, kind)


def stored_format(code: str | None, path: bytes | str = b"") -> str:
    """The format for a document stored before the format field (metadata's ``format``:
    a registry kind, or Pillow's name for an image); '' when there is none."""
    if not code:
        return ""
    if code in NAMES:
        return document_format(code, {}, path)
    return document_format("image", {"format": code}, path)  # JPEG, PNG, ...
