"""The backend supervisor: the process shell around the dispatch policy.

``HeliosOrchestrator`` runs on one asyncio loop and owns what touches the outside:
worker processes and their pipes and sentinels, restarts, the scanner task, the
metrics exporter, events and signals. Which files go where, and what a worker's
death costs, is decided by ``DispatchPolicy`` (dispatch.py), which it calls as
things happen. ``run_backend`` drives one run the way the command line does:
signal handlers only ask for a stop; a second signal leaves at once.

The parts: ``run_life`` (start, resume, dispatch, finish), ``pool`` (worker processes),
``watchdog``, ``intake`` (the scan into the ledger), ``prescreen`` (binary files skipped
while the workers load) and ``telemetry``.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import time

from ..config import Settings
from ..scan.scanner import AsyncFileScanner
from ..store.ledger import Ledger
from .dispatch import DispatchPolicy
from .events import EventWriter
from .intake import ScanIntake
from .messages import EngineSpec
from .metrics import Metrics
from .pool import WorkerHandle, WorkerPool
from .prescreen import Prescreen
from .run_life import RunError, RunLife, RunSummary
from .sizing import Sizing
from .starts import StartPolicy
from .telemetry import Telemetry
from .watchdog import Watchdog

log = logging.getLogger("helios.supervisor")

EXIT_INTERRUPTED = 130

__all__ = ["HeliosOrchestrator", "RunError", "RunSummary", "run_backend"]


class HeliosOrchestrator(RunLife, WorkerPool, Watchdog, ScanIntake, Prescreen, Telemetry):
    """One run in this process: the shell that holds the run's state; each part (run_life,
    pool, watchdog, intake, prescreen, telemetry) holds the methods of one concern."""

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
        self.workers: dict[int, WorkerHandle] = {}
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
        self._gpus = None          # the GPU sampler while a run goes (telemetry reads it)
        self._queue_depth = 0      # pending + leased at the last count

    # -- helpers ---------------------------------------------------------------------------

    def _emit(self, name, **fields) -> None:
        """Send one event (an ``events.Event``, or its name and fields)."""
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
