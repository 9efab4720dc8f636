"""Worker processes: the step logic (``WorkerCore``) and its process shell (``worker_main``).

The core reads a batch of files and runs the engine on them; it knows nothing of
processes and is tested directly. The shell loads the engine once, takes batches
from its own pipe, sends results, states and a heartbeat back, and before it dies
of an error it says so (``WorkerFailed``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

from ..extract.read import read_file
from ..scan.reader import Skip
from ..engines.base import EngineUnavailable
from ..engines.registry import build_engine
from .feed import serve_stream
from .messages import (Batch, BatchDone, BatchResized, EndpointReport, EngineSpec, Heartbeat,
                       Shutdown, WorkerFailed, WorkerState)
from ..records import AnalysisResult, FileTask, Reason, Status

log = logging.getLogger("helios.worker")


class WorkerCore:
    """Read files and analyze them: one outcome per item, whatever happens."""

    def __init__(self, engine, max_file_size: int, test_hooks: dict | None = None,
                 root: bytes = b"", extract=None):
        self.engine = engine
        self.max_file_size = max_file_size
        self.extract = extract  # ExtractOptions (None: the defaults)
        self.hooks = test_hooks or {}
        self.root = root

    def read(self, items: list[FileTask]) -> tuple[dict[int, AnalysisResult], list, list[int]]:
        """Read a batch's files: (outcomes of the files that end here, documents to
        analyze, their file ids)."""
        outcomes: dict[int, AnalysisResult] = {}
        docs, doc_ids = [], []
        for task in items:
            try:
                # documents are extracted here, in the worker, under its bounds (extract/guard.py)
                doc = read_file(task, self.max_file_size, self.extract)
            except Skip as skip:
                outcomes[task.file_id] = AnalysisResult(task.path, Status.SKIPPED,
                                                        reason=skip.reason, message=skip.detail,
                                                        size=skip.size, mtime_ns=skip.mtime_ns)
                continue
            except Exception as exc:  # a reader bug must not stop the batch
                outcomes[task.file_id] = AnalysisResult(task.path, Status.SKIPPED,
                                                        reason=Reason.READ_ERROR,
                                                        message=f"{exc.__class__.__name__}: {exc}")
                continue
            self._test_hooks(doc.text)
            doc.root = self.root
            docs.append(doc)
            doc_ids.append(task.file_id)
        return outcomes, docs, doc_ids

    def process(self, items: list[FileTask]) -> list[tuple[int, AnalysisResult]]:
        outcomes, docs, doc_ids = self.read(items)
        if docs:
            try:
                results = self.engine.analyze(docs)
            except EngineUnavailable as exc:  # hand back what finished; the rest stays leased
                for i, result in exc.results.items():
                    result.size, result.mtime_ns = docs[i].size, docs[i].mtime_ns
                    result.metadata = docs[i].meta or None
                    outcomes[doc_ids[i]] = result
                exc.outcomes = [(task.file_id, outcomes[task.file_id]) for task in items
                                if task.file_id in outcomes]
                raise
            for file_id, doc, result in zip(doc_ids, docs, results):
                result.size, result.mtime_ns = doc.size, doc.mtime_ns
                result.metadata = doc.meta or None
                outcomes[file_id] = result
        return [(task.file_id, outcomes[task.file_id]) for task in items]

    def _test_hooks(self, text: str) -> None:
        """Fault injection for the supervisor's tests (HELIOS_TEST_HOOKS); off in real runs."""
        if self.hooks.get("exit_on") and self.hooks["exit_on"] in text:
            os._exit(3)
        if self.hooks.get("hang_on") and self.hooks["hang_on"] in text:
            os.kill(os.getpid(), signal.SIGSTOP)  # frozen: no heartbeat, no progress
        if self.hooks.get("hold_gil_on") and self.hooks["hold_gil_on"] in text:
            hold_gil(float(self.hooks.get("hold_gil_seconds", 5)))  # a long native call


def hold_gil(seconds: float) -> None:
    """Busy for ``seconds`` without letting another thread run, as onnxruntime-genai's
    native calls are (test hook: the heartbeat thread stays silent meanwhile)."""
    if seconds <= 0:
        return
    interval = sys.getswitchinterval()
    sys.setswitchinterval(seconds + 5)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
    finally:
        sys.setswitchinterval(interval)


def die_with_parent() -> None:
    """Ask the kernel to kill this process when the supervisor dies (Linux), so a killed
    backend leaves no worker computing for nobody; elsewhere the pipe's EOF ends it."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def pin_gpu(gpu: int | None) -> None:
    """Make ``gpu`` the only one this process sees. Set, not setdefault: a value inherited
    from the supervisor's environment would put every worker on one GPU."""
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)


class _Channel:
    """The worker's end of its pipe; sends from two threads are serialised."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.lock = threading.Lock()

    def send(self, message) -> bool:
        with self.lock:
            try:
                self.conn.send(message)
                return True
            except (BrokenPipeError, EOFError, OSError):
                return False


def worker_main(worker_id: int, conn: Connection, spec: EngineSpec,
                heartbeat_interval: float = 1.0) -> None:
    """Entry point of a worker process (spawn start method)."""
    # The supervisor coordinates shutdown; Ctrl-C in the terminal must not kill us mid-batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    pin_gpu(spec.gpu)
    channel = _Channel(conn)
    pid = os.getpid()
    channel.send(WorkerState(worker_id, pid, "starting"))

    # The heartbeat runs from before the model loads. onnxruntime-genai holds the GIL in
    # its native calls, so the thread is silent while one runs; the supervisor's watchdog
    # then reads this process's CPU time to tell "busy in one call" from "dead".
    busy_since: list[float | None] = [None]
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat_interval):
            if not channel.send(Heartbeat(worker_id, busy_since[0])):
                return

    threading.Thread(target=beat, name="helios-heartbeat", daemon=True).start()
    channel.send(WorkerState(worker_id, pid, "loading_model"))
    try:
        hold_gil(float((spec.test_hooks or {}).get("hold_gil_at_load", 0)))
        engine = build_engine(spec, lambda old, new, why: channel.send(
            BatchResized(worker_id, old, new, why)),
            lambda endpoints: channel.send(EndpointReport(worker_id, endpoints)))
    except Exception as exc:
        stop.set()
        # a model server's own words are clearer without the prefix (no model is loaded)
        why = str(exc) if spec.engine == "openai" else f"the model could not be loaded: {exc}"
        channel.send(WorkerFailed(worker_id, why, traceback.format_exc()))
        os._exit(2)
    core = WorkerCore(engine, spec.max_file_size, spec.test_hooks, os.fsencode(spec.root),
                      spec.extract)
    ready = WorkerState(worker_id, pid, "ready", device=engine.provider,
                        batch_size=engine.batch_size, model=engine.model_name,
                        demonstration=bool(getattr(engine, "demonstration", False)))
    channel.send(ready)

    # og.Engine takes the next batch's files as slots free (backend/feed.py); other
    # engines analyze one batch at a time.
    streaming = getattr(engine, "streams", False) and not (spec.test_hooks or {}).get("no_stream")
    try:
        if streaming:
            serve_stream(engine, core, conn, channel, worker_id, pid, busy_since)
        else:
            serve_batches(engine, core, conn, channel, worker_id, pid, busy_since)
    except Exception as exc:
        channel.send(WorkerFailed(worker_id, f"worker {worker_id} failed: {exc}",
                                  traceback.format_exc()))
        stop.set()
        os._exit(1)
    stop.set()
    channel.send(WorkerState(worker_id, pid, "stopped", device=engine.provider))
    engine.close()


def serve_batches(engine, core: WorkerCore, conn: Connection, channel: _Channel, worker_id: int,
                  pid: int, busy_since: list) -> None:
    """The worker's loop, one batch at a time: until Shutdown or the pipe's end."""
    unavailable = False
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break  # the supervisor is gone
        if isinstance(message, Shutdown):
            break
        if not isinstance(message, Batch):
            continue
        busy_since[0] = time.monotonic()
        channel.send(WorkerState(worker_id, pid, "busy", device=engine.provider,
                                 batch_size=engine.batch_size))
        started = time.perf_counter()
        if unavailable:  # the run is stopping: these files stay leased, then pending
            outcomes = []
        else:
            try:
                outcomes = core.process(message.items)
            except EngineUnavailable as exc:
                unavailable = True
                outcomes = exc.outcomes
                channel.send(WorkerFailed(worker_id, str(exc), stop_run=True))
        busy_since[0] = None
        channel.send(BatchDone(worker_id, message.batch_id, outcomes,
                               time.perf_counter() - started, engine.batch_size))
