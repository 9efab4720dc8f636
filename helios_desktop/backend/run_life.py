"""A run's life: started or resumed in the ledger, sized, dispatched until done, then finished."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from dataclasses import dataclass, field

from ..extract import READER_VERSION
from ..engines.devices import GpuSampler
from ..records import Status, display_path
from ..store.ledger import DiskFull
from .dispatch import DispatchPolicy
from .metrics import MetricsServer
from .sizing import Sizing, decide

log = logging.getLogger("helios.supervisor")


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


class RunLife:
    """Mixed into ``HeliosOrchestrator``: ``execute`` starts (or resumes) the run, starts
    the workers, the scan, the watchdog and the telemetry, dispatches until the policy says
    the run is done or a stop was asked for, and finishes the run with its summary."""

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
        self._gpus = gpus
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
        telemetry = asyncio.create_task(self._telemetry())
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
            telemetry.cancel()
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
        self._emit_telemetry()  # the totals as the run ends
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
