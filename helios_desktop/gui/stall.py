"""Measures how late the event loop serves a timer: the window's worst stall."""

from __future__ import annotations

import time

from .qt import QObject, QTimer


class StallMonitor(QObject):
    def __init__(self, interval_ms: int = 20, parent=None):
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self.worst = 0.0
        self.samples = 0
        self._last = None
        self._timer = QTimer(self)
        self._timer.setTimerType(self._timer.timerType().PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._timer.setInterval(interval_ms)

    def start(self) -> None:
        self.worst, self.samples, self._last = 0.0, 0, time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        late = now - self._last - self.interval
        self._last = now
        self.samples += 1
        if late > self.worst:
            self.worst = late
