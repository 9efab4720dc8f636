"""Pre-scan of a dropped folder, as a background job: file count, bytes and kinds, cancellable.

Each file's kind is decided by the run's own rules on the file's first bytes
(``scan.reader.preview_kind``), so the preview agrees with the results.
"""

from __future__ import annotations

import asyncio

from ..scan.reader import preview_kind
from ..scan.scanner import AsyncFileScanner
from .jobs import JobContext

PROGRESS_EVERY = 2048  # files between two progress reports


def prescan(folder: str, settings, context: JobContext) -> dict:
    """Count what ``folder`` holds; reports ``(files, bytes)`` now and then through the
    job's context. Returns {folder, files, bytes, kinds, skipped, excluded}."""
    return asyncio.run(_walk(folder, settings, context))


async def _walk(folder: str, s, context: JobContext) -> dict:
    scanner = AsyncFileScanner(folder, include=s.include, exclude=s.exclude,
                               max_file_size=s.max_file_size,
                               follow_symlinks=s.follow_symlinks, stat_files=True)
    context.on_cancel(scanner.cancel)
    kinds = {"document": 0, "text": 0, "code": 0, "image": 0, "archive": 0, "skip": 0}
    files = 0
    last = 0
    async for chunk in scanner.chunks():
        if context.cancelled:
            break
        for task in chunk:
            if context.cancelled:
                break
            files += 1
            kinds[preview_kind(task, s.max_file_size)] += 1
        if files - last >= PROGRESS_EVERY:
            last = files
            context.report((files, scanner.stats.bytes))
    return {"folder": folder, "files": files, "bytes": scanner.stats.bytes,
            "kinds": kinds, "skipped": kinds["skip"], "excluded": scanner.stats.excluded}


def describe(result: dict) -> str:
    """'1,500 files, 2.1 GB: 41% documents, 30% text, 18% code, 6% images, 5% to skip ...'.

    Documents, images (and audio or video) and archives are counted apart from text and
    code when there are any (``scan.reader.preview_kind``)."""
    files = result["files"]
    if files == 0:
        return "The folder holds no files to analyze."
    k = result["kinds"]
    skipped = k["skip"]
    parts = []
    for key, word in (("document", "documents"), ("text", "text"), ("code", "code"),
                      ("image", "images and media"), ("archive", "archives")):
        if k.get(key) or key in ("text", "code"):
            parts.append(f"{round(100 * k.get(key, 0) / files)}% {word}")
    if skipped:
        parts.append(f"{round(100 * skipped / files)}% to skip (empty, binary, unreadable or "
                     "not a regular file)")
    return f"{files:,} files, {human_bytes(result['bytes'])}: " + ", ".join(parts)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"
