"""What a file is by its bytes: magic numbers, and the member names inside a zip.

A PDF without an extension, a .docx renamed .zip and an .odt are what their bytes
say. Only the head of the file and, for a zip, its central directory are read here
(cheap and bounded: the window's pre-scan uses it too); the extractors in
``helios_desktop/extract`` read the rest.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass

from .kinds import known_extension

# Families a setting can turn off (``formats_off``), each read by one extractor module.
FAMILIES = ("pdf", "office", "opendocument", "rtf", "epub", "email", "image", "audio",
            "compressed", "archive", "sqlite")


@dataclass(frozen=True)
class Format:
    kind: str     # the registry key: pdf, docx, xlsx, pptx, odt, ..., gzip, zip, tar, sqlite
    family: str   # one of FAMILIES
    label: str    # what a person calls it: "PDF document", "Word document", ...
    preview: str  # the window's class: document, image, archive (never text or code here)


def _f(kind: str, family: str, label: str, preview: str = "document") -> Format:
    return Format(kind, family, label, preview)


PDF = _f("pdf", "pdf", "PDF document")
DOCX = _f("docx", "office", "Word document")
XLSX = _f("xlsx", "office", "spreadsheet")
PPTX = _f("pptx", "office", "presentation")
ODT = _f("odt", "opendocument", "OpenDocument text")
ODS = _f("ods", "opendocument", "spreadsheet")
ODP = _f("odp", "opendocument", "presentation")
EPUB = _f("epub", "epub", "e-book")
RTF = _f("rtf", "rtf", "RTF document")
EML = _f("eml", "email", "email message")
MSG = _f("msg", "email", "email message")
MBOX = _f("mbox", "email", "mailbox")
IMAGE = _f("image", "image", "image", "image")
AUDIO = _f("audio", "audio", "audio file", "image")  # media: counted with images in the preview
VIDEO = _f("video", "audio", "video file", "image")
GZIP = _f("gzip", "compressed", "compressed file", "archive")
BZIP2 = _f("bzip2", "compressed", "compressed file", "archive")
XZ = _f("xz", "compressed", "compressed file", "archive")
ZIP = _f("zip", "archive", "zip archive", "archive")
TAR = _f("tar", "archive", "tar archive", "archive")
SQLITE = _f("sqlite", "sqlite", "SQLite database")

_ODF = {"application/vnd.oasis.opendocument.text": ODT,
        "application/vnd.oasis.opendocument.spreadsheet": ODS,
        "application/vnd.oasis.opendocument.presentation": ODP,
        "application/vnd.oasis.opendocument.text-template": ODT,
        "application/epub+zip": EPUB}
_OOXML = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX),
          ("ppt/presentation.xml", PPTX))

# (offset, magic, format); images and media by their signatures only, so a file
# that merely has an image's extension is not sent to Pillow.
_MAGIC: tuple[tuple[int, bytes, Format], ...] = (
    (0, b"SQLite format 3\x00", SQLITE),
    (0, b"\x89PNG\r\n\x1a\n", IMAGE),
    (0, b"\xff\xd8\xff", IMAGE),
    (0, b"GIF87a", IMAGE), (0, b"GIF89a", IMAGE),
    (0, b"II*\x00", IMAGE), (0, b"MM\x00*", IMAGE),
    (0, b"{\\rtf", RTF),
    (0, b"\x1f\x8b", GZIP), (0, b"BZh", BZIP2), (0, b"\xfd7zXZ\x00", XZ),
    (0, b"ID3", AUDIO), (0, b"OggS", AUDIO), (0, b"fLaC", AUDIO),
    (257, b"ustar", TAR),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAIL_HEADER = re.compile(rb"^(?:From|To|Subject|Date|Message-ID|Received|Return-Path|"
                          rb"MIME-Version|Content-Type|Delivered-To|X-[\w-]+): ", re.M | re.I)
_MBOX_FROM = re.compile(rb"^From \S+ .{10,}$", re.M)


def _riff(head: bytes) -> Format | None:
    if head[:4] != b"RIFF" or len(head) < 12:
        return None
    sub = head[8:12]
    if sub == b"WEBP":
        return IMAGE
    if sub == b"WAVE":
        return AUDIO
    if sub == b"AVI ":
        return VIDEO
    return None


def _iso_media(head: bytes) -> Format | None:
    """MP4, M4A, MOV, 3GP and HEIC share the ISO base media 'ftyp' box."""
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in (b"heic", b"heix", b"mif1", b"avif"):
        return None  # HEIF/AVIF photos: Pillow cannot read them without a plugin (binary)
    if brand in (b"M4A ", b"M4B ", b"M4P "):
        return AUDIO
    return VIDEO


def _zip_kind(fileobj) -> Format:
    """A zip by its members: OpenDocument and EPUB name their type in ``mimetype``,
    Office Open XML in ``[Content_Types].xml`` and its main part."""
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as zf:
            names = set()
            for i, info in enumerate(zf.infolist()):
                names.add(info.filename)
                if i >= 4096:  # the parts that decide are near the start of real files
                    break
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size < 200:
                    mime = zf.read("mimetype").decode("ascii", "replace").strip()
                    if mime in _ODF:
                        return _ODF[mime]
            if "[Content_Types].xml" in names:
                for part, fmt in _OOXML:
                    if part in names:
                        return fmt
            if "META-INF/container.xml" in names and any(n.endswith(".opf") for n in names):
                return EPUB
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, NotImplementedError,
            RuntimeError):
        pass  # a damaged zip is still a zip: the archive extractor says what is wrong
    return ZIP


def _is_mail(head: bytes, name: str) -> Format | None:
    ext = os.path.splitext(name.lower())[1]
    if ext == ".msg" or known_extension(ext) not in ("", "text document", "email message"):
        return None  # a git format-patch opens like a mailbox; its extension says patch
    if head.startswith(b"From ") and _MBOX_FROM.match(head) and \
            len(_MAIL_HEADER.findall(head[:4096])) >= 2:
        return MBOX
    if name.lower().endswith(".eml") or len(set(m.lower() for m in _MAIL_HEADER.findall(
            head[:4096]))) >= 3 and head.lstrip()[:1].isalpha():
        top = head[:4096].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        lines = [line for line in top.splitlines() if line.strip()]
        headers = sum(1 for line in lines if _MAIL_HEADER.match(line) or
                      re.match(rb"^[\w-]+: |^[ \t]", line))
        if lines and headers >= 0.8 * len(lines) and _MAIL_HEADER.match(lines[0] + b" ") is not None:
            return EML
        if lines and name.lower().endswith(".eml") and headers >= 0.8 * len(lines):
            return EML
    return None


def sniff(head: bytes, name: str, fileobj=None) -> Format | None:
    """The format the bytes say, or None for a file to read as text (or skip as binary).

    ``head``: the file's first 8 KiB; ``fileobj``: the open file (seekable), read only
    to list a zip's members."""
    if not head:
        return None
    # PDF readers accept the header anywhere in the first KiB (a mail gateway's prefix).
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024] and b"\x00" not in head[:head.find(b"%PDF-")]:
        return PDF
    for offset, magic, fmt in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            if fmt is IMAGE and magic == b"\xff\xd8\xff" and len(head) < 4:
                continue
            return fmt
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _zip_kind(fileobj) if fileobj is not None else ZIP
    if head.startswith(_OLE):
        return MSG if name.lower().endswith(".msg") or b"_\x00_\x00s\x00u\x00b\x00s\x00t\x00g" in head \
            else None
    found = _riff(head) or _iso_media(head)
    if found:
        return found
    if head.startswith(b"BM") and len(head) > 26 and int.from_bytes(head[14:18], "little") in (
            12, 40, 52, 56, 64, 108, 124):
        return IMAGE  # a Windows bitmap: the DIB header size is one of the known ones
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2") and name.lower().endswith(".mp3"):
        return AUDIO
    if b"\x00" not in head[:1024]:
        return _is_mail(head, name)
    return None
