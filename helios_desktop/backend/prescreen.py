"""Files the reader rejects by their first bytes, skipped while the workers load the model."""

from __future__ import annotations

import asyncio
import logging

from ..extract.read import skip_by_head
from ..records import AnalysisResult, FileTask, Status
from ..scan.reader import Skip
from ..store.ledger import DiskFull

log = logging.getLogger("helios.supervisor")

PRESCREEN_WORKER = -1   # the ledger's worker id for the moment a file is held here
CHUNK = 256             # heads read per turn (in a thread, off the loop)


class Prescreen:
    """Mixed into ``HeliosOrchestrator``. A worker reads a file only once its model is
    loaded (seconds to minutes), so a binary file waited that long for a verdict its
    first 8 KiB already give. Until the first worker is ready, this reads the heads of
    the pending files and records those ``read_file`` would skip; the others wait for the
    workers as before, and a worker skips by the same rule whatever this misses."""

    def _a_worker_ready(self) -> bool:
        return any(w.ready_once for w in self.workers.values())

    async def _prescreen(self, run_id: int) -> None:
        after = 0
        try:
            while not self.stop_requested and not self._a_worker_ready():
                tasks = self.ledger.pending_after(run_id, after, CHUNK)
                if not tasks:
                    if self._scan_done:
                        return
                    await asyncio.sleep(0.05)  # the scan is still adding files
                    continue
                after = tasks[-1].file_id
                skips = await asyncio.to_thread(self._heads, tasks)
                self._record_skips(run_id, skips)
        except DiskFull as exc:
            self._fail(str(exc))
        except Exception:  # a shortcut only: the workers read every file anyway
            log.exception("pre-screen of binary files failed; the workers decide them")

    def _heads(self, tasks: list[FileTask]) -> list[tuple[FileTask, Skip]]:
        spec = self.spec
        out = []
        for task in tasks:
            skip = skip_by_head(task, self.settings.max_file_size, spec.extract)
            if skip is not None:
                out.append((task, skip))
        return out

    def _record_skips(self, run_id: int, skips: list[tuple[FileTask, Skip]]) -> None:
        if not skips:
            return
        # Only files no worker took while the heads were read; claim and record run with
        # no await between them, so nothing else sees the files held here.
        claimed = self.ledger.claim(run_id, [task.file_id for task, _ in skips],
                                    PRESCREEN_WORKER)
        outcomes = [(task.file_id, AnalysisResult(task.path, Status.SKIPPED, reason=skip.reason,
                                                  message=skip.detail, size=skip.size,
                                                  mtime_ns=skip.mtime_ns))
                    for task, skip in skips if task.file_id in claimed]
        if outcomes:
            self.ledger.record(outcomes)
            self.metrics.files_processed.labels("skipped").inc(len(outcomes))
            self._poke()
