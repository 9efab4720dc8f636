"""The dispatch policy: which files go to which worker, and what a worker's death costs.

Pure step logic over the ledger, with no processes, pipes or event loop, so it is
tested in one process against a real SQLite ledger and a fake clock. The
supervisor (the process shell) calls it when something happens: a worker is
ready, a batch came back, a worker died, a heartbeat arrived, a tick passed.

Rules:
- A file is leased in the ledger before it is sent; a worker holds at most
  ``depth`` batches (one running, one waiting in its pipe).
- The engine owns the batch size: a worker asks for ``wants`` files per batch and
  is leased exactly that many at most.
- A file that was in flight when a worker died (a suspect) is leased alone, to a
  worker with nothing else in flight, and nothing more goes to that worker until
  it comes back: a poison file can only take itself down.
- A worker's death puts its leased files back to pending with one more attempt; a
  file that reaches ``max_attempts`` fails as ``worker_lost``. A stop the user asked
  for puts them back without an attempt.
- A worker is stuck when it sent no heartbeat for ``heartbeat_timeout`` seconds, or
  one batch has run for ``batch_timeout`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..records import AnalysisResult, Status
from ..store.ledger import Ledger
from .messages import Batch

DEPTH = 2
MAX_ATTEMPTS = 3


@dataclass
class Slot:
    """What the policy knows of one worker incarnation."""

    wid: int
    last_beat: float
    ready: bool = False
    accepting: bool = True
    wants: int = 1
    busy_since: float | None = None
    in_flight: dict[int, list[int]] = field(default_factory=dict)
    suspect_batch: int | None = None


class DispatchPolicy:
    def __init__(self, ledger: Ledger, run_id: int, *, heartbeat_timeout: float = 30.0,
                 batch_timeout: float = 900.0, depth: int = DEPTH,
                 max_attempts: int = MAX_ATTEMPTS, clock: Callable[[], float] = time.monotonic):
        self.ledger = ledger
        self.run_id = run_id
        self.heartbeat_timeout = heartbeat_timeout
        self.batch_timeout = batch_timeout
        self.depth = depth
        self.max_attempts = max_attempts
        self.clock = clock
        self.slots: dict[int, Slot] = {}
        self._batch_ids = 0

    # -- what workers say ------------------------------------------------------------------

    def add_worker(self, wid: int) -> Slot:
        """A new worker incarnation (first start or a replacement)."""
        slot = Slot(wid, last_beat=self.clock())
        self.slots[wid] = slot
        return slot

    def heard_from(self, wid: int, busy_since: float | None = None, *, beat: bool = False) -> None:
        slot = self.slots[wid]
        slot.last_beat = self.clock()
        if beat:
            slot.busy_since = busy_since

    def set_ready(self, wid: int, wants: int | None = None) -> bool:
        """The worker is ready for work; returns True the first time in this incarnation."""
        slot = self.slots[wid]
        slot.busy_since = None
        if wants:
            slot.wants = max(1, wants)
        first = not slot.ready
        slot.ready = True
        return first

    def set_busy(self, wid: int) -> None:
        self.slots[wid].busy_since = self.clock()

    def set_wants(self, wid: int, wants: int) -> None:
        """The engine asks for a different batch size (after an OOM, or growing back)."""
        self.slots[wid].wants = max(1, wants)

    def stop_sending(self, wid: int) -> None:
        self.slots[wid].accepting = False

    # -- leasing ---------------------------------------------------------------------------

    def fill(self, wid: int) -> list[Batch]:
        """Lease batches for ``wid`` until it holds ``depth`` (or nothing is pending)."""
        slot = self.slots[wid]
        if not slot.ready or not slot.accepting:
            return []
        batches = []
        while len(slot.in_flight) < self.depth and slot.suspect_batch is None:
            leases = self.ledger.lease(self.run_id, slot.wants, wid, suspects=not slot.in_flight)
            if not leases:
                break
            self._batch_ids += 1
            if leases[0].attempts:
                slot.suspect_batch = self._batch_ids
            batch = Batch(self._batch_ids, leases)
            slot.in_flight[batch.batch_id] = [task.file_id for task in leases]
            batches.append(batch)
        return batches

    def complete(self, wid: int, batch_id: int,
                 outcomes: Iterable[tuple[int, AnalysisResult]]) -> None:
        """A batch came back: its results go to the ledger in one transaction."""
        slot = self.slots.get(wid)
        if slot is not None:
            slot.in_flight.pop(batch_id, None)
            if slot.suspect_batch == batch_id:
                slot.suspect_batch = None
        self.ledger.record(outcomes)

    def worker_died(self, wid: int) -> list[bytes]:
        """Its leased files go back with one more attempt; returns those now ``worker_lost``."""
        slot = self.slots.get(wid)
        if slot is not None:
            slot.in_flight.clear()
            slot.suspect_batch = None
            slot.accepting = False
        return self.ledger.release_worker(self.run_id, wid, self.max_attempts)

    def worker_stopped(self, wid: int) -> None:
        """Ended because the user stopped the run (killed mid-batch at the stop deadline):
        its leased files go back without an attempt."""
        slot = self.slots.get(wid)
        if slot is not None:
            slot.in_flight.clear()
            slot.suspect_batch = None
            slot.accepting = False
        self.ledger.release_worker_files(self.run_id, wid)

    # -- questions the shell asks -----------------------------------------------------------

    def in_flight(self, wid: int | None = None) -> int:
        slots = self.slots.values() if wid is None else [self.slots[wid]]
        return sum(len(s.in_flight) for s in slots)

    def finished(self, scan_done: bool) -> bool:
        """Every file found has an outcome: nothing in flight, pending or leased."""
        if not scan_done or self.in_flight():
            return False
        counts = self.ledger.counts(self.run_id)
        return not counts[Status.PENDING] and not counts[Status.LEASED]

    def stuck(self, alive: Iterable[int]) -> list[tuple[int, str]]:
        """Workers (of those alive) to kill, each with why."""
        now = self.clock()
        out = []
        for wid in alive:
            slot = self.slots[wid]
            silent = now - slot.last_beat
            busy = now - slot.busy_since if slot.busy_since else 0.0
            if silent > self.heartbeat_timeout:
                out.append((wid, f"no heartbeat for {silent:.1f}s"))
            elif busy > self.batch_timeout:
                out.append((wid, f"one batch running for {busy:.0f}s"))
        return out
