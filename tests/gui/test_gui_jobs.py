"""The window's one shape of background job: off the GUI thread, callbacks on it, cancellable."""

import threading

import pytest

from helios_desktop.gui.jobs import run_in_background
from helios_desktop.gui.qt import QObject, QThread


@pytest.fixture
def owner(qtbot):
    obj = QObject()
    yield obj
    running = [t for t in obj.findChildren(QThread) if t.isRunning()]
    assert not running, f"threads left running: {running}"


def test_the_op_runs_off_the_gui_thread_and_the_callbacks_on_it(qtbot, owner):
    gui = threading.get_ident()
    seen = {}

    def op(context):
        seen["op"] = threading.get_ident()
        for i in range(3):
            context.report(i)
        return "result"

    progress = []

    def success(result):
        seen["success"] = (threading.get_ident(), result)

    job = run_in_background(owner, op, label="x", success=success,
                            failure=lambda *a: seen.setdefault("failure", a),
                            progress=lambda v: progress.append((threading.get_ident(), v)))
    with qtbot.waitSignal(job.ended, timeout=10_000):
        pass
    assert seen["op"] != gui
    assert seen["success"] == (gui, "result") and "failure" not in seen
    assert progress == [(gui, 0), (gui, 1), (gui, 2)]
    assert not job.running


def test_an_exception_reaches_the_failure_callback_with_its_traceback(qtbot, owner):
    failures = []

    def op(_context):
        raise OSError("disk full")

    job = run_in_background(owner, op, label="export to /x.csv failed",
                            success=lambda r: failures.append(("success", r)),
                            failure=lambda message, details: failures.append((message, details)))
    with qtbot.waitSignal(job.ended, timeout=10_000):
        pass
    [(message, details)] = failures
    assert message == "export to /x.csv failed: disk full"
    assert "Traceback" in details and "OSError" in details


def test_a_cancelled_job_stops_and_calls_back_nothing(qtbot, owner):
    started, release = threading.Event(), threading.Event()
    hooks, calls = [], []

    def op(context):
        context.on_cancel(lambda: (hooks.append("cancel"), release.set()))
        started.set()
        release.wait(10)  # a blocking wait that only the cancel hook ends
        return "late"

    job = run_in_background(owner, op, label="x", success=calls.append,
                            failure=lambda *a: calls.append(a), progress=calls.append)
    assert started.wait(10)
    job.cancel()
    job.wait()
    qtbot.waitUntil(lambda: not job.running, timeout=10_000)
    assert hooks == ["cancel"] and calls == []
