"""Polls the backend's /metrics once a second in its own QThread."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from .qt import QObject, QTimer, pyqtSignal, pyqtSlot


def parse_metrics(text: str) -> dict:
    """The few series the window charts, from the Prometheus text format."""
    out = {"processed": 0.0, "generated_tokens": 0.0, "queue_depth": 0.0, "gpus": {}}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "helios_files_processed_total":
                out["processed"] += s.value
            elif s.name == "helios_tokens_total" and s.labels.get("kind") == "generated":
                out["generated_tokens"] = s.value
            elif s.name == "helios_queue_depth":
                out["queue_depth"] = s.value
            elif s.name.startswith("helios_gpu_"):
                gpu = out["gpus"].setdefault(s.labels.get("gpu", "0"), {})
                gpu[s.name.removeprefix("helios_gpu_")] = s.value
    return out


class MetricsPoller(QObject):
    sample = pyqtSignal(dict)
    unreachable = pyqtSignal(str)
    finished = pyqtSignal()

    def __init__(self, interval_ms: int = 1000):
        super().__init__()
        self.interval_ms = interval_ms
        self.port: int | None = None
        self._timer: QTimer | None = None

    @pyqtSlot()
    def run(self) -> None:
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(self.interval_ms)

    @pyqtSlot(int)
    def set_port(self, port: int) -> None:
        self.port = port or None

    @pyqtSlot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.finished.emit()

    @pyqtSlot()
    def poll(self) -> None:
        if not self.port:
            return
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=0.8) as r:
                self.sample.emit(parse_metrics(r.read().decode()))
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            # HTTPException: the backend closed the exporter mid-answer (IncompleteRead) as
            # it exited; the next poll, or the exit signal, tells the window what happened.
            self.unreachable.emit(str(exc) or exc.__class__.__name__)
