"""The backend's event stream: one JSON object per line, versioned.

Defined once here and used by both sides: each event is one dataclass below with its
fields; the backend writes events with ``EventWriter`` (every event checked against its
definition), and the window (or any consumer) reads them with ``parse_event``. The wire
format is ``{"v": 1, "event": NAME, "ts": ..., **fields}``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar, TextIO

VERSION = 1


class EventError(ValueError):
    pass


@dataclass(slots=True)
class Event:
    """One event; ``name`` is its ``event`` on the wire, the fields follow in order."""

    name: ClassVar[str] = ""

    def fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(slots=True)
class RunStarted(Event):
    name: ClassVar[str] = "run_started"
    run_id: int
    folder: str
    metrics_port: int
    provider: str               # cuda, cpu or server
    model: str
    resumed: bool
    pid: int
    gpu: bool                   # NVML sees a GPU
    demonstration: bool
    workers: int
    intra_op_threads: int | None
    sizing: str                 # configured | rule | cached | calibrated | fallback | gpu memory
    sizing_why: str


@dataclass(slots=True)
class ScanProgress(Event):
    name: ClassVar[str] = "scan_progress"
    files: int
    bytes: int
    excluded: int
    done: bool


@dataclass(slots=True)
class Progress(Event):
    name: ClassVar[str] = "progress"
    done: int
    failed: int
    skipped: int
    pending: int
    files_per_second: float
    tokens_per_second: float
    scanning: bool


@dataclass(slots=True)
class WorkerChanged(Event):
    name: ClassVar[str] = "worker"
    worker: int
    pid: int
    state: str        # starting | loading_model | ready | busy | restarting | stopped
    device: str
    batch_size: int


@dataclass(slots=True)
class BatchResizedEvent(Event):
    name: ClassVar[str] = "batch_resized"
    worker: int
    old: int
    new: int
    reason: str


@dataclass(slots=True)
class FileFailed(Event):
    name: ClassVar[str] = "file_failed"
    path: str
    reason: str | None
    message: str


@dataclass(slots=True)
class RunFinished(Event):
    name: ClassVar[str] = "run_finished"
    run_id: int
    status: str                 # completed | interrupted
    counts: dict
    reasons: dict
    seconds: float
    files_per_second: float
    tokens_per_second: float
    restarts: int
    error: str | None


@dataclass(slots=True)
class ErrorEvent(Event):
    name: ClassVar[str] = "error"
    message: str


@dataclass(slots=True)
class EndpointChanged(Event):
    name: ClassVar[str] = "endpoint"
    worker: int
    endpoint: str
    up: bool
    in_flight: int
    latency_seconds: float
    requests: int
    outcomes: dict
    error: str


@dataclass(slots=True)
class Calibrating(Event):
    name: ClassVar[str] = "calibrating"
    model: str
    budget_s: float


@dataclass(slots=True)
class Telemetry(Event):
    """About once a second while a run goes, and once at its end: the window's one
    channel for live figures (the Prometheus exporter stays for external tools)."""

    name: ClassVar[str] = "telemetry"
    processed: float            # files the workers finished so far, every status (not the
                                # scan's skips nor prescreen.py's: no measure of speed)
    generated_tokens: float
    prompt_tokens: float
    queue_depth: float          # pending + leased
    gpus: dict                  # "0" -> {utilization_ratio, memory_used_bytes, memory_total_bytes}


EVENT_TYPES: dict[str, type[Event]] = {cls.name: cls for cls in (
    RunStarted, ScanProgress, Progress, WorkerChanged, BatchResizedEvent, FileFailed,
    RunFinished, ErrorEvent, EndpointChanged, Calibrating, Telemetry)}
EVENTS = tuple(EVENT_TYPES)


def make_event(name: str, **fields: Any) -> dict[str, Any]:
    """The wire form of event ``name``; its fields must be exactly its definition's."""
    cls = EVENT_TYPES.get(name)
    if cls is None:
        raise EventError(f"unknown event {name!r}")
    try:
        fields = cls(**fields).fields()
    except TypeError as exc:
        raise EventError(f"event {name!r} does not match its definition: {exc}") from None
    return {"v": VERSION, "event": name, "ts": round(time.time(), 3), **fields}


def parse_event(line: str | bytes) -> dict[str, Any]:
    """One event from one line; raises EventError for anything else."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise EventError(f"not an event line: {exc}") from None
    if not isinstance(data, dict) or data.get("v") != VERSION or data.get("event") not in EVENTS:
        raise EventError(f"not a v{VERSION} Helios event: {str(line)[:120]}")
    return data


class EventWriter:
    """Writes events as JSON lines; ``file_failed`` is rate-limited, and
    ``progress`` is sent at most ``progress_hz`` times a second."""

    def __init__(self, stream: TextIO | None = None, *, progress_hz: float = 4.0,
                 failures_per_second: int = 20):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._min_gap = 1.0 / progress_hz
        self._last_progress = 0.0
        self._fail_window = 0.0
        self._fail_count = 0
        self._fail_limit = failures_per_second
        self.suppressed_failures = 0

    def emit(self, name: str | Event, **fields: Any) -> None:
        """Write one event: a typed ``Event``, or its name and fields."""
        if isinstance(name, Event):
            name, fields = name.name, name.fields()
        now = time.monotonic()
        if name == "progress" and not fields.pop("force", False):
            if now - self._last_progress < self._min_gap:
                return
            self._last_progress = now
        if name == "file_failed":
            if now - self._fail_window >= 1.0:
                self._fail_window, self._fail_count = now, 0
            self._fail_count += 1
            if self._fail_count > self._fail_limit:
                self.suppressed_failures += 1
                return
        line = json.dumps(make_event(name, **fields), ensure_ascii=False)
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader went away; the ledger still has everything
