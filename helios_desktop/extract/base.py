"""What every extractor shares: its result, its options, its typed refusals, and the
bounds on decompression (size and ratio) that keep a bomb from becoming a problem."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from ..scan.magic import FAMILIES


class ExtractError(Exception):
    """The document cannot be read; the reader turns it into a typed ``skipped`` row."""

    reason = "corrupt"


class Encrypted(ExtractError):
    """A password is needed (an empty one was tried)."""

    reason = "encrypted"


class Corrupt(ExtractError):
    """The format's parser refused the file; the message is the parser's own."""

    reason = "corrupt"


class LimitHit(ExtractError):
    """A bound was hit; the message names which one (size, ratio, deadline, memory, ...)."""

    reason = "limit"


class NotReadable(ExtractError):
    """Bytes of a known container that hold nothing Helios reads (a gzip of a binary)."""

    reason = "binary"


@dataclass(frozen=True)
class ExtractOptions:
    """How documents are read in a worker (from the settings; picklable)."""

    formats_off: frozenset[str] = frozenset()
    max_chars: int = 20_000                 # text handed on (the prompt is cut further)
    max_decompressed: int = 64 << 20        # bytes out of any one decompression
    max_ratio: int = 200                    # output bytes per input byte, at most
    max_members: int = 100_000              # archive members listed
    deadline_s: float = 30.0                # per file
    memory_limit: int = 1 << 30             # extra address space while extracting (0: none)
    ocr: str = "off"                        # off | tesseract

    @classmethod
    def from_settings(cls, values: dict) -> ExtractOptions:
        """From the run's settings (config.py checked them)."""
        return cls(formats_off=frozenset(values.get("formats_off") or ()),
                   deadline_s=float(values.get("extract_timeout", cls.deadline_s)),
                   memory_limit=int(values.get("extract_memory_limit", cls.memory_limit)),
                   ocr=values.get("ocr", "off"))

    def enabled(self, family: str) -> bool:
        return family in FAMILIES and family not in self.formats_off


@dataclass
class Extracted:
    """What an extractor read: the text the model sees, metadata, and notes.

    ``meta`` keys used across families: title, authors, created, modified, pages, slides,
    sheets, producer, language (declared), plus family ones (camera, gps, members, ...).
    ``text_of`` is set by the compressed-file extractor: the text is a plain file of that
    name, to be read as what it is (a changelog, a log)."""

    label: str
    text: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    category: str = ""                     # decided here where the format decides it
    findings: list[dict] = field(default_factory=list)   # personal data in the metadata
    text_of: str | None = None
    payload: bytes = b""                   # the inner file's bytes (compressed files)
    header: bool = True                    # put the metadata lines before the text


def bounded_inflate(decompressor, data: bytes, limit: int, what: str) -> bytes:
    """Feed ``data`` through ``decompressor`` (zlib/bz2/lzma object), stopping with
    ``LimitHit`` once more than ``limit`` bytes would come out."""
    out = bytearray()
    pending = data
    while True:
        chunk = decompressor.decompress(pending, max(1, limit + 1 - len(out)))
        out += chunk
        if len(out) > limit:
            raise LimitHit(f"{what} inflates past {limit} bytes (the bound on decompressed size "
                           f"and ratio); not read")
        pending = getattr(decompressor, "unconsumed_tail", b"")
        if getattr(decompressor, "eof", False):
            return bytes(out)
        if not pending and (not chunk or getattr(decompressor, "needs_input", True)):
            return bytes(out)


def output_limit(options: ExtractOptions, compressed: int) -> int:
    """Bytes a decompression may produce: the size cap or the ratio cap, the smaller
    (with a floor, so a tiny, honest file of repeated text is still read)."""
    return min(options.max_decompressed, max(1 << 20, compressed * options.max_ratio))


class CappedReader(io.RawIOBase):
    """A read-only stream that raises ``LimitHit`` past ``limit`` bytes: the XML and tar
    parsers read decompressed data through it, so a bomb stops at the bound."""

    def __init__(self, raw, limit: int, what: str):
        self.raw, self.limit, self.what, self.count = raw, limit, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        want = min(len(buffer), self.limit + 1 - self.count)
        data = self.raw.read(max(want, 1))
        self.count += len(data)
        if self.count > self.limit:
            raise LimitHit(f"{self.what} is larger than {self.limit} bytes uncompressed "
                           "(decompression bound); not read")
        buffer[:len(data)] = data
        return len(data)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


def meta_header(meta: dict, order=("title", "authors", "subject", "created", "modified",
                                   "pages", "slides", "sheets", "producer", "language")) -> str:
    """The metadata as the model reads it, one 'Name: value' line each, before the text."""
    lines = []
    for key in order:
        value = meta.get(key)
        if value in (None, "", [], 0):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value[:8])
        lines.append(f"{key.capitalize()}: {value}")
    return "\n".join(lines)
