"""Scan intake: the folder's files into the ledger as the scanner finds them, earlier results reused."""

from __future__ import annotations

import logging
import time

from ..extract import READER_VERSION
from ..records import ScanChunk
from ..scan.scanner import AsyncFileScanner
from ..store.ledger import DiskFull

log = logging.getLogger("helios.supervisor")


class ScanIntake:
    """Mixed into ``HeliosOrchestrator``: the scan task of a run (or its stand-ins when
    the folder is not scanned again)."""

    async def _scan(self, run_id: int) -> int:
        s = self.settings
        # Files unchanged since the last completed run of this folder keep its results.
        # Only a run with the same model and schema, unless the person chose otherwise, and
        # always one made by this reader: files it could not read before are read now.
        previous = None if self.fresh else self.ledger.last_completed_run(
            self.folder, before=run_id,
            like=None if self.reuse_any_model else self.settings.values, reader=READER_VERSION)
        # Telling unchanged files from changed ones needs size and mtime at scan time;
        # a first scan of a folder does without (the reader's fstat fills them in).
        has_rows = previous is not None or self.ledger.has_files(run_id)
        scanner = AsyncFileScanner(self.folder, include=s.include, exclude=s.exclude,
                                   max_file_size=s.max_file_size, follow_symlinks=s.follow_symlinks,
                                   stat_files=has_rows)
        self._scanner = scanner
        found = 0
        last_emit = 0.0
        try:
            async for chunk in scanner.chunks():
                self._flush(run_id, chunk, previous)
                found += len(chunk)
                if time.monotonic() - last_emit > 0.25:
                    last_emit = time.monotonic()
                    self._emit("scan_progress", files=found, bytes=scanner.stats.bytes,
                               excluded=scanner.stats.excluded, done=False)
            self._scan_done = not self.stop_requested
        except DiskFull as exc:
            self._fail(str(exc))
        except Exception as exc:  # the scan must end in a clear event, never silently
            log.exception("scan failed")
            self._emit("error", message=f"scan failed: {exc}")
            self.request_stop()
        if self._scan_done and not self.fatal:
            try:
                self.ledger.drop_stale_results(run_id)
            except DiskFull as exc:
                self._fail(str(exc))
        self._emit("scan_progress", files=found, bytes=scanner.stats.bytes,
                   excluded=scanner.stats.excluded, done=True)
        self._poke()
        return scanner.stats.excluded

    async def _no_work(self, run_id: int) -> int:
        """The scan of a run stopped before it began: the ledger stays as it was (a
        resumed run keeps its count of excluded files)."""
        return self.ledger.run_size(run_id)[1] or 0

    async def _no_scan(self, run_id: int) -> int:
        files, excluded = self.ledger.run_size(run_id)
        self._scan_done = True
        self._emit("scan_progress", files=files, bytes=0, excluded=excluded, done=True)
        self._poke()
        return excluded

    def _flush(self, run_id: int, chunk: ScanChunk, previous: int | None) -> None:
        self.ledger.add_discovered(run_id, chunk)
        self.metrics.files_discovered.inc(len(chunk))
        skipped = chunk.skipped
        if skipped:
            self.metrics.files_processed.labels("skipped").inc(skipped)
        if previous is not None:
            self._reused += self.ledger.reuse_unchanged(run_id, previous, chunk.all_paths())
        self._poke()
