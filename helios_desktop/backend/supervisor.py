"""The backend supervisor: the process shell around the dispatch policy.

``HeliosOrchestrator`` runs on one asyncio loop and owns what touches the outside:
worker processes and their pipes and sentinels, restarts, the scanner task, the
metrics exporter, events and signals. Which files go where, and what a worker's
death costs, is decided by ``DispatchPolicy`` (dispatch.py), which it calls as
things happen. ``run_backend`` drives one run the way the command line does:
signal handlers only ask for a stop; a second signal leaves at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from ..config import Settings
from .events import EventWriter
from ..engines.devices import GpuSampler, gpu_count
from ..extract import READER_VERSION
from ..store.ledger import DiskFull, Ledger
from .dispatch import MAX_ATTEMPTS, DispatchPolicy
from .messages import (VERSION, BatchDone, BatchResized, EndpointReport, EngineSpec, Heartbeat,
                       Shutdown, WorkerFailed, WorkerState)
from .metrics import Metrics, MetricsServer
from .sizing import Sizing, decide
from .starts import StartPolicy
from ..records import ScanChunk, Status, display_path
from ..scan.scanner import AsyncFileScanner
from .worker import worker_main

log = logging.getLogger("helios.supervisor")

EXIT_INTERRUPTED = 130


class RunError(RuntimeError):
    """The run cannot go on (no worker can load the model, say)."""


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
    workers: int = 1
    intra_op_threads: int | None = None
    sizing: str = ""          # how workers and threads were chosen, in one line
    restarts: int = 0
    restart_seconds: list[float] = field(default_factory=list)
    metrics_port: int | None = None


@dataclass
class _Worker:
    """A worker process as the shell sees it (the policy keeps its own ``Slot``)."""

    wid: int
    process: multiprocessing.process.BaseProcess
    conn: Connection
    state: str = "starting"
    pid: int = 0
    device: str = ""
    batch_size: int = 1
    ready_once: bool = False
    died_at: float | None = None
    failed: WorkerFailed | None = None
    expected_exit: bool = False


class HeliosOrchestrator:
    def __init__(self, settings: Settings, folder: str, ledger: Ledger, spec: EngineSpec,
                 events: EventWriter | None = None, on_progress=None, *,
                 stop_timeout: float = 30.0, fresh: bool = False, reuse_any_model: bool = False,
                 rescan: bool = True, sizing: Sizing | None = None):
        self.settings = settings
        # workers and intra-op threads (sizing.py); None: decided at the start of execute
        self.sizing = sizing
        # fresh: a new run that re-analyzes every file (an unfinished run is set aside).
        # reuse_any_model: keep earlier results even when the model or schema differ.
        self.fresh = fresh
        self.reuse_any_model = reuse_any_model
        # False: a resumed run's files are all in the ledger already (--retry-failed);
        # the folder is not scanned again, so only the reopened files are analyzed.
        self.rescan = rescan
        self.folder = os.fsencode(os.path.abspath(folder))
        self.ledger = ledger
        self.spec = spec
        self.events = events
        self.on_progress = on_progress
        self.stop_timeout = stop_timeout
        self.metrics = Metrics()
        self.workers: dict[int, _Worker] = {}
        self.policy: DispatchPolicy | None = None
        self.starts = StartPolicy()
        self.ctx = multiprocessing.get_context("spawn")
        self.stop_requested = False
        self.fatal: str | None = None
        self._wake: asyncio.Event | None = None
        self._scan_done = False
        self._scanner: AsyncFileScanner | None = None
        self._run_id = 0
        self.processed = 0
        self.prompt_tokens = 0
        self.generated_tokens = 0
        self.restarts = 0
        self.restart_seconds: list[float] = []
        self._reused = 0
        self._started = time.monotonic()
        self._model = ""
        self._demonstration = False
        self._finished = False
        self._endpoint_seen: dict[str, tuple] = {}
        self._cancel_sizing = None

    # -- helpers ---------------------------------------------------------------------------

    def _emit(self, name: str, **fields) -> None:
        if self.events:
            self.events.emit(name, **fields)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def request_stop(self) -> None:
        if not self.stop_requested:
            log.info("stop requested")
        self.stop_requested = True
        if self._cancel_sizing is not None:
            self._cancel_sizing.set()
        if self._scanner:
            self._scanner.cancel()
        self._poke()

    def _fail(self, reason: str) -> None:
        """The run cannot go on: say why once, and stop."""
        if self.fatal is None:
            self.fatal = reason
            log.error("%s", reason, extra={"told": True})  # the CLI prints it
            self._emit("error", message=reason)
        self.request_stop()

    def abort(self) -> None:
        """Leave now: kill the workers and exit 130 (a second Ctrl-C)."""
        for worker in self.workers.values():
            worker.process.kill()
        os._exit(EXIT_INTERRUPTED)

    def health(self) -> dict:
        alive = sum(1 for w in self.workers.values() if w.process.is_alive())
        status = "finished" if self._finished else "stopping" if self.stop_requested else "running"
        return {"status": status, "run_id": self._run_id,
                "workers_alive": alive, "processed": self.processed,
                "uptime_seconds": round(time.monotonic() - self._started, 1)}

    # -- workers -----------------------------------------------------------------------------

    def _gpu_for(self, wid: int) -> int | None:
        if self.spec.provider != "cuda":
            return None
        return wid % max(1, gpu_count())

    def _spawn(self, wid: int) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        spec = dataclasses.replace(self.spec, gpu=self._gpu_for(wid))
        process = self.ctx.Process(target=worker_main, args=(wid, child, spec),
                                   name=f"helios-worker-{wid}", daemon=True)
        process.start()
        child.close()
        worker = _Worker(wid, process, parent, pid=process.pid)
        self.workers[wid] = worker
        self.policy.add_worker(wid)
        loop = asyncio.get_running_loop()
        loop.add_reader(parent.fileno(), self._on_readable, worker)
        loop.add_reader(process.sentinel, self._on_exit, worker)
        log.info("worker %d started", wid, extra={"worker": wid, "pid": process.pid})
        self._set_state(worker, "starting")
        return worker

    def _set_state(self, worker: _Worker, state: str) -> None:
        worker.state = state
        self.metrics.set_worker_state(worker.wid, state)
        self._emit("worker", worker=worker.wid, pid=worker.pid, state=state, device=worker.device,
                   batch_size=worker.batch_size)

    def _on_readable(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        except DiskFull as exc:  # the results stay leased; the next run analyzes them again
            self._fail(str(exc))

    def _handle(self, worker: _Worker, message) -> None:
        if getattr(message, "v", None) != VERSION:
            log.error("worker %d sent %s of message version %s (this backend speaks %d): ignored",
                      worker.wid, type(message).__name__, getattr(message, "v", None), VERSION)
            return
        now = time.monotonic()
        policy = self.policy
        if isinstance(message, Heartbeat):
            # CLOCK_MONOTONIC is shared by the processes of one machine
            policy.heard_from(worker.wid, message.busy_since, beat=True)
            return
        policy.heard_from(worker.wid)
        if isinstance(message, WorkerState):
            worker.pid = message.pid
            if message.device:
                worker.device = message.device
            if message.batch_size:
                worker.batch_size = message.batch_size
                policy.set_wants(worker.wid, message.batch_size)
                self.metrics.batch_size.labels(str(worker.wid)).set(message.batch_size)
            if message.model:
                self._model = message.model
                self._demonstration = message.demonstration
            if message.state == "busy":
                policy.set_busy(worker.wid)
            if message.state == "ready":
                if policy.set_ready(worker.wid):
                    worker.ready_once = True
                    self.starts.ready()
                    if worker.died_at is not None:
                        latency = now - worker.died_at
                        self.restart_seconds.append(latency)
                        log.info("worker %d back after %.2fs", worker.wid, latency,
                                 extra={"worker": worker.wid, "restart_seconds": round(latency, 3)})
                    self._poke()
            if message.state != worker.state:
                self._set_state(worker, message.state)
            self.metrics.workers_alive.set(self._alive())
            return
        if isinstance(message, BatchDone):
            self._batch_done(worker, message)
            return
        if isinstance(message, BatchResized):
            worker.batch_size = message.new
            policy.set_wants(worker.wid, message.new)
            self.metrics.batch_size.labels(str(worker.wid)).set(message.new)
            log.info("worker %d batch size %d -> %d (%s)", worker.wid, message.old, message.new,
                     message.reason, extra={"worker": worker.wid})
            self._emit("batch_resized", worker=worker.wid, old=message.old, new=message.new,
                       reason=message.reason)
            return
        if isinstance(message, EndpointReport):
            self._endpoints_report(message)
            return
        if isinstance(message, WorkerFailed):
            worker.failed = message
            # before it was ready, this is why it failed to start: _on_exit says so once
            log.error("worker %d: %s", worker.wid, message.message,
                      extra={"worker": worker.wid, "traceback": message.traceback,
                             "told": not worker.ready_once})
            if message.stop_run and not self.fatal:  # every model server is down
                self.fatal = message.message
                self._emit("error", message=message.message)
                self.request_stop()

    def _endpoints_report(self, message: EndpointReport) -> None:
        self.metrics.endpoint_report(message.endpoints)
        for ep in message.endpoints:
            state = (ep["up"], ep["in_flight"] > 0)
            if self._endpoint_seen.get(ep["endpoint"]) != state or ep["outcomes"]:
                self._endpoint_seen[ep["endpoint"]] = state
                self._emit("endpoint", worker=message.worker, endpoint=ep["endpoint"],
                           up=ep["up"], in_flight=ep["in_flight"],
                           latency_seconds=ep["latency_seconds"],
                           requests=sum(ep["outcomes"].values()), outcomes=ep["outcomes"],
                           error=ep["error"])

    def _alive(self) -> int:
        return sum(1 for w in self.workers.values() if w.process.is_alive())

    def _batch_done(self, worker: _Worker, message: BatchDone) -> None:
        outcomes = message.outcomes
        self.policy.complete(worker.wid, message.batch_id, outcomes)
        done_files = 0
        prompt = generated = 0
        for _, result in outcomes:
            self.metrics.files_processed.labels(result.status.value).inc()
            prompt += result.prompt_tokens
            generated += result.generated_tokens
            if result.status != Status.SKIPPED:
                done_files += 1
                self.metrics.inference_duration.observe(result.inference_seconds)
            if result.status == Status.FAILED:
                self._emit("file_failed", path=display_path(result.path),
                           reason=result.reason.value if result.reason else None,
                           message=result.message[:300])
        self.metrics.tokens.labels("prompt").inc(prompt)
        self.metrics.tokens.labels("generated").inc(generated)
        self.prompt_tokens += prompt
        self.generated_tokens += generated
        self.processed += len(outcomes)
        if done_files:
            self.ledger.record_batch_metrics(self._run_id, "batch", message.batch_size, done_files,
                                             message.seconds, prompt, generated)
        self._poke()

    def _on_exit(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(worker.process.sentinel)
        self._on_readable(worker)  # results it sent before dying still count
        try:
            loop.remove_reader(worker.conn.fileno())
        except (ValueError, OSError):
            pass
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"code {code}"
        worker.conn.close()
        self.metrics.workers_alive.set(self._alive())
        if self.fatal:  # stopped because the run cannot go on: what it held stays for the next run
            log.info("worker %d exited (%s)", worker.wid, how, extra={"worker": worker.wid})
            self._set_state(worker, "stopped")
            self._poke()
            return
        in_flight = self.policy.in_flight(worker.wid)
        if worker.expected_exit and not in_flight:
            log.info("worker %d exited (%s)", worker.wid, how, extra={"worker": worker.wid})
            self._set_state(worker, "stopped")
            self._poke()
            return
        if worker.expected_exit and self.stop_requested:
            # the user's stop ended it mid-batch: a stop is not a crash, no attempt is charged
            log.info("worker %d stopped (%s) with %d batches in flight; their files stay pending",
                     worker.wid, how, in_flight, extra={"worker": worker.wid})
            self.policy.worker_stopped(worker.wid)
            self._set_state(worker, "stopped")
            self._poke()
            return
        log.warning("worker %d (pid %d) died (%s) with %d batches in flight", worker.wid, worker.pid,
                    how, in_flight, extra={"worker": worker.wid, "exit": how,
                                           "told": not worker.ready_once})
        try:
            lost = self.policy.worker_died(worker.wid)
        except DiskFull as exc:
            self._fail(str(exc))
            lost = []
        for path in lost:
            self.metrics.files_processed.labels("failed").inc()
            self._emit("file_failed", path=display_path(path), reason="worker_lost",
                       message=f"its worker died {MAX_ATTEMPTS} times while analyzing it")
        if not worker.ready_once and not self.stop_requested:
            why = worker.failed.message if worker.failed else f"worker exited ({how}) before it was ready"
            give_up = self.starts.start_failed(why, reported=worker.failed is not None)
            if give_up:
                self._fail(give_up)
                return
            log.warning("worker %d failed to start (%s): starting another", worker.wid, why,
                        extra={"worker": worker.wid})
        if self.stop_requested:
            self._set_state(worker, "stopped")
            self._poke()
            return
        self.restarts += 1
        self.metrics.worker_restarts.inc()
        died_at = time.monotonic()
        self._set_state(worker, "restarting")
        replacement = self._spawn(worker.wid)
        replacement.died_at = died_at
        self._poke()

    async def _watchdog(self) -> None:
        # onnxruntime-genai holds the GIL in its native calls (loading a model, a long
        # prefill: 107 s for 4,000 tokens measured, see PERFORMANCE.md), so a busy worker's
        # heartbeat thread can be silent for long. A worker whose process used CPU time or
        # read bytes since the last look is busy in one call, not dead: that counts as a
        # sign of life. A frozen or deadlocked one uses neither and is killed once silent
        # for worker_heartbeat_timeout; worker_batch_timeout still bounds one batch.
        seen: dict[int, tuple[int, float]] = {}
        while True:
            await asyncio.sleep(0.5)
            watched = [w.wid for w in self.workers.values()
                       if w.process.is_alive() and not w.expected_exit]
            for wid in watched:
                pid = self.workers[wid].process.pid
                work = _work_done(pid)
                before = seen.get(wid)
                seen[wid] = (pid, work)
                if before is not None and before[0] == pid and work > before[1]:
                    self.policy.heard_from(wid)
            for wid, why in self.policy.stuck(watched):
                log.warning("worker %d is stuck (%s): killing it", wid, why, extra={"worker": wid})
                self.workers[wid].process.kill()

    # -- the run -----------------------------------------------------------------------------

    async def execute(self) -> RunSummary:
        self._wake = asyncio.Event()
        self._started = time.monotonic()
        ledger = self.ledger
        run_id = ledger.unfinished_run(self.folder)
        if run_id is not None and self.fresh:
            ledger.finish_run(run_id, "superseded", 0)
            run_id = None
        resumed = run_id is not None
        model_name = self.spec.model_name
        if resumed:
            back = ledger.resume_run(run_id, model_name, self.spec.provider)
            log.info("resuming run %d (%d files were in flight)", run_id, back)
        else:
            run_id = ledger.start_run(self.folder, model_name, self.spec.provider,
                                      {**self.settings.values, "reader_version": READER_VERSION})
        self._run_id = run_id
        self.policy = DispatchPolicy(ledger, run_id,
                                     heartbeat_timeout=self.settings.worker_heartbeat_timeout,
                                     batch_timeout=self.settings.worker_batch_timeout)
        server = MetricsServer(self.metrics, self.health, self.settings.metrics_host,
                               self.settings.metrics_port, self.settings.metrics_allow_remote)
        self.metrics.info.info({"provider": self.spec.provider, "model": model_name})
        gpus = GpuSampler(self.metrics)
        gpus.start()
        sizing = await self._sizing()
        n_workers = sizing.workers
        self.metrics.workers_desired.set(n_workers)
        self._emit("run_started", run_id=run_id, folder=display_path(self.folder),
                   metrics_port=server.port, provider=self.spec.provider,
                   model=model_name, resumed=resumed, pid=os.getpid(),
                   gpu=bool(gpus.available), demonstration=self.spec.demonstration,
                   **sizing.event_fields())
        log.info("run %d started: %s on %s, metrics on %s:%d", run_id, sizing.describe(),
                 self.spec.provider, server.host, server.port)
        # A stop during the calibration ends the run here: no worker, no scan; the run
        # stays unfinished, so the next one resumes it.
        stopped_in_sizing = self.stop_requested
        if stopped_in_sizing:
            log.info("run %d stopped before its workers started", run_id)
        for wid in range(0 if stopped_in_sizing else n_workers):
            self._spawn(wid)
        scan = asyncio.create_task(self._no_work(run_id) if stopped_in_sizing
                                   else self._scan(run_id) if self.rescan or not resumed
                                   else self._no_scan(run_id))
        watchdog = asyncio.create_task(self._watchdog())
        ticker = asyncio.create_task(self._ticker(run_id))
        try:
            await self._dispatch(run_id)
        except DiskFull as exc:
            self._fail(str(exc))
        finally:
            if not scan.done():
                self.request_stop()
            excluded = await scan
            await self._shutdown_workers()
            watchdog.cancel()
            ticker.cancel()
            gpus.stop()
            try:
                ledger.release_all(run_id)
            except DiskFull as exc:  # resuming puts leased files back
                self._fail(str(exc))
        counts = ledger.counts(run_id)
        finished = self._scan_done and not self.fatal and not counts[Status.PENDING]
        status = "completed" if finished else "interrupted"
        try:
            ledger.finish_run(run_id, status, excluded)
        except DiskFull as exc:
            self._fail(str(exc))
        self._progress(run_id, force=True)
        seconds = time.monotonic() - self._started
        summary = RunSummary(
            run_id=run_id, status=status, counts=counts, reasons=ledger.reasons(run_id),
            seconds=seconds, files_per_second=self.processed / seconds if seconds else 0.0,
            tokens_per_second=self.generated_tokens / seconds if seconds else 0.0,
            prompt_tokens=self.prompt_tokens, generated_tokens=self.generated_tokens,
            excluded=excluded, resumed=resumed, reused=self._reused, provider=self.spec.provider,
            model=self._model or model_name, demonstration=self._demonstration,
            workers=n_workers, intra_op_threads=sizing.intra_op_threads,
            sizing=sizing.describe(), restarts=self.restarts, restart_seconds=self.restart_seconds,
            metrics_port=server.port)
        self._emit("run_finished", run_id=run_id, status=status, counts=counts,
                   reasons=summary.reasons, seconds=round(seconds, 3),
                   files_per_second=round(summary.files_per_second, 3),
                   tokens_per_second=round(summary.tokens_per_second, 2),
                   restarts=self.restarts, error=self.fatal)
        log.info("run %d %s: %s", run_id, status, counts)
        self._finished = True
        await asyncio.get_running_loop().run_in_executor(None, server.linger, 2.0)
        server.close()
        if self.fatal:
            raise RunError(self.fatal)
        return summary

    async def _sizing(self) -> Sizing:
        """Workers and threads (sizing.py); a calibration runs off the loop, and a stop
        asked for meanwhile ends it (the old rule is used, and the run stops at once)."""
        if self.sizing is None:
            import threading

            from .sizing import BUDGET_S, will_calibrate

            if will_calibrate(self.settings, self.spec):
                # Once per machine and model, up to a minute: say so before it starts.
                self._emit("calibrating", model=self.spec.model.name, budget_s=BUDGET_S)
            cancel = threading.Event()
            self._cancel_sizing = cancel
            if self.stop_requested:  # asked for before there was an Event to set
                cancel.set()
            loop = asyncio.get_running_loop()
            self.sizing = await loop.run_in_executor(
                None, lambda: decide(self.settings, self.spec, cancel=cancel))
        self.spec = dataclasses.replace(self.spec, intra_op_threads=self.sizing.intra_op_threads)
        return self.sizing

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

    async def _dispatch(self, run_id: int) -> None:
        policy = self.policy
        while not self.stop_requested:
            self._wake.clear()
            for worker in self.workers.values():
                if not worker.process.is_alive() or worker.expected_exit:
                    continue
                for batch in policy.fill(worker.wid):
                    try:
                        worker.conn.send(batch)
                    except (BrokenPipeError, OSError):
                        break  # it is dying; its sentinel will put the files back
            if policy.finished(self._scan_done):
                return
            await self._wake.wait()
        if self.fatal:
            return  # their results could not be stored: stop the workers now
        # stopping: give the batches in flight a chance to finish
        deadline = time.monotonic() + self.stop_timeout
        while any(policy.in_flight(w.wid) and w.process.is_alive() for w in self.workers.values()):
            if time.monotonic() > deadline:
                log.warning("batches still running after %.0fs: stopping workers", self.stop_timeout)
                break
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass

    async def _shutdown_workers(self) -> None:
        for worker in self.workers.values():
            worker.expected_exit = True
            self.policy.stop_sending(worker.wid)
            if worker.process.is_alive() and self.fatal:
                worker.process.kill()  # a worker holds nothing that a later run needs
            elif worker.process.is_alive():
                try:
                    worker.conn.send(Shutdown())
                except (BrokenPipeError, OSError):
                    pass
        deadline = time.monotonic() + 10
        while any(w.process.is_alive() for w in self.workers.values()):
            if time.monotonic() > deadline:
                for w in self.workers.values():
                    if w.process.is_alive():
                        log.warning("worker %d did not stop: killing it", w.wid)
                        w.process.kill()
                deadline = time.monotonic() + 5
            await asyncio.sleep(0.05)
        await asyncio.sleep(0)  # let the exit callbacks run

    async def _ticker(self, run_id: int) -> None:
        # Counting a run's rows costs ~65 ms at 1,000,000 files: space the counts so
        # they never take more than about 5% of the supervisor's time.
        while True:
            started = time.perf_counter()
            self._progress(run_id)
            await asyncio.sleep(max(0.25, 20 * (time.perf_counter() - started)))

    def _progress(self, run_id: int, force: bool = False) -> None:
        counts = self.ledger.counts(run_id)
        pending = counts["pending"] + counts["leased"]
        self.metrics.queue_depth.set(pending)
        elapsed = max(1e-9, time.monotonic() - self._started)
        info = dict(done=counts["done"], failed=counts["failed"], skipped=counts["skipped"],
                    pending=pending, files_per_second=round(self.processed / elapsed, 3),
                    tokens_per_second=round(self.generated_tokens / elapsed, 2),
                    scanning=not self._scan_done and not self.stop_requested)
        if force:
            info["force"] = True
        self._emit("progress", **info)
        info.pop("force", None)
        if self.on_progress:
            self.on_progress(info)



def _work_done(pid: int) -> float:
    """CPU seconds plus megabytes read by process ``pid`` so far (0 when it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            cpu = proc.cpu_times()
            try:
                read = proc.io_counters().read_chars / 1e6
            except (AttributeError, psutil.AccessDenied):
                read = 0.0
        return cpu.user + cpu.system + read
    except psutil.Error:
        return 0.0


def run_backend(run: HeliosOrchestrator, *, stop_on_stdin: bool = False) -> RunSummary:
    """Run ``run`` to its end in this process, the way ``helios analyze`` does.

    SIGINT and SIGTERM ask for a clean stop (the batches in flight finish, nothing
    stays leased); a second signal kills the workers and leaves at once with 130, the
    ledger staying consistent (WAL) for the next run to resume. With ``stop_on_stdin``
    a line ``stop`` on standard input asks for a clean stop too (the window's way).
    """
    async def main() -> RunSummary:
        loop = asyncio.get_running_loop()
        signals = 0

        def on_signal() -> None:
            nonlocal signals
            signals += 1
            if signals > 1:
                run.abort()
            run.request_stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        if stop_on_stdin:
            _watch_stdin(loop, run.request_stop)
        return await run.execute()

    return asyncio.run(main())


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop) -> None:
    import sys
    import threading

    def read() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                loop.call_soon_threadsafe(stop)
                return

    threading.Thread(target=read, name="helios-stdin", daemon=True).start()
