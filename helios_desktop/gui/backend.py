"""The backend as a QProcess: `helios analyze FOLDER --events jsonl`, read only through signals."""

from __future__ import annotations

import sys
import time

from ..backend.events import EventError, parse_event
from .qt import QObject, QProcess, QTimer, pyqtSignal

STOP_GRACE_MS = 15000  # after the `stop` line, SIGTERM if it has not exited
STOP_WAIT_S = 30       # the backend's own limit for the batches in flight (stop_timeout)


def backend_command() -> list[str]:
    """The same executable runs the backend: the bundle's binary, or this Python."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "helios_desktop"]


class BackendProcess(QObject):
    event_received = pyqtSignal(dict)
    stderr_line = pyqtSignal(str)
    started = pyqtSignal()
    stopping = pyqtSignal()
    exited = pyqtSignal(int, str)  # exit code (-1 when it crashed), last error line

    def __init__(self, parent=None):
        super().__init__(parent)
        self.process: QProcess | None = None
        self._out = b""
        self._err = b""
        self.last_error = ""
        self.exit_signal = 0        # the signal that killed it (0: it exited)
        self.stop_deadline = 0.0    # monotonic time of the SIGTERM after a stop
        self._term_timer = QTimer(self)
        self._term_timer.setSingleShot(True)
        self._term_timer.timeout.connect(self._terminate)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, folder: str, args: list[str]) -> None:
        if self.running:
            raise RuntimeError("the backend is already running")
        cmd = backend_command() + ["analyze", folder, "--events", "jsonl", *args]
        self.process = QProcess(self)
        self.process.setProgram(cmd[0])
        self.process.setArguments(cmd[1:])
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        self.process.started.connect(self.started)
        self._out = self._err = b""
        self.last_error = ""
        self.exit_signal = 0
        self.stop_deadline = 0.0
        self.process.start()

    def stop(self) -> None:
        """Ask politely (a `stop` line), then SIGTERM after a grace period."""
        if not self.running:
            return
        self.process.write(b"stop\n")
        self.stop_deadline = time.monotonic() + STOP_WAIT_S
        self._term_timer.start(STOP_GRACE_MS)
        self.stopping.emit()

    def _terminate(self) -> None:
        if self.running:
            self.process.terminate()

    def kill(self) -> None:
        if self.running:
            self.process.kill()

    def _read_stdout(self) -> None:
        self.feed(bytes(self.process.readAllStandardOutput()))

    def feed(self, data: bytes) -> None:
        """Bytes of the backend's stdout: each whole line becomes one ``event_received``
        (a line that is no event goes to ``stderr_line``, as text)."""
        self._out += data
        *lines, self._out = self._out.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                event = parse_event(line)
            except EventError:
                self.stderr_line.emit(line.decode("utf-8", "replace"))
                continue
            if event["event"] == "error":
                self.last_error = event.get("message", "")
            self.event_received.emit(event)

    def _read_stderr(self) -> None:
        self._err += bytes(self.process.readAllStandardError())
        *lines, self._err = self._err.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace")
            if text.strip():
                if "error" in text.lower():
                    self.last_error = text
                self.stderr_line.emit(text)

    def _finished(self, code: int, status) -> None:
        self._term_timer.stop()
        self._read_stdout()
        if self._err.strip():
            self.stderr_line.emit(self._err.decode("utf-8", "replace"))
        crashed = status == QProcess.ExitStatus.CrashExit
        # On a crash Qt reports the signal's number as the exit code.
        self.exit_signal = code if crashed else 0
        self.exited.emit(-1 if crashed else code, self.last_error)

    def _error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.last_error = f"the backend could not start: {self.process.errorString()}"
            self.exited.emit(-1, self.last_error)
