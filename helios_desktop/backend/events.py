"""The backend's event stream: one JSON object per line, versioned.

Defined once here and used by both sides: the backend writes events with
``EventWriter``; the window (or any consumer) reads them with ``parse_event``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

VERSION = 1
EVENTS = ("run_started", "scan_progress", "progress", "worker", "batch_resized",
          "file_failed", "run_finished", "error", "endpoint", "calibrating", "telemetry")


class EventError(ValueError):
    pass


def make_event(name: str, **fields: Any) -> dict[str, Any]:
    if name not in EVENTS:
        raise EventError(f"unknown event {name!r}")
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

    def emit(self, name: str, **fields: Any) -> None:
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
