"""The worker pool: worker processes started, heard from, restarted when they die, and stopped."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from ..engines.devices import gpu_count
from ..records import Status, display_path
from ..store.ledger import DiskFull
from .dispatch import MAX_ATTEMPTS
from .messages import (VERSION, BatchDone, BatchResized, EndpointReport, Heartbeat, Shutdown,
                       WorkerFailed, WorkerState)
from .worker import worker_main

log = logging.getLogger("helios.supervisor")


@dataclass
class WorkerHandle:
    """A worker process as the pool sees it (the policy keeps its own ``Slot``)."""

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


class WorkerPool:
    """The supervisor's part that owns worker processes: spawn (one pipe and one sentinel
    each), the typed messages they send, a death (files back to the policy, a restart) and
    the shutdown. Mixed into ``HeliosOrchestrator``, whose state it shares."""

    def _gpu_for(self, wid: int) -> int | None:
        if self.spec.provider != "cuda":
            return None
        return wid % max(1, gpu_count())

    def _spawn(self, wid: int) -> WorkerHandle:
        parent, child = self.ctx.Pipe(duplex=True)
        spec = dataclasses.replace(self.spec, gpu=self._gpu_for(wid))
        process = self.ctx.Process(target=worker_main, args=(wid, child, spec),
                                   name=f"helios-worker-{wid}", daemon=True)
        process.start()
        child.close()
        worker = WorkerHandle(wid, process, parent, pid=process.pid)
        self.workers[wid] = worker
        self.policy.add_worker(wid)
        loop = asyncio.get_running_loop()
        loop.add_reader(parent.fileno(), self._on_readable, worker)
        loop.add_reader(process.sentinel, self._on_exit, worker)
        log.info("worker %d started", wid, extra={"worker": wid, "pid": process.pid})
        self._set_state(worker, "starting")
        return worker

    def _set_state(self, worker: WorkerHandle, state: str) -> None:
        worker.state = state
        self.metrics.set_worker_state(worker.wid, state)
        self._emit("worker", worker=worker.wid, pid=worker.pid, state=state, device=worker.device,
                   batch_size=worker.batch_size)

    def _on_readable(self, worker: WorkerHandle) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        except DiskFull as exc:  # the results stay leased; the next run analyzes them again
            self._fail(str(exc))

    def _handle(self, worker: WorkerHandle, message) -> None:
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

    def _batch_done(self, worker: WorkerHandle, message: BatchDone) -> None:
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

    def _on_exit(self, worker: WorkerHandle) -> None:
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
