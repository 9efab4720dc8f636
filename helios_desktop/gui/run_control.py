"""Run control: Start, Analyze changed files, Re-analyze all, Resume, Stop, and the backend."""

from __future__ import annotations

import logging
import signal
import time

from ..config import ConfigError
from .backend import BackendProcess
from .qt import QObject, QTimer, pyqtSignal
from .session import Session
from .stall import StallMonitor

log = logging.getLogger(__name__)


def exit_description(code: int, sig: int) -> str:
    """'was killed by signal 9 (SIGKILL)' or 'exited with code 1'."""
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "unknown"
        return f"was killed by signal {sig} ({name})"
    return "could not be started" if code == -1 else f"exited with code {code}"


class RunControl(QObject):
    """Owns the run buttons, the Start/Stop actions, the backend and the stall monitor."""

    starting = pyqtSignal()              # a run is about to start: live view and preview reset
    resuming = pyqtSignal(dict)          # ... and it continues this unfinished run
    queued = pyqtSignal(str)             # waiting for another analysis of the database: why
    stopping = pyqtSignal(str)           # once a second while stopping: what is happening
    ended = pyqtSignal(str, int)         # "completed", "stopped" or "failed"; exit code
    run_finished = pyqtSignal(dict)      # the run_finished event
    backend_exited = pyqtSignal(int, str)

    def __init__(self, form, session: Session, parent=None):
        super().__init__(parent)
        self.form, self.session = form, session
        self.last_finished: dict | None = None
        self.backend = BackendProcess(self)
        self.backend.event_received.connect(self._on_event)
        self.backend.stderr_line.connect(session.log)
        self.backend.exited.connect(self._on_exit)
        self.backend.stopping.connect(self._stopping_tick)
        self._stop_timer = QTimer(self)
        self._stop_timer.setInterval(1000)
        self._stop_timer.timeout.connect(self._stopping_tick)
        self.stall = StallMonitor(parent=self)
        # A run asked for while another process analyzes into the same database waits its
        # turn (store/lock.py: one analysis writes at a time), polled twice a second.
        self.waiting: bool | None = None   # None: nothing queued; else the run's ``fresh``
        self._queue_timer = QTimer(self)
        self._queue_timer.setInterval(500)
        self._queue_timer.timeout.connect(self._try_queued)
        f = form
        f.startButton.clicked.connect(lambda: self.start_run())
        f.reanalyzeButton.clicked.connect(lambda: self.start_run(fresh=True))
        f.resumeButton.clicked.connect(lambda: self.start_run())
        f.stopButton.clicked.connect(self.stop_run)
        f.actionStart.triggered.connect(self._start_shortcut)
        f.actionStop.triggered.connect(self.stop_run)
        for changed in (session.settings_changed, session.folder_changed,
                        session.preview_changed, session.history_changed):
            changed.connect(self.update_buttons)

    @property
    def running(self) -> bool:
        return self.backend.running

    # -- the buttons --------------------------------------------------------------------------

    def update_buttons(self) -> None:
        """Offer only the actions that mean something now, each saying what it does."""
        f, s = self.form, self.session
        running = self.backend.running
        ready, why = s.engine_ready()
        can = bool(s.folder) and not running and ready and bool(
            s.preview and s.preview["files"] > 0)
        unfinished = None if running else s.unfinished()
        completed = s.completed_before()
        f.startButton.setText("Analyze changed files" if completed else "Start")
        f.startButton.setVisible(unfinished is None)
        f.startButton.setEnabled(can and unfinished is None)
        f.startButton.setToolTip(why if not ready else
                                 "Analyze the folder (F5); unchanged files keep results of the "
                                 "same model" if completed else "Analyze every file (F5)")
        f.resumeButton.setVisible(unfinished is not None)
        f.resumeButton.setEnabled(can and unfinished is not None)
        if unfinished is not None:
            f.resumeButton.setText(f"Resume ({unfinished['pending']:,} left)")
        f.reanalyzeButton.setVisible(bool(s.history) and not running)
        f.reanalyzeButton.setEnabled(can and bool(s.history))
        queued = self.waiting is not None
        if queued:
            f.startButton.setEnabled(False)
            f.resumeButton.setEnabled(False)
            f.reanalyzeButton.setEnabled(False)
        f.stopButton.setEnabled((running and not self.backend.stop_deadline) or queued)
        f.stopButton.setText("Cancel" if queued else "Stop")
        f.actionStart.setEnabled(can and not queued)
        f.actionStop.setEnabled(running or queued)

    def _start_shortcut(self) -> None:
        if self.form.startButton.isEnabled() or self.form.resumeButton.isEnabled():
            self.start_run()

    # -- starting and stopping ----------------------------------------------------------------

    def start_run(self, fresh: bool = False) -> None:
        """Start (or resume) the analysis; ``fresh``: re-analyze every file in a new run."""
        s = self.session
        if not s.folder or self.backend.running:
            return
        try:
            s.reload_settings()
        except ConfigError as exc:
            s.message.emit(f"Settings problem: {exc}")
            return
        ready, why = s.engine_ready()
        if not ready:
            s.message.emit(why)
            self.update_buttons()
            return
        from ..store.lock import holder_of, read_lock

        if holder_of(s.database) is not None:
            pid, holder, folder = read_lock(s.database)
            what = f"the analysis of {folder}" if folder else f"another {holder or 'analysis'}"
            why = (f"Queued: waiting for {what} (pid {pid}) to finish; one analysis writes to "
                   f"the database {s.database} at a time. This one starts by itself then "
                   "(Cancel to drop it).")
            first = self.waiting is None
            self.waiting = fresh
            self._queue_timer.start()
            if first:
                s.message.emit(why)
                self.queued.emit(why)
            self.update_buttons()
            return
        self.waiting = None
        self._queue_timer.stop()
        self.last_finished = None
        unfinished = None if fresh else s.unfinished()
        self.starting.emit()
        if unfinished is not None:
            self.resuming.emit(unfinished)
        args = ["--db", str(s.database)] + (["--fresh"] if fresh else [])
        self.backend.start(s.folder, args)
        self.stall.start()
        self.update_buttons()
        target = s.endpoint_target()
        s.status.emit(f"Analyzing {s.folder}" + (f" on {target}" if target else "") + "…")

    def _try_queued(self) -> None:
        if self.waiting is not None and not self.backend.running:
            self.start_run(self.waiting)

    def cancel_queued(self) -> None:
        if self.waiting is None:
            return
        self.waiting = None
        self._queue_timer.stop()
        self.session.message.emit("The queued analysis was cancelled.")
        self.update_buttons()

    def stop_run(self) -> None:
        if self.waiting is not None:
            self.cancel_queued()
            return
        if not self.backend.running:
            return
        self.backend.stop()
        self._stop_timer.start()
        self.update_buttons()

    def _stopping_tick(self) -> None:
        left = max(0, int(self.backend.stop_deadline - time.monotonic() + 0.999))
        text = (f"Stopping: the workers finish the files in flight so nothing is lost; at most "
                f"{left} s more, then they are stopped and their files wait for Resume.")
        self.session.status.emit(text)
        self.stopping.emit(text)

    # -- what the backend says ----------------------------------------------------------------

    def _on_event(self, event: dict) -> None:
        """The run's own events (the live view reads the progress ones itself)."""
        name, s = event["event"], self.session
        if name == "run_started":
            s.reload_history()
            s.show_run(event.get("run_id"))
            self.update_buttons()
        elif name == "calibrating":
            s.status.emit(
                f"Measuring how many workers run {event.get('model') or 'the model'} fastest on "
                f"this machine (once per machine and model, at most "
                f"{event.get('budget_s', 60):.0f} s)…")
        elif name == "file_failed":
            s.log.emit(f"failed: {event.get('path')}: {event.get('reason')} "
                       f"{event.get('message', '')}")
        elif name == "batch_resized":
            s.log.emit(f"worker {event['worker']}: batch size {event['old']} -> {event['new']}")
        elif name == "error":
            s.log.emit(f"error: {event.get('message')}")
            s.status.emit(f"Error: {event.get('message')}")
        elif name == "run_finished":
            self.last_finished = event
            self.run_finished.emit(event)

    def _on_exit(self, code: int, last_error: str) -> None:
        s = self.session
        self.stall.stop()
        self._stop_timer.stop()
        sig = self.backend.exit_signal
        last_error = last_error.removeprefix("helios: error: ").strip()
        interrupted = code == 130 or (self.last_finished or {}).get("status") == "interrupted"
        self.backend.stop_deadline = 0.0
        if code == 0 or interrupted:
            pass  # the status line says how the run ended; an exit code would only puzzle
        else:
            s.log.emit(f"The analysis backend {exit_description(code, sig)}"
                       + (f"; last error: {last_error}" if last_error else ""))
        # For developers: the window's responsiveness goes to the log file, not the Log tab.
        log.info("event loop: worst stall %.1f ms over %d ticks", self.stall.worst * 1000,
                 self.stall.samples)
        s.reload_history()
        s.show_run(s.shown_run)  # the rows written since the last refresh
        outcome = "completed" if code == 0 else "stopped" if interrupted else "failed"
        self.ended.emit(outcome, code)
        if outcome == "completed":
            c = (self.last_finished or {}).get("counts") or {}
            s.status.emit(f"Finished: {c.get('done', 0):,} done, {c.get('failed', 0):,} failed, "
                          f"{c.get('skipped', 0):,} skipped.")
        elif outcome == "stopped":
            s.status.emit("Stopped. Resume continues where the run stopped.")
        else:
            how = (f"crashed: it {exit_description(code, sig)}" if sig
                   else exit_description(code, sig))
            s.message.emit(f"The analysis backend {how}. "
                           + (f"Last error: {last_error}. " if last_error else "")
                           + "The Log tab has its last lines. "
                           + ("Resume continues where it stopped." if s.unfinished() else ""))
        self.update_buttons()
        self.backend_exited.emit(code, last_error)
