"""Single compressed files (.gz, .bz2, .xz): bounded decompression, then the inner file
is read as what it is: a ``changelog.Debian.gz`` is a changelog, a ``.tar.gz`` a tar
archive (listed as it streams), a ``report.pdf.gz`` a PDF."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib

from ..scan.magic import TAR, sniff
from .archive import list_tar
from .base import Corrupt, Extracted, ExtractOptions, bounded_inflate, output_limit

_SUFFIX = {".gz": "", ".z": "", ".tgz": ".tar", ".bz2": "", ".tbz2": ".tar", ".tbz": ".tar",
           ".xz": "", ".txz": ".tar"}
_ERRORS = (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError)


def _gzip_name(data: bytes) -> str:
    """The original name a gzip header may carry (FNAME)."""
    if len(data) < 10 or not data[3] & 0x08:
        return ""
    pos = 10
    if data[3] & 0x04:  # FEXTRA
        pos += 2 + int.from_bytes(data[10:12], "little")
    end = data.find(b"\x00", pos, pos + 1024)
    return os.path.basename(data[pos:end].decode("latin-1")) if end > pos else ""


def inner_name(name: str, kind: str, data: bytes) -> str:
    stem, ext = os.path.splitext(name)
    if ext.lower() in _SUFFIX:
        return stem + _SUFFIX[ext.lower()]
    return (_gzip_name(data) if kind == "gzip" else "") or name


def _decompressor(kind: str):
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    return bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()


def _stream(kind: str, data: bytes):
    raw = io.BytesIO(data)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)
    return bz2.BZ2File(raw) if kind == "bzip2" else lzma.LZMAFile(raw)


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str) -> Extracted:
    name = os.fsdecode(os.path.basename(path))
    inner = inner_name(name, kind, data)
    try:
        head = _prefix(kind, data)
        if sniff(head, inner) is TAR:
            listing = list_tar(_stream(kind, data), options, len(data))
            listing.label = "tar archive"
            listing.notes.insert(0, f"{kind}-compressed tar")
            listing.meta["compression"] = kind
            return listing
        out = bounded_inflate(_decompressor(kind), data, output_limit(options, len(data)), name)
    except _ERRORS as exc:
        raise Corrupt(f"{kind}: {exc}") from None
    note = f"{kind} of {inner}, {len(out)} bytes uncompressed from {len(data)}"
    return Extracted(label="compressed file", meta={"inner": inner, "inner_size": len(out),
                                                    "compression": kind},
                     notes=[note], text_of=inner, payload=out)


def _prefix(kind: str, data: bytes, size: int = 8192) -> bytes:
    with _stream(kind, data) as fh:
        return fh.read(size)
