"""Pre-scan of a dropped folder in a QThread: file count, bytes and kinds, cancellable."""

from __future__ import annotations

import asyncio
import os
import traceback

from ..scan.kinds import _EXT
from ..scan.scanner import AsyncFileScanner
from .qt import QObject, pyqtSignal, pyqtSlot

# Extensions that are almost always binary (skipped by the analysis as such).
BINARY_EXT = set(".png .jpg .jpeg .gif .bmp .ico .webp .tif .tiff .pdf .zip .gz .tgz .bz2 .xz .7z "
                 ".rar .jar .exe .dll .so .dylib .o .a .class .pyc .bin .iso .img .mp3 .mp4 .mov "
                 ".avi .mkv .wav .flac .ogg .woff .woff2 .ttf .otf .sqlite .db .parquet .xlsx .docx "
                 ".pptx .onnx".split())


def kind_of(path: bytes) -> str:
    ext = os.path.splitext(path)[1].decode("utf-8", "replace").lower()
    if ext in BINARY_EXT:
        return "binary"
    found = _EXT.get(ext)
    if found and found[1] == "source_code":
        return "code"
    return "text"


class PreScanWorker(QObject):
    """Counts what a folder holds; emits progress in batches and one result at the end."""

    progress = pyqtSignal(int, int)          # files, bytes so far
    done = pyqtSignal(dict)                  # {files, bytes, kinds, skipped, folder}
    failed = pyqtSignal(str, str)            # message, traceback
    finished = pyqtSignal()

    def __init__(self, folder: str, settings):
        super().__init__()
        self.folder = folder
        self.settings = settings
        self._scanner: AsyncFileScanner | None = None
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        if self._scanner is not None:
            self._scanner.cancel()

    @pyqtSlot()
    def run(self) -> None:
        try:
            result = asyncio.run(self._walk())
            if not self._cancelled:
                self.done.emit(result)
        except Exception as exc:  # never die silently: the window shows it
            self.failed.emit(f"cannot scan {self.folder}: {exc}", traceback.format_exc())
        finally:
            self.finished.emit()

    async def _walk(self) -> dict:
        s = self.settings
        self._scanner = AsyncFileScanner(self.folder, include=s.include, exclude=s.exclude,
                                         max_file_size=s.max_file_size,
                                         follow_symlinks=s.follow_symlinks, stat_files=True)
        kinds = {"text": 0, "code": 0, "binary": 0}
        files = skipped = 0
        last = 0
        async for chunk in self._scanner.chunks():
            if self._cancelled:
                break
            for task in chunk:
                files += 1
                if task.skip is not None:
                    skipped += 1
                else:
                    kinds[kind_of(task.path)] += 1
            if files - last >= 2048:
                last = files
                self.progress.emit(files, self._scanner.stats.bytes)
        return {"folder": self.folder, "files": files, "bytes": self._scanner.stats.bytes,
                "kinds": kinds, "skipped": skipped, "excluded": self._scanner.stats.excluded}


def describe(result: dict) -> str:
    """'12,480 files, 3.1 GB: 71% text, 20% code, 9% skipped (binary or unreadable)'."""
    files = result["files"]
    if files == 0:
        return "The folder holds no files to analyze."
    k = result["kinds"]
    skipped = k["binary"] + result["skipped"]
    parts = [f"{round(100 * k['text'] / files)}% text", f"{round(100 * k['code'] / files)}% code"]
    if skipped:
        parts.append(f"{round(100 * skipped / files)}% to skip (binary or not a regular file)")
    return f"{files:,} files, {human_bytes(result['bytes'])}: " + ", ".join(parts)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"
