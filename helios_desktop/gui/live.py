"""The live view of a run: progress and rate line, charts, workers panel, GPU and demo notes.

Everything here comes from the backend's events, one channel: ``progress`` for the bar
and the throughput, ``telemetry`` (about once a second) for tokens, queue depth and the
GPUs, ``worker`` and ``endpoint`` for the workers panel.
"""

from __future__ import annotations

import time

from ..folders import Progress
from .charts import ChartsPanel, RateWindow
from .qt import QObject, QTableWidgetItem, QVBoxLayout

DEMO_NOTE = ("The built-in model is a small demonstration model. Measured per field it helps "
             "none, so by default the results come from each file's own evidence (its answers "
             "are kept as raw output). For model-written results choose Llama 3.2 3B Instruct "
             "or a model server in File › Settings (see models/README.md).")


def status_line(c: dict, what: str) -> str:
    return (f"{what}: {c.get('done', 0):,} done, {c.get('failed', 0):,} failed, "
            f"{c.get('skipped', 0):,} skipped")


class LiveView(QObject):
    """Owns progressBar, rateLabel, demoNote, the Live tab's charts, gpuNote and workersTable."""

    def __init__(self, form, parent=None):
        super().__init__(parent)
        self.form = form
        self.charts = ChartsPanel()
        layout = QVBoxLayout(form.chartsHost)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.charts)
        form.chartsHost.setMinimumHeight(320)
        # "Finished: 1,234 done, 5 failed, 67 skipped" wraps rather than widen the window
        # past 640 px.
        form.rateLabel.setWordWrap(True)
        form.controls.setStretchFactor(form.rateLabel, 1)  # wide enough for one line if it can
        form.controls.setStretchFactor(form.progressBar, 1)
        self.rate = RateWindow()
        self.workers: dict[int, dict] = {}
        self.endpoints: dict[str, dict] = {}  # engine openai: one line each in the workers panel
        self.last_progress: dict = {}
        self.last_finished: dict | None = None
        self.stopping = False

    def settings_changed(self, demonstration: bool) -> None:
        """The demonstration-model note goes when the settings name another model."""
        if not demonstration:
            self.form.demoNote.setVisible(False)

    def resume_from(self, run: dict) -> None:
        """A resumed run starts where the stopped one was: the bar shows what is already
        finished, not 0%, until the backend's first progress event."""
        finished = run["done"] + run["failed"] + run["skipped"]
        self.form.progressBar.setMaximum(max(1, finished + run["pending"]))
        self.form.progressBar.setValue(finished)

    def reset(self) -> None:
        """Nothing of the previous folder's (or run's) figures stays on screen."""
        f = self.form
        self.workers.clear()
        self.endpoints.clear()
        f.workersTable.setRowCount(0)
        self.last_progress = {}
        self.last_finished = None
        self.stopping = False
        self.rate.reset()
        self.charts.reset()
        f.progressBar.setMaximum(1)
        f.progressBar.setValue(0)
        f.rateLabel.setText("")
        f.demoNote.setVisible(False)

    # -- the backend's events ---------------------------------------------------------------

    def on_event(self, event: dict) -> None:
        name = event["event"]
        if name == "run_started":
            gpu = bool(event.get("gpu"))
            self.charts.show_gpu(gpu)
            self.form.gpuNote.setText("" if gpu else "No NVIDIA GPU: running on CPU")
            if event.get("demonstration"):
                self.form.demoNote.setText(DEMO_NOTE)
                self.form.demoNote.setVisible(True)
        elif name == "calibrating":
            self.form.rateLabel.setText(
                f"Measuring how many workers run {event.get('model') or 'the model'} fastest on "
                f"this machine (once per machine and model, at most "
                f"{event.get('budget_s', 60):.0f} s)…")
        elif name == "progress":
            self._progress(event)
        elif name == "telemetry":
            # Throughput from the files the workers actually analyzed (``processed``): files
            # skipped at the scan or reused from an earlier run arrive in bursts of
            # hundreds and are no measure of speed. Fed while stopping too: the chart goes on.
            self.charts.add_rate(self.rate.add(time.monotonic(), event["processed"]))
            self.charts.add_sample(event)
        elif name == "worker":
            self._worker(event)
        elif name == "endpoint":
            self.endpoints[event["endpoint"]] = event
            self._fill_workers()
        elif name == "run_finished":
            self.last_finished = event
            self._progress({**self.last_progress, **event["counts"],
                            "pending": event["counts"].get("pending", 0)})

    def _progress(self, event: dict) -> None:
        self.last_progress = event
        p = Progress.from_event(event)
        self.form.progressBar.setMaximum(max(1, p.total))
        self.form.progressBar.setValue(p.finished)
        if self.stopping:
            return  # the line says what stopping means, with no ETA
        # One smoothed rate for the line and the chart (over the last 10 s, from telemetry).
        rate = self.rate.rate
        eta = ""
        if p.scanning:
            eta = ", scanning"
        elif rate > 0 and p.pending:
            secs = int(p.pending / rate)
            eta = f", ETA {secs // 60}m {secs % 60:02d}s"
        self.form.rateLabel.setText(f"{p.done:,} done, {p.failed:,} failed, {p.skipped:,} "
                                    f"skipped · {rate:.1f} files/s{eta}")

    def _worker(self, e: dict) -> None:
        info = self.workers.setdefault(e["worker"], {"restarts": 0})
        if e["state"] == "restarting":
            info["restarts"] += 1
        info.update({k: e.get(k) for k in ("state", "pid", "device", "batch_size") if e.get(k)})
        self._fill_workers()

    def _fill_workers(self) -> None:
        rows = [[wid, w.get("state"), w.get("pid"), w.get("device"), w.get("batch_size"),
                 w["restarts"]] for wid, w in sorted(self.workers.items())]
        # engine openai: one line per model server: up or down (with why), in flight, latency
        rows += [[name, "up" if e["up"] else f"down: {e.get('error', '')}", None,
                  f"server, {e.get('latency_seconds', 0):.2f} s/request", e.get("in_flight"), None]
                 for name, e in sorted(self.endpoints.items())]
        table = self.form.workersTable
        table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for col, value in enumerate(values):
                table.setItem(row, col, QTableWidgetItem("" if value is None else str(value)))

    # -- the run's stop and end -------------------------------------------------------------

    def on_stopping(self, text: str) -> None:
        self.stopping = True
        self.form.rateLabel.setText(text)

    def on_ended(self, outcome: str, code: int) -> None:
        """The backend is gone, and its workers with it: no worker stays "busy"."""
        self.stopping = False
        for w in self.workers.values():
            if w.get("state") not in ("stopped",):
                w["state"] = "stopped" if code in (0, 130) else "gone (backend ended)"
        self._fill_workers()
        if outcome == "completed":
            counts = (self.last_finished or {}).get("counts") or {}
            self.form.rateLabel.setText(status_line(counts, "Finished"))
        elif outcome == "stopped":
            self.form.rateLabel.setText(status_line(self.last_progress, "Stopped"))
        else:
            self.form.rateLabel.setText("")
