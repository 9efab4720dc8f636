"""Live charts: preallocated numpy ring buffers, redrawn with setData at ~1 Hz."""

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
        for i, (key, title, unit) in enumerate(self.SERIES):
            plot = self.graphics.addPlot(row=i // 3, col=i % 3, title=title)
            plot.setLabel("left", unit)
            plot.showGrid(x=True, y=True, alpha=0.2)
            self.plots[key] = plot
            self.rings[key] = Ring()
            self.curves[key] = plot.plot(pen=pg.mkPen("#2f7be5", width=2))
        self.gpu_total = Ring()
        self.curves["gpu_mem_total"] = self.plots["gpu_mem"].plot(
            pen=pg.mkPen("#999", width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self._t0 = time.monotonic()
        self._last: dict | None = None

    def reset(self) -> None:
        for ring in self.rings.values():
            ring.n = 0
        self.gpu_total.n = 0
        self._last = None
        self._t0 = time.monotonic()
        self.redraw()

    def add_sample(self, sample: dict) -> None:
        now = time.monotonic()
        t = now - self._t0
        if self._last is not None:
            dt = max(1e-6, now - self._last["at"])
            self.rings["files_per_s"].add(t, (sample["processed"] - self._last["processed"]) / dt)
            self.rings["tokens_per_s"].add(
                t, (sample["generated_tokens"] - self._last["generated_tokens"]) / dt)
        self.rings["queue_depth"].add(t, sample["queue_depth"])
        gpus = sample.get("gpus") or {}
        if gpus:
            util = np.mean([g.get("utilization_ratio", 0.0) for g in gpus.values()]) * 100
            used = sum(g.get("memory_used_bytes", 0.0) for g in gpus.values()) / 2**30
            total = sum(g.get("memory_total_bytes", 0.0) for g in gpus.values()) / 2**30
            self.rings["gpu_util"].add(t, util)
            self.rings["gpu_mem"].add(t, used)
            self.gpu_total.add(t, total)
        self._last = {"at": now, **sample}
        self.redraw()

    def redraw(self) -> None:
        for key, ring in self.rings.items():
            if self.plots[key].isVisible():
                self.curves[key].setData(*ring.view())
        if self.plots["gpu_mem"].isVisible():
            self.curves["gpu_mem_total"].setData(*self.gpu_total.view())

    def points(self, key: str) -> int:
        return len(self.rings[key])

    def show_gpu(self, available: bool) -> None:
        for key in ("gpu_util", "gpu_mem"):
            self.plots[key].setVisible(available)
