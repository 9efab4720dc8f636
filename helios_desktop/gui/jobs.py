"""Background jobs of the window, one shape for all: run off the GUI thread, callbacks on it.

Like Anki's QueryOp: ``run_in_background(owner, op, label=..., success=..., failure=...)``
runs ``op(context)`` in its own QThread and calls ``success(result)`` or
``failure(message, traceback)`` on the GUI thread; ``progress(value)`` gets what the op
reports through ``context.report``. A cancelled job calls neither callback. The op checks
``context.cancelled`` on every item; ``context.on_cancel`` registers a way to interrupt a
blocking wait (a scanner's ``cancel``).
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from .qt import QObject, QThread, pyqtSignal, pyqtSlot


class JobContext:
    """What an op sees of its job: the cancel flag and a progress channel (thread-safe)."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._on_cancel: list[Callable[[], None]] = []
        self.report: Callable[[Any], None] = lambda _value: None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            hooks = list(self._on_cancel)
        for hook in hooks:
            hook()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the job is cancelled (at once if it already is)."""
        with self._lock:
            self._on_cancel.append(hook)
            now = self._cancelled.is_set()
        if now:
            hook()


class _Runner(QObject):
    """Lives in the job's thread; everything it says goes out as a queued signal."""

    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str, str)
    progressed = pyqtSignal(object)
    finished = pyqtSignal()

    def __init__(self, op: Callable[[JobContext], Any], context: JobContext, label: str):
        super().__init__()
        self.op, self.context, self.label = op, context, label
        context.report = self.progressed.emit

    @pyqtSlot()
    def run(self) -> None:
        try:
            result = self.op(self.context)
            if not self.context.cancelled:
                self.succeeded.emit(result)
        except Exception as exc:  # never die silently: the failure callback shows it
            if not self.context.cancelled:
                self.failed.emit(f"{self.label}: {exc}", traceback.format_exc())
        finally:
            self.finished.emit()


class Job(QObject):
    """One op in one thread; the owner keeps the Job until ``ended``."""

    ended = pyqtSignal()

    def __init__(self, owner: QObject, op: Callable[[JobContext], Any], label: str,
                 success: Callable[[Any], None], failure: Callable[[str, str], None],
                 progress: Callable[[Any], None] | None = None):
        super().__init__(owner)
        self.context = JobContext()
        self._success, self._failure, self._progress = success, failure, progress
        self._done = False
        self._thread = QThread(self)
        runner = _Runner(op, self.context, label)
        runner.moveToThread(self._thread)
        self._thread.started.connect(runner.run)
        # The Job lives on the GUI thread: these arrive there, queued, in order.
        runner.succeeded.connect(self._succeeded)
        runner.failed.connect(self._failed)
        runner.progressed.connect(self._progressed)
        runner.finished.connect(self._thread.quit)
        runner.finished.connect(runner.deleteLater)
        self._thread.finished.connect(self._ended)
        self._runner = runner  # a collected runner would be deleted mid-run

    def start(self) -> Job:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return not self._done

    def cancel(self) -> None:
        self.context.cancel()

    def wait(self) -> None:
        """Block until the thread has ended (after ``cancel``, while closing)."""
        if not self._done:
            self._thread.quit()
            self._thread.wait()

    @pyqtSlot(object)
    def _succeeded(self, result) -> None:
        if not self.context.cancelled:
            self._success(result)

    @pyqtSlot(str, str)
    def _failed(self, message: str, details: str) -> None:
        if not self.context.cancelled:
            self._failure(message, details)

    @pyqtSlot(object)
    def _progressed(self, value) -> None:
        if self._progress is not None and not self.context.cancelled:
            self._progress(value)

    @pyqtSlot()
    def _ended(self) -> None:
        self._done = True
        self._runner = None
        self.ended.emit()
        self.deleteLater()  # the thread with it; a wait() after this returns at once


def run_in_background(owner: QObject, op: Callable[[JobContext], Any], *, label: str,
                      success: Callable[[Any], None], failure: Callable[[str, str], None],
                      progress: Callable[[Any], None] | None = None) -> Job:
    """Start ``op`` off the GUI thread; ``label`` opens the failure message ("export to X
    failed")."""
    return Job(owner, op, label, success, failure, progress).start()
