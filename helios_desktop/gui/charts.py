"""Live charts: preallocated numpy ring buffers, redrawn with setData at ~1 Hz.

Every chart starts at zero, never shows a negative value, labels time in seconds, and
shows a placeholder until its first point. The throughput chart plots the same smoothed
rate the window writes in its progress line (``RateWindow``).
"""

from __future__ import annotations

import time

import numpy as np

from .qt import QVBoxLayout, QWidget, pg


class Ring:
    """A fixed-size time series; ``view`` returns it oldest first, without copying twice."""

    def __init__(self, size: int = 600):
        self.t = np.zeros(size)
        self.v = np.zeros(size)
        self.n = 0
        self.size = size

    def add(self, t: float, v: float) -> None:
        i = self.n % self.size
        self.t[i], self.v[i] = t, v
        self.n += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        if self.n <= self.size:
            return self.t[: self.n], self.v[: self.n]
        i = self.n % self.size
        return np.roll(self.t, -i), np.roll(self.v, -i)

    def __len__(self) -> int:
        return min(self.n, self.size)


class RateWindow:
    """A rate smoothed over the last ``span`` seconds of a growing total (never negative)."""

    def __init__(self, span: float = 10.0, least: float = 1.0):
        self.span, self.least = span, least
        self.points: list[tuple[float, float]] = []

    def reset(self) -> None:
        self.points.clear()

    def add(self, t: float, total: float) -> float:
        self.points.append((t, total))
        while len(self.points) > 2 and self.points[1][0] <= t - self.span:
            self.points.pop(0)
        return self.rate

    @property
    def rate(self) -> float:
        if len(self.points) < 2:
            return 0.0
        (t0, v0), (t1, v1) = self.points[0], self.points[-1]
        # Over one second at least: two samples a few milliseconds apart (a first batch
        # landing as the workers finish loading) are no rate.
        return max(0.0, (v1 - v0) / max(t1 - t0, self.least)) if t1 > t0 else 0.0


class ChartsPanel(QWidget):
    SERIES = (("files_per_s", "Throughput", "files/s"), ("tokens_per_s", "Tokens", "tokens/s"),
              ("queue_depth", "Queue depth", "files"), ("gpu_util", "GPU utilisation", "%"),
              ("gpu_mem", "GPU memory", "GiB"))

    def __init__(self, parent=None):
        super().__init__(parent)
        # No antialiasing: software-rendered antialiased lines cost tens of milliseconds a
        # redraw, and the event loop must stay under 50 ms.
        pg.setConfigOptions(antialias=False, background="w", foreground="#333")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        layout.addWidget(self.graphics)
        self.rings: dict[str, Ring] = {}
        self.curves: dict[str, object] = {}
        self.plots: dict[str, object] = {}
        self.placeholders: dict[str, object] = {}
        self.token_rate = RateWindow()
        for i, (key, title, unit) in enumerate(self.SERIES):
            plot = self.graphics.addPlot(row=i // 3, col=i % 3, title=title)
            plot.setLabel("left", unit)
            plot.setLabel("bottom", "time (s)")
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            plot.disableAutoRange()
            plot.setXRange(0, 60, padding=0)
            plot.setYRange(0, 1, padding=0)
            plot.hideButtons()
            placeholder = pg.TextItem("waiting for the first data", color="#888", anchor=(0.5, 0.5))
            placeholder.setPos(30, 0.5)
            plot.addItem(placeholder)
            self.placeholders[key] = placeholder
            self.plots[key] = plot
            self.rings[key] = Ring()
            self.curves[key] = plot.plot(pen=pg.mkPen("#2f7be5", width=2))
        self.gpu_total = Ring()
        self.curves["gpu_mem_total"] = self.plots["gpu_mem"].plot(
            pen=pg.mkPen("#999", width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self._t0 = time.monotonic()
        self.show_gpu(False)  # until a run says there is a GPU

    def reset(self) -> None:
        for ring in self.rings.values():
            ring.n = 0
        self.gpu_total.n = 0
        self.token_rate.reset()
        self._t0 = time.monotonic()
        self.redraw()

    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def add_rate(self, files_per_second: float) -> None:
        """The window's smoothed throughput (the number its progress line shows)."""
        self.rings["files_per_s"].add(self.elapsed(), max(0.0, files_per_second))
        self.redraw()

    def add_sample(self, sample: dict) -> None:
        t = self.elapsed()
        self.rings["tokens_per_s"].add(t, self.token_rate.add(t, sample["generated_tokens"]))
        self.rings["queue_depth"].add(t, max(0.0, sample["queue_depth"]))
        gpus = sample.get("gpus") or {}
        if gpus:
            util = np.mean([g.get("utilization_ratio", 0.0) for g in gpus.values()]) * 100
            used = sum(g.get("memory_used_bytes", 0.0) for g in gpus.values()) / 2**30
            total = sum(g.get("memory_total_bytes", 0.0) for g in gpus.values()) / 2**30
            self.rings["gpu_util"].add(t, util)
            self.rings["gpu_mem"].add(t, used)
            self.gpu_total.add(t, total)
        self.redraw()

    def redraw(self) -> None:
        for key, ring in self.rings.items():
            plot = self.plots[key]
            if not plot.isVisible():
                continue
            ts, vs = ring.view()
            self.curves[key].setData(ts, vs)
            self.placeholders[key].setVisible(len(ring) == 0)
            top = float(vs.max()) if len(vs) else 0.0
            if key == "gpu_mem" and len(self.gpu_total):
                top = max(top, float(self.gpu_total.view()[1].max()))
            if key == "gpu_util":
                top = 100.0
            plot.setYRange(0, max(1.0, top * 1.15), padding=0)
            plot.setXRange(0, max(60.0, float(ts.max()) if len(ts) else 0.0), padding=0)
        if self.plots["gpu_mem"].isVisible():
            self.curves["gpu_mem_total"].setData(*self.gpu_total.view())

    def points(self, key: str) -> int:
        return len(self.rings[key])

    def show_gpu(self, available: bool) -> None:
        for key in ("gpu_util", "gpu_mem"):
            self.plots[key].setVisible(available)
