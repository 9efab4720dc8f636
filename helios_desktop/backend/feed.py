"""A worker's feed for a streaming engine: batches in, files out as slots free, batches back.

With og.Engine a worker need not wait for a batch's last, longest file before it starts
the next batch: the engine asks for more files whenever a request finishes, and the feed
hands it those of the next batch already in the pipe. Each batch still goes back whole,
as one ``BatchDone`` with its outcomes in the order it was sent, so the supervisor, the
dispatch policy and the ledger see exactly what they saw before.

``BatchFeed`` is the bookkeeping (no pipe, no engine; tested directly); ``serve_stream``
is the loop around it in the worker process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..records import AnalysisResult, Document
from .messages import Batch, BatchDone, Shutdown, WorkerState


@dataclass
class _Open:
    """A batch some of whose files are still being analyzed."""

    batch: Batch
    started: float
    outcomes: dict[int, AnalysisResult] = field(default_factory=dict)
    docs: dict[int, Document] = field(default_factory=dict)


class BatchFeed:
    """Batches received, files waiting for the engine, outcomes gathered per batch."""

    def __init__(self, read: Callable[[list], tuple[dict, list, list]],
                 done: Callable[[int, list[tuple[int, AnalysisResult]], float], None],
                 clock: Callable[[], float] = time.monotonic):
        """``read(items)``: a worker's read step ((outcomes that end here, documents,
        their file ids)); ``done(batch_id, outcomes, seconds)``: a whole batch is back."""
        self._read = read
        self._done = done
        self._clock = clock
        self._open: dict[int, _Open] = {}
        self._queue: deque[tuple[tuple[int, int], Document]] = deque()

    @property
    def queued(self) -> int:
        """Files read and waiting for the engine."""
        return len(self._queue)

    @property
    def open_batches(self) -> int:
        return len(self._open)

    def oldest(self) -> float | None:
        """When the oldest batch still open was received, on the monotonic clock the
        supervisor's watchdog reads (None when none is)."""
        return min((o.started for o in self._open.values()), default=None)

    def add(self, batch: Batch) -> None:
        """Read a batch's files; those that end at reading are kept, the rest queued."""
        opened = _Open(batch, self._clock())
        self._open[batch.batch_id] = opened
        outcomes, docs, ids = self._read(batch.items)
        opened.outcomes.update(outcomes)
        for file_id, doc in zip(ids, docs):
            opened.docs[file_id] = doc
            self._queue.append(((batch.batch_id, file_id), doc))
        self._close_if_whole(opened)

    def take(self, room: int) -> list[tuple[tuple[int, int], Document]]:
        """Up to ``room`` queued files, oldest batch first, keyed (batch id, file id)."""
        return [self._queue.popleft() for _ in range(min(room, len(self._queue)))]

    def deliver(self, key: tuple[int, int], result: AnalysisResult) -> None:
        """One file's outcome; its batch goes back when it is whole."""
        batch_id, file_id = key
        opened = self._open[batch_id]
        doc = opened.docs.pop(file_id)
        result.size, result.mtime_ns = doc.size, doc.mtime_ns
        result.metadata = doc.meta or None
        opened.outcomes[file_id] = result
        self._close_if_whole(opened)

    def _close_if_whole(self, opened: _Open) -> None:
        items = opened.batch.items
        if len(opened.outcomes) < len(items):
            return
        del self._open[opened.batch.batch_id]
        self._done(opened.batch.batch_id,
                   [(task.file_id, opened.outcomes[task.file_id]) for task in items],
                   self._clock() - opened.started)


def serve_stream(engine, core, conn, channel, worker_id: int, pid: int,
                 busy_since: list) -> None:
    """The worker's loop with a streaming engine: until Shutdown (or the pipe's end),
    with every batch received before it analyzed and sent back."""
    feed = BatchFeed(core.read, lambda batch_id, outcomes, seconds: channel.send(
        BatchDone(worker_id, batch_id, outcomes, seconds, engine.batch_size)))
    stopping = False

    def pull(room: int, idle: bool):
        nonlocal stopping
        while not stopping:
            # Nothing in flight and nothing queued: wait for the supervisor's next word;
            # otherwise only take what is already in the pipe (the engine is working).
            if not (idle and not feed.queued) and not conn.poll(0):
                break
            try:
                message = conn.recv()
            except (EOFError, OSError):
                stopping = True  # the supervisor is gone
                break
            if isinstance(message, Shutdown):
                stopping = True
            elif isinstance(message, Batch):
                channel.send(WorkerState(worker_id, pid, "busy", device=engine.provider,
                                         batch_size=engine.batch_size))
                feed.add(message)
        busy_since[0] = feed.oldest()
        if stopping and not feed.queued:
            return None
        return feed.take(room)

    engine.stream(pull, feed.deliver)
