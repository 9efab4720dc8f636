"""Archives (zip; tar, also compressed) listed, never extracted: member count, total
size, top folders, the kinds inside. A nested archive is listed as a member, not
opened; a zip's central directory declaring far more than its size is noted."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections import Counter

from .base import CappedReader, Corrupt, Extracted, ExtractOptions, LimitHit, output_limit

_ARCHIVES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".war")
MEMBERS_SHOWN = 40


def _kind(name: str) -> str:
    ext = os.path.splitext(name.lower())[1]
    return ext[1:] if ext else "no extension"


def _listing(entries: list[tuple[str, int]], total: int, compressed: int, label: str,
             options: ExtractOptions, truncated: bool) -> Extracted:
    files = [(n, s) for n, s in entries if not n.endswith("/")]
    tops = Counter(n.split("/", 1)[0] + "/" if "/" in n.strip("/") else "(top level)"
                   for n, _ in files)
    kinds = Counter(_kind(n) for n, _ in files)
    nested = [n for n, _ in files if n.lower().endswith(_ARCHIVES)]
    meta = {"members": len(files), "total_size": total,
            "top_folders": [f"{k} ({v})" for k, v in tops.most_common(8)],
            "kinds": [f"{k} ({v})" for k, v in kinds.most_common(8)]}
    notes = []
    if nested:
        meta["nested_archives"] = nested[:10]
        notes.append(f"{len(nested)} nested archive{'s' if len(nested) != 1 else ''} listed, "
                     "not opened")
    if truncated:
        notes.append(f"listing stopped at {options.max_members} members")
    if compressed and total > compressed * 1000 and total > (1 << 30):
        notes.append(f"declares {total} bytes uncompressed from {compressed}: a possible zip "
                     "bomb (listed only, nothing extracted)")
    lines = [f"{label.capitalize()} of {len(files)} files, {total} bytes uncompressed",
             "Top folders: " + ", ".join(meta["top_folders"]),
             "Kinds: " + ", ".join(meta["kinds"])]
    lines += [f"{n} ({s} bytes)" for n, s in files[:MEMBERS_SHOWN]]
    return Extracted(label=label, text="\n".join(lines), meta=meta, notes=notes, category="data", header=False)


def list_zip(data: bytes, options: ExtractOptions) -> Extracted:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            entries, total, truncated = [], 0, False
            for info in zf.infolist():
                if len(entries) >= options.max_members:
                    truncated = True
                    break
                entries.append((info.filename, info.file_size))
                total += info.file_size
            encrypted = any(i.flag_bits & 0x1 for i in zf.infolist()[:1000])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Corrupt(f"zip: {exc}") from None
    out = _listing(entries, total, len(data), "zip archive", options, truncated)
    if encrypted:
        out.notes.append("members are encrypted (names listed)")
    return out


def list_tar(raw, options: ExtractOptions, compressed: int) -> Extracted:
    """``raw``: a stream of the tar bytes (already decompressed where needed)."""
    limit = output_limit(options, compressed) if compressed else options.max_decompressed * 64
    stream = io.BufferedReader(CappedReader(raw, limit, "the tar stream"), 1 << 16)
    entries, total, truncated = [], 0, False
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if len(entries) >= options.max_members:
                    truncated = True
                    break
                entries.append((member.name + ("/" if member.isdir() else ""), member.size))
                total += member.size
    except LimitHit:
        if not entries:
            raise
        truncated = True  # listed up to the bound
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        if not entries:
            raise Corrupt(f"tar: {exc}") from None
        truncated = True
    return _listing(entries, total, compressed, "tar archive", options, truncated)


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str) -> Extracted:
    if kind == "zip":
        return list_zip(data, options)
    return list_tar(io.BytesIO(data), options, 0)
