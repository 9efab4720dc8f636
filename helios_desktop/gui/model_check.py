"""Checking a model folder as `helios models verify` does, in a child process, with a verdict."""

from __future__ import annotations

import json

from .backend import backend_command
from .qt import QObject, QProcess, pyqtSignal


def verdict(folder: str, code: int, out: str, err: str) -> tuple[bool, str]:
    """(usable, one sentence) from `helios models verify`'s exit code and output."""
    if code == 0:
        try:
            report = json.loads(out)
        except ValueError:
            report = {}
        return True, (f"{report.get('name', folder)} works: it loaded in "
                      f"{report.get('load_seconds', '?')} s on "
                      f"{report.get('provider_used', '?')} and answered a test file.")
    errors = [line for line in err.splitlines() if line.startswith("helios: error:")]
    why = errors[-1].removeprefix("helios: error:").strip() if errors else (
        err.strip().splitlines()[-1] if err.strip() else f"exit code {code}")
    return False, f"This model cannot be used: {why}"


class ModelCheck(QObject):
    """One check at a time: a new one replaces (and kills) the one before.

    A child process, not a thread: ONNX Runtime GenAI holds the GIL while it loads and
    generates, which would stall the window."""

    finished = pyqtSignal(str, bool, str)   # folder, usable, verdict

    def __init__(self, parent=None):
        super().__init__(parent)
        self.process: QProcess | None = None

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, folder: str) -> None:
        self.stop()
        cmd = backend_command() + ["models", "verify", folder]
        proc = QProcess(self)
        proc.finished.connect(lambda code, _status: self._finished(proc, folder, code))
        self.process = proc
        proc.start(cmd[0], cmd[1:])

    def stop(self) -> None:
        """Kill the check in flight; its verdict is never reported."""
        if self.process is not None:
            self.process.kill()
            self.process = None

    def shutdown(self) -> None:
        """Closing: kill the check and reap it (a killed child goes in milliseconds), so no
        process outlives the window."""
        proc = self.process
        self.stop()
        if proc is not None:
            proc.waitForFinished(2000)

    def _finished(self, proc: QProcess, folder: str, code: int) -> None:
        if proc is not self.process:
            return  # replaced or stopped
        self.process = None
        out = bytes(proc.readAllStandardOutput()).decode("utf-8", "replace")
        err = bytes(proc.readAllStandardError()).decode("utf-8", "replace")
        usable, text = verdict(folder, code, out, err)
        self.finished.emit(folder, usable, text)
