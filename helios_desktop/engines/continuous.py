"""Continuous batching through og.Engine: one request per file, fed as slots free up.

Each file is its own request with its own guidance state, so one file finishing (or
failing) never touches another. Up to ``batch_size`` requests are in flight; when one
finishes the next file is submitted at once, so a slow file never holds the others in
waves. Engine errors are handled per request:

- ``REQUEST_UNSERVICEABLE`` (and any other request-level failure): that file fails as
  ``engine_error``, the others go on;
- a ``RETRYABLE`` event or ``RETRYABLE_EXECUTION``: the file is submitted again (at most
  ``RETRIES`` times);
- ``EXECUTION_CAPACITY_EXCEEDED``, ``CAPACITY_DEFERRED`` or an out-of-memory message:
  the number in flight is halved (the same halving as the static path) and the file is
  submitted again; at one in flight it fails as ``oom``;
- ``ENGINE_EXECUTION_FAILURE`` / ``ENGINE_CONTRACT_FAILURE``, a failure event that
  carries no request of ours, an exception from ``run``, or ``STALL_SECONDS`` without an
  event for a request in flight: the engine is unhealthy; it is rebuilt once and the
  files in flight are submitted again. A second failure in the same call raises
  ``EngineUnhealthy``, which ends the worker (the supervisor replaces it): a run never
  goes on failing every file on a dead engine.

Never more requests are in flight than the engine's ``configured_max_batch_size``: fed
more (1,024 against 256), og.Engine 0.18 spun without progress on an H100.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..records import Reason
from .base import EngineError, Generation, is_oom

log = logging.getLogger("helios.engine")

RETRIES = 2
STALL_SECONDS = 300  # requests in flight but no event for any of them: the engine is stuck


class EngineUnhealthy(EngineError):
    """og.Engine failed again after a rebuild; the worker must exit and be replaced."""


@dataclass
class Failure:
    """A file the engine could not analyze, and why."""

    reason: Reason
    message: str


@dataclass
class _Live:
    index: int
    ids: np.ndarray
    kind: str
    request: object = None
    options: object = None
    tokens: list[int] = field(default_factory=list)
    tries: int = 0
    seconds: float = 0.0  # engine time while in flight (each step shared by its requests)


class ContinuousScheduler:
    """Drives one og.Engine for an ``ONNXInferenceEngine`` (``owner``)."""

    # Seconds inside og.Engine's run() (native work) and in this loop around it
    # (submitting, decoding, bookkeeping): where a step's time goes (bench gpu --diagnose).
    run_seconds = 0.0
    loop_seconds = 0.0

    def __init__(self, owner):
        self.owner = owner
        self.og = owner._og
        self.engine = None
        self.cap = 0
        self.rebuild()

    def rebuild(self) -> None:
        """A fresh og.Engine (the old one's KV cache is freed first)."""
        self.engine = None
        self.engine = self.og.Engine(self.owner.model)
        self.cap = int(self.engine.get_capabilities().configured_max_batch_size or 0)

    def close(self) -> None:
        self.engine = None

    # -- one request ------------------------------------------------------------------------

    def _submit(self, item: _Live) -> None:
        og, owner = self.og, self.owner
        request = self.engine.create_request()
        options = og.TurnOptions(request)
        options.set_do_sample(False)  # greedy: builders copy do_sample from the checkpoint
        grammar_type, grammar = owner.request_guidance(item.kind)
        options.set_guidance(grammar_type, grammar)
        options.set_max_generated_tokens(owner.max_output_tokens)
        item.request, item.options, item.tokens = request, options, []
        request.begin_turn(item.ids, options)

    def _drop(self, item: _Live) -> None:
        try:
            item.request.close()
        except Exception:  # a request of a failed engine may not close cleanly
            pass
        item.request = item.options = None

    # -- the loop ---------------------------------------------------------------------------

    def run(self, items: list[tuple[int, np.ndarray, str]]) -> dict[int, Generation | Failure]:
        """Generate for every ``(index, token ids, kind)``; one outcome per index."""
        out: dict[int, Generation | Failure] = {}
        queue = deque(items)

        def pull(room: int, idle: bool) -> list | None:
            if not queue:
                return None
            return [queue.popleft() for _ in range(min(room, len(queue)))]

        self.stream(pull, out.__setitem__)
        return out

    def stream(self, pull: Callable[[int, bool], list | None],
               deliver: Callable[[object, Generation | Failure], None]) -> None:
        """``_stream``, with the time outside og.Engine's run() counted."""
        entered, run_before = time.perf_counter(), self.run_seconds
        try:
            self._stream(pull, deliver)
        finally:
            wall = time.perf_counter() - entered
            self.loop_seconds += wall - (self.run_seconds - run_before)

    def _stream(self, pull: Callable[[int, bool], list | None],
                deliver: Callable[[object, Generation | Failure], None]) -> None:
        """Generate for items pulled as slots free, delivering each outcome as it ends.

        ``pull(room, idle)`` returns up to ``room`` new ``(key, token ids, kind)`` items,
        ``[]`` for none yet, or None when no more will come; ``idle`` is True when nothing
        is in flight (the caller may then wait for work). It is asked whenever a slot is
        free, so files of the next batch start while the last ones of this batch finish:
        the engine never drains between batches. ``deliver(key, outcome)`` gets one
        outcome per key; its ``seconds`` is the engine time this request was in flight,
        each step's time shared among the requests it ran."""
        og, owner = self.og, self.owner
        flags_of = og.EngineEventFlags
        codes = og.EngineErrorCode
        pending: deque[_Live] = deque()
        live: dict[int, _Live] = {}
        rebuilt = False
        ended = False
        buffer = self.engine.create_event_buffer(max(64, 4 * owner.max_batch_size))
        progress = time.monotonic()

        def requeue(item: _Live, why: str) -> None:
            self._drop(item)
            live.pop(id(item), None)
            item.tries += 1
            if item.tries > RETRIES:
                deliver(item.index, Failure(Reason.ENGINE_ERROR,
                                            f"{why} (after {RETRIES} retries)"))
            else:
                pending.appendleft(item)

        def out_of_memory(item: _Live, why: str) -> None:
            if owner.batch_size <= 1:
                self._drop(item)
                live.pop(id(item), None)
                deliver(item.index, Failure(Reason.OOM, f"out of memory with one request: {why}"))
                return
            owner._resize(max(1, owner.batch_size // 2), f"out of memory: {why}")
            self._drop(item)
            live.pop(id(item), None)
            pending.appendleft(item)

        while True:
            limit = min(owner.batch_size, self.cap) if self.cap else owner.batch_size
            if not ended and len(pending) + len(live) < limit:
                more = pull(limit - len(pending) - len(live), not pending and not live)
                if more is None:
                    ended = True
                else:
                    pending.extend(_Live(key, ids, kind) for key, ids, kind in more)
            if not pending and not live:
                if ended:
                    return
                continue
            unhealthy = None
            while pending and len(live) < limit:
                item = pending.popleft()
                try:
                    self._submit(item)
                except Exception as exc:
                    self._drop(item)
                    if "no longer healthy" in str(exc):  # the engine says so when refusing
                        pending.appendleft(item)
                        unhealthy = str(exc)
                        break
                    deliver(item.index, Failure(Reason.OOM if is_oom(exc) else Reason.ENGINE_ERROR,
                                                f"request refused: {exc}"[:500]))
                    continue
                live[id(item)] = item
            if not live and unhealthy is None:
                continue
            step = time.perf_counter()
            try:
                events = self.engine.run(buffer) if unhealthy is None else []
            except Exception as exc:
                if is_oom(exc) and len(live) > 1:
                    owner._resize(max(1, len(live) // 2), f"out of memory: {exc}")
                    buffer = self._start_over(live, pending, owner)
                    progress = time.monotonic()
                    continue
                events, unhealthy = [], str(exc)
            spent = time.perf_counter() - step
            self.run_seconds += spent
            share = spent / max(1, len(live))
            for item in live.values():
                item.seconds += share
            by_request = {id(item.request): item for item in live.values()}
            for event in events:
                item = by_request.get(id(event.request))
                if item is None:
                    item = next((x for x in live.values() if x.request == event.request), None)
                flags = int(event.flags)
                if item is None:
                    if flags & int(flags_of.FAILED):  # the engine itself, not one request
                        unhealthy = f"og.Engine step failed: {_name(event.error_code)}"
                    continue
                progress = time.monotonic()
                if flags & int(flags_of.TOKEN) and event.token is not None:
                    item.tokens.append(int(event.token))
                if flags & int(flags_of.FAILED):
                    code = event.error_code
                    why = f"og.Engine request failed: {_name(code)}"
                    if code in (codes.EXECUTION_CAPACITY_EXCEEDED, codes.CAPACITY_DEFERRED):
                        out_of_memory(item, why)
                    elif flags & int(flags_of.RETRYABLE) or code == codes.RETRYABLE_EXECUTION:
                        requeue(item, why)
                    elif code in (codes.ENGINE_EXECUTION_FAILURE, codes.ENGINE_CONTRACT_FAILURE):
                        unhealthy = why
                    else:  # REQUEST_UNSERVICEABLE and anything else: this file only
                        self._drop(item)
                        live.pop(id(item), None)
                        deliver(item.index, Failure(Reason.ENGINE_ERROR, why))
                    continue
                if flags & int(flags_of.TURN_FINISHED):
                    text = owner.decode(item.tokens)
                    complete = event.finish_reason == og.FinishReason.EOS
                    deliver(item.index, Generation(text, len(item.ids), len(item.tokens),
                                                   complete, seconds=item.seconds))
                    self._drop(item)
                    live.pop(id(item), None)
            if unhealthy is None and live and time.monotonic() - progress > STALL_SECONDS:
                unhealthy = f"no event for {STALL_SECONDS} s with {len(live)} requests in flight"
            if unhealthy is not None:
                if rebuilt:
                    for item in live.values():
                        self._drop(item)
                    hint = (" (on the CPU, og.Engine needs a model built without prune_lm_head)"
                            if owner.provider == "cpu" else "")
                    raise EngineUnhealthy(f"og.Engine failed again after a rebuild: "
                                          f"{unhealthy}{hint}"[:1000])
                log.warning("og.Engine unhealthy (%s): rebuilding it; %d requests go again",
                            unhealthy, len(live))
                rebuilt = True
                buffer = self._start_over(live, pending, owner)
                progress = time.monotonic()

    def _start_over(self, live: dict, pending, owner):
        """Put every request in flight back at the head of the queue, rebuild the engine,
        and return a fresh event buffer for it."""
        for item in list(live.values()):
            self._drop(item)
            pending.appendleft(item)
        live.clear()
        self.rebuild()
        return self.engine.create_event_buffer(max(64, 4 * owner.max_batch_size))


def _name(code) -> str:
    return getattr(code, "name", str(code))
