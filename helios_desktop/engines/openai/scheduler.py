"""Which endpoint gets which file, the circuit breaker and retries: pure decisions, no I/O.

The engine asks ``EndpointScheduler`` what to send where (``assign``), tells it how each
request ended (``succeeded``/``failed``) and whether the run must stop (``check_*``). Time
comes in as ``now`` and jitter from an injected function, so the tests drive it with a
fake clock, as ``DispatchPolicy``'s do.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ...config import endpoint_label
from ...records import AnalysisResult, Document, Reason, Status
from ..base import EngineUnavailable
from ..spec import EndpointsSpec
from .errors import CHARGED, CONTEXT_SIZE, PROMPT_SIZE, Failure, first_int

log = logging.getLogger("helios.endpoints")

MAX_REFUSALS = 3          # 401/403/404 in a row, after answers, that take an endpoint out
MIN_INPUT_TOKENS = 16     # a file cut shorter than this for a server's context fails instead
MAX_SHRINKS = 6           # context-length answers per file before it fails
BACKOFF_BASE = 0.25       # seconds, doubled per consecutive failure of an endpoint
BACKOFF_CAP = 15.0

Jitter = Callable[[float, float], float]


class EndpointsDown(EngineUnavailable):
    """Every endpoint has been failing for ``endpoint_down_timeout`` seconds."""


class EndpointsMisconfigured(EndpointsDown):
    """No endpoint is usable because of the configuration (API key, model name, URL): not
    transient, so the run stops at once instead of waiting ``endpoint_down_timeout``."""

    def __init__(self, message: str, results: dict | None = None):
        super().__init__(message, results or {})


class Endpoint:
    """One server as the scheduler sees it: load, breaker, dialect, and stats to report."""

    def __init__(self, url: str, capacity: int):
        self.url = url
        self.label = endpoint_label(url)
        self.capacity = capacity
        self.in_flight = 0
        self.failures = 0          # consecutive
        self.open_until = 0.0      # breaker open until this monotonic time
        self.dialect = "json_schema"
        self.confirmed = False     # a request in this dialect succeeded
        self.misconfigured = ""    # why the endpoint is out of rotation for the whole run
        self.refusals = 0          # consecutive 401/403/404 after it answered with these settings
        self.counter: str | None = None   # how it counts tokens: "path field", "" for none,
        #                                   None not known yet
        self.counter_lock = None   # an asyncio.Lock, made in the engine's loop
        self.last_error = ""
        self.latency_ewma = 0.0
        self.outcomes: Counter[str] = Counter()
        self.latencies: list[float] = []

    @property
    def up(self) -> bool:
        return self.failures == 0 and not self.misconfigured

    def available(self, now: float) -> bool:
        if self.misconfigured:
            return False
        if self.failures == 0:
            return self.in_flight < self.capacity
        return now >= self.open_until and self.in_flight == 0  # half open: one probe

    def failed(self, now: float, error: str, retry_after: float | None,
               jitter: Jitter = random.uniform) -> None:
        self.last_error = error
        if self.failures and now < self.open_until:
            return  # requests sent before the breaker opened: one failure, not several
        self.failures += 1
        if retry_after is not None:  # the server said when: no sooner, no later
            backoff = min(retry_after, 4 * BACKOFF_CAP)
        else:
            backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (self.failures - 1))
            backoff *= jitter(0.5, 1.0)
        self.open_until = now + backoff

    def succeeded(self, seconds: float) -> None:
        self.failures = 0
        self.open_until = 0.0
        self.latency_ewma = seconds if not self.latency_ewma else 0.8 * self.latency_ewma + 0.2 * seconds

    def report(self) -> dict:
        out = {"endpoint": self.label, "up": self.up, "in_flight": self.in_flight,
               "latency_seconds": round(self.latency_ewma, 4),
               "outcomes": dict(self.outcomes), "latencies": self.latencies,
               "misconfigured": bool(self.misconfigured),
               "error": "" if self.up else (self.misconfigured or self.last_error)[:300]}
        self.outcomes = Counter()
        self.latencies = []
        return out


@dataclass
class Job:
    index: int
    doc: Document
    attempts: int = 0
    not_before: float = 0.0
    last_error: str = ""
    cap: int = 0          # max tokens of the file's text; lowered by context-length answers
    sent_tokens: int | None = None   # tokens of the text last sent, when a server counted them
    shrinks: int = 0


@dataclass
class BatchState:
    """One ``analyze`` call: the files waiting, the results so far, since when all are down."""

    size: int
    queue: deque = field(default_factory=deque)
    results: dict[int, AnalysisResult] = field(default_factory=dict)
    down_since: float | None = None

    @property
    def finished(self) -> bool:
        return len(self.results) >= self.size


class EndpointScheduler:
    """The decisions of the HTTP engine, apart from sending anything."""

    def __init__(self, spec: EndpointsSpec, *, max_input_tokens: int, max_output_tokens: int,
                 jitter: Jitter = random.uniform):
        self.spec = spec
        self.max_input_tokens = max_input_tokens
        self.max_output_tokens = max_output_tokens
        self.jitter = jitter
        self.endpoints = [Endpoint(u, spec.max_concurrency) for u in spec.urls]

    def start(self, docs: list[Document]) -> BatchState:
        return BatchState(len(docs), deque(Job(i, d, cap=self.max_input_tokens)
                                           for i, d in enumerate(docs)))

    # -- what to send where -----------------------------------------------------------------

    def assign(self, batch: BatchState, now: float) -> list[tuple[Endpoint, Job]]:
        """Ready jobs given to the least loaded endpoints that can take them (each counted
        in flight until ``release``)."""
        sent = []
        queue = batch.queue
        while queue:
            ready = [ep for ep in self.endpoints if ep.available(now)]
            if not ready:
                break
            job = next((j for j in queue if j.not_before <= now), None)
            if job is None:
                break
            queue.remove(job)
            ep = min(ready, key=lambda e: (e.in_flight / e.capacity, e.latency_ewma))
            ep.in_flight += 1
            sent.append((ep, job))
        return sent

    def release(self, ep: Endpoint) -> None:
        ep.in_flight -= 1

    def wake(self, batch: BatchState, now: float) -> float | None:
        """Seconds until something can change without an answer (a breaker half-opens, a
        retry is due, the down timeout ends); None: only an answer can change anything."""
        wake = [ep.open_until for ep in self.endpoints if ep.open_until > now]
        wake += [j.not_before for j in batch.queue if j.not_before > now]
        if batch.down_since is not None:
            wake.append(batch.down_since + self.spec.down_timeout)
        return max(0.01, min(wake) - now) if wake else None

    # -- when the run must stop -------------------------------------------------------------

    def check_misconfigured(self, batch: BatchState) -> None:
        if all(ep.misconfigured for ep in self.endpoints):
            raise EndpointsMisconfigured(self.misconfigured_message(), batch.results)

    def check_down(self, batch: BatchState, now: float, running: bool) -> None:
        if all(not ep.up for ep in self.endpoints):
            batch.down_since = batch.down_since if batch.down_since is not None else now
            if now - batch.down_since >= self.spec.down_timeout and not running:
                raise EndpointsDown(self.down_message(), batch.results)
        else:
            batch.down_since = None

    def misconfigured_message(self) -> str:
        return ("no model server can be used, each is misconfigured: "
                + "; ".join(ep.misconfigured for ep in self.endpoints)
                + ". Fix the setting and run the same analyze again: the files not analyzed "
                  "stay pending")

    def down_message(self) -> str:
        return ("every model server has failed for "
                f"{self.spec.down_timeout:g}s (endpoint_down_timeout): "
                + "; ".join(f"{ep.label}: {ep.last_error}" for ep in self.endpoints)
                + ". Files not analyzed stay pending: run the same analyze again to resume")

    def misconfigure(self, ep: Endpoint, why: str) -> None:
        """Take ``ep`` out of rotation for the run (its settings are wrong, not the file)."""
        if ep.misconfigured:
            return
        ep.misconfigured = why
        ep.last_error = why
        others = [e for e in self.endpoints if not e.misconfigured]
        log.error("%s taken out of rotation for this run: %s%s", ep.label, why,
                  "" if not others else f"; going on with {len(others)} other endpoint(s)",
                  extra={"endpoint": ep.label, "outcome": "misconfigured"})

    # -- how a request ended ----------------------------------------------------------------

    def succeeded(self, ep: Endpoint, seconds: float) -> None:
        ep.outcomes["ok"] += 1
        ep.latencies.append(seconds)
        ep.succeeded(seconds)
        ep.confirmed = True
        ep.refusals = 0

    def failed(self, batch: BatchState, ep: Endpoint, job: Job, exc: Failure, now: float) -> None:
        """Requeue ``job``, or settle it as failed, after ``exc`` from ``ep``; open the
        breaker or take the endpoint out as the outcome says."""
        queue, results = batch.queue, batch.results
        ep.outcomes[exc.outcome] += 1
        if exc.outcome == "dialect":
            if ep.dialect == "json_schema":
                log.info("%s refused response_format json_schema (%s); using json_object",
                         ep.label, exc)
                ep.dialect = "json_object"
            queue.appendleft(job)
            return
        if exc.outcome == "misconfigured":  # not the file's fault, nor a passing one
            if ep.confirmed and ep.refusals < MAX_REFUSALS:
                # It answered files with these very settings: a filter in front of the
                # server refusing this content, more likely than a wrong key. This file
                # fails (--retry-failed sends it again); refusals in a row mean the settings.
                ep.refusals += 1
                results[job.index] = AnalysisResult(
                    job.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                    message=(f"{ep.label} refused this file's request after answering others "
                             f"with the same settings: {exc}")[:500])
                return
            self.misconfigure(ep, str(exc))
            queue.appendleft(job)
            return
        if exc.outcome == "too_long":  # the server is fine: cut the text shorter, try again
            self._shrink(ep, job, exc, queue, results)
            return
        if exc.outcome == "client_error":
            results[job.index] = AnalysisResult(job.doc.path, Status.FAILED,
                                                reason=Reason.ENGINE_ERROR,
                                                message=f"{ep.label} refused the request: {exc}"[:500])
            return
        if ep.up:
            log.warning("%s taken out of rotation: %s", ep.label, exc,
                        extra={"endpoint": ep.label, "outcome": exc.outcome})
        ep.failed(now, str(exc), exc.retry_after, self.jitter)
        job.last_error = f"{ep.label}: {exc}"
        if exc.outcome in CHARGED:
            job.attempts += 1
            if job.attempts >= self.spec.max_attempts:
                results[job.index] = AnalysisResult(
                    job.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                    message=f"no answer after {job.attempts} attempts; last: {job.last_error}"[:500])
                return
            delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** job.attempts) * self.jitter(0.5, 1.0)
            job.not_before = now + delay
        queue.append(job)

    def _shrink(self, ep: Endpoint, job: Job, exc: Failure, queue: deque,
                results: dict) -> None:
        """The prompt was over the server's context: lower the file's token cap so that the
        prompt and max_output_tokens fit, and send it again."""
        sent = job.sent_tokens or min(job.cap, len(job.doc.text.encode("utf-8")))
        cap = sent // 2
        context = first_int(CONTEXT_SIZE, exc.raw)
        prompt = first_int(PROMPT_SIZE, exc.raw)
        if context and context <= self.max_output_tokens + MIN_INPUT_TOKENS:
            # No text can fit beside the answer: a setting, not this file. Every file
            # would fail the same way, so the endpoint leaves the rotation.
            self.misconfigure(ep, (f"{ep.label}: its context holds {context} tokens, not "
                                   f"enough for max_output_tokens ({self.max_output_tokens}) "
                                   "and a prompt: lower max_output_tokens or start the "
                                   "server with a larger context"))
            queue.appendleft(job)
            return
        if context and prompt:
            over = prompt - (context - self.max_output_tokens - 8)
            cap = min(int(sent * 0.9), sent - over)
        job.shrinks += 1
        if cap < MIN_INPUT_TOKENS or job.shrinks > MAX_SHRINKS:
            results[job.index] = AnalysisResult(
                job.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                message=(f"the prompt does not fit {ep.label}'s context even with the text cut "
                         f"to {sent} tokens; raise the server's context size or lower "
                         f"max_output_tokens ({exc})")[:500])
            return
        log.info("%s: the prompt for %s is over the server's context (%s); cutting the text "
                 "from %d to %d tokens", ep.label, job.doc.path, exc, sent, cap,
                 extra={"endpoint": ep.label, "outcome": "too_long"})
        job.cap = cap
        queue.appendleft(job)
