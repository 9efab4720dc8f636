"""One analysis run: scan -> ledger -> read -> engine -> ledger, with events.

The ledger is the source of truth: the scanner writes every file found as a
row, the dispatcher leases pending rows, reads them, hands them to the engine
and writes the outcome. A stop request (signal or a ``stop`` line) ends the
scan, lets the batch in flight finish, puts leased rows back to pending and
marks the run interrupted, so the next run resumes where this one stopped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .config import Settings
from .engine import InferenceEngine
from .events import EventWriter
from .extract import Skip, read_document
from .ledger import Ledger
from .records import AnalysisResult, Reason, Status, display_path
from .scan import AsyncFileScanner

log = logging.getLogger("helios.run")

EngineFactory = Callable[[Callable[[int, int, str], None]], InferenceEngine]
SCAN_FLUSH = 512


@dataclass
class RunSummary:
    run_id: int
    status: str  # completed | interrupted
    counts: dict[str, int]
    reasons: dict[str, int]
    seconds: float
    files_per_second: float
    tokens_per_second: float
    prompt_tokens: int = 0
    generated_tokens: int = 0
    excluded: int = 0
    resumed: bool = False
    reused: int = 0
    provider: str = ""
    model: str = ""
    demonstration: bool = False
    extra: dict = field(default_factory=dict)


class AnalysisRun:
    def __init__(self, settings: Settings, folder: str, ledger: Ledger,
                 engine_factory: EngineFactory, events: EventWriter | None = None,
                 on_progress: Callable[[dict], None] | None = None):
        self.settings = settings
        self.folder = os.fsencode(os.path.abspath(folder))
        self.ledger = ledger
        self.engine_factory = engine_factory
        self.events = events
        self.on_progress = on_progress
        self.stop_requested = asyncio.Event()
        self._scan_done = asyncio.Event()
        self._scanned = asyncio.Event()
        self._scanner: AsyncFileScanner | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="helios-engine")
        self._io = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="helios-read")
        self.prompt_tokens = 0
        self.generated_tokens = 0
        self.processed = 0
        self._reused = 0

    def _emit(self, name: str, **fields) -> None:
        if self.events:
            self.events.emit(name, **fields)

    def request_stop(self) -> None:
        self.stop_requested.set()
        if self._scanner:
            self._scanner.cancel()

    async def execute(self) -> RunSummary:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        self._emit("worker", worker=0, pid=os.getpid(), state="loading_model")

        def resized(old: int, new: int, why: str) -> None:
            loop.call_soon_threadsafe(lambda: self._emit("batch_resized", worker=0, old=old,
                                                         new=new, reason=why))

        engine = await loop.run_in_executor(self._pool, self.engine_factory, resized)
        try:
            return await self._execute(engine, started)
        finally:
            await loop.run_in_executor(self._pool, engine.close)
            self._pool.shutdown(wait=True)
            self._io.shutdown(wait=True)

    async def _execute(self, engine: InferenceEngine, started: float) -> RunSummary:
        ledger = self.ledger
        run_id = ledger.unfinished_run(self.folder)
        resumed = run_id is not None
        if resumed:
            back = ledger.resume_run(run_id, engine.model_name, engine.provider)
            log.info("resuming run %d (%d files were in flight)", run_id, back)
        else:
            run_id = ledger.start_run(self.folder, engine.model_name, engine.provider,
                                      dict(self.settings.values))
        self._emit("run_started", run_id=run_id, folder=display_path(self.folder),
                   metrics_port=None, workers=1, provider=engine.provider, model=engine.model_name,
                   resumed=resumed, demonstration=bool(getattr(engine, "demonstration", False)))
        self._emit("worker", worker=0, pid=os.getpid(), state="ready", device=engine.provider,
                   batch_size=engine.batch_size)
        scan_task = asyncio.create_task(self._scan(run_id))
        try:
            await self._dispatch(run_id, engine, started)
        finally:
            if not scan_task.done():
                self.request_stop()
            excluded = await scan_task
        status = "interrupted" if self.stop_requested.is_set() else "completed"
        counts = ledger.counts(run_id)
        if counts[Status.PENDING] or counts[Status.LEASED]:
            status = "interrupted"
        ledger.finish_run(run_id, status, excluded)
        seconds = time.monotonic() - started
        summary = RunSummary(
            run_id=run_id, status=status, counts=counts, reasons=ledger.reasons(run_id),
            seconds=seconds, files_per_second=self.processed / seconds if seconds else 0.0,
            tokens_per_second=self.generated_tokens / seconds if seconds else 0.0,
            prompt_tokens=self.prompt_tokens, generated_tokens=self.generated_tokens,
            excluded=excluded, resumed=resumed, reused=self._reused, provider=engine.provider,
            model=engine.model_name, demonstration=bool(getattr(engine, "demonstration", False)))
        self._emit("worker", worker=0, pid=os.getpid(), state="stopped")
        self._emit("run_finished", run_id=run_id, status=status, counts=counts,
                   reasons=summary.reasons, seconds=round(seconds, 3),
                   files_per_second=round(summary.files_per_second, 3),
                   tokens_per_second=round(summary.tokens_per_second, 2))
        return summary

    async def _scan(self, run_id: int) -> int:
        s = self.settings
        scanner = AsyncFileScanner(self.folder, include=s.include, exclude=s.exclude,
                                   max_file_size=s.max_file_size, follow_symlinks=s.follow_symlinks)
        self._scanner = scanner
        # Files unchanged since the last completed run of this folder keep its results.
        previous = self.ledger.last_completed_run(self.folder, before=run_id)
        pending: list = []
        found = 0
        last_emit = 0.0
        try:
            async for task in scanner:
                pending.append(task)
                found += 1
                if len(pending) >= SCAN_FLUSH:
                    self._flush(run_id, pending, previous)
                    pending = []
                    if time.monotonic() - last_emit > 0.25:
                        last_emit = time.monotonic()
                        self._emit("scan_progress", files=found, bytes=scanner.stats.bytes,
                                   excluded=scanner.stats.excluded, done=False)
            if pending:
                self._flush(run_id, pending, previous)
        except Exception as exc:  # the scan must end in a clear event, never silently
            log.exception("scan failed")
            self._emit("error", message=f"scan failed: {exc}")
            self.request_stop()
        finally:
            self._scan_done.set()
            self._scanned.set()
        if not self.stop_requested.is_set():
            self.ledger.drop_stale_results(run_id)
        self._emit("scan_progress", files=found, bytes=scanner.stats.bytes,
                   excluded=scanner.stats.excluded, done=True)
        return scanner.stats.excluded

    def _flush(self, run_id: int, tasks: list, previous: int | None) -> None:
        self.ledger.add_discovered(run_id, tasks)
        if previous is not None:
            self._reused += self.ledger.reuse_unchanged(run_id, previous, [t.path for t in tasks])
        self._scanned.set()

    async def _dispatch(self, run_id: int, engine: InferenceEngine, started: float) -> None:
        loop = asyncio.get_running_loop()
        max_size = self.settings.max_file_size
        while not self.stop_requested.is_set():
            leases = self.ledger.lease(run_id, max(1, engine.batch_size) * 2)
            if not leases:
                if self._scan_done.is_set():
                    # the scan may have flushed its last rows after our lease
                    leases = self.ledger.lease(run_id, max(1, engine.batch_size) * 2)
                    if not leases:
                        return
                else:
                    self._scanned.clear()
                    waiter = asyncio.create_task(self._scanned.wait())
                    stopper = asyncio.create_task(self.stop_requested.wait())
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                    stopper.cancel()
                    continue
            reads = await loop.run_in_executor(
                self._io, lambda: [_read(lease.task, max_size) for lease in leases])
            outcomes: list[tuple[int, AnalysisResult]] = []
            docs, doc_ids = [], []
            for lease, read in zip(leases, reads):
                if isinstance(read, Skip):
                    outcomes.append((lease.file_id, AnalysisResult(
                        lease.task.path, Status.SKIPPED, reason=read.reason, message=read.detail)))
                else:
                    docs.append(read)
                    doc_ids.append(lease.file_id)
            self._emit("worker", worker=0, pid=os.getpid(), state="busy", batch_size=engine.batch_size)
            batch_started = time.perf_counter()
            results = await loop.run_in_executor(self._pool, engine.analyze, docs) if docs else []
            batch_seconds = time.perf_counter() - batch_started
            for file_id, result in zip(doc_ids, results):
                outcomes.append((file_id, result))
                self.prompt_tokens += result.prompt_tokens
                self.generated_tokens += result.generated_tokens
                if result.status == Status.FAILED:
                    self._emit("file_failed", path=display_path(result.path),
                               reason=result.reason.value if result.reason else None,
                               message=result.message[:300])
            self.ledger.record(outcomes)
            if docs:
                self.ledger.record_batch_metrics(
                    run_id, "batch", engine.batch_size, len(docs), batch_seconds,
                    sum(r.prompt_tokens for r in results), sum(r.generated_tokens for r in results))
            self.processed += len(outcomes)
            self._progress(run_id, started)
        self.ledger.release_all(run_id)  # stopping: nothing stays leased

    def _progress(self, run_id: int, started: float) -> None:
        counts = self.ledger.counts(run_id)
        elapsed = max(1e-9, time.monotonic() - started)
        info = dict(done=counts["done"], failed=counts["failed"], skipped=counts["skipped"],
                    pending=counts["pending"] + counts["leased"],
                    files_per_second=round(self.processed / elapsed, 3),
                    tokens_per_second=round(self.generated_tokens / elapsed, 2),
                    scanning=not self._scan_done.is_set())
        self._emit("progress", **info)
        if self.on_progress:
            self.on_progress(info)


def _read(task, max_size: int):
    try:
        return read_document(task, max_size)
    except Skip as skip:
        return skip
    except Exception as exc:  # a reader bug must not stop the run
        return Skip(Reason.READ_ERROR, f"{exc.__class__.__name__}: {exc}")
