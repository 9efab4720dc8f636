"""The window's telemetry comes from one channel: the backend's `telemetry` events on stdout.

The first tests feed the window real event lines (written by the backend's own
EventWriter) through the window's event parsing path (``BackendProcess.feed``, which the
QProcess's stdout goes through); the last runs the real backend.
"""

from helios_desktop.backend.events import parse_event
from helios_desktop.gui.qt import QThread

from support.gui import event_lines, make_folder, open_folder, run, telemetry

GiB = 2**30


def test_telemetry_lines_fill_the_token_queue_and_gpu_charts(qtbot, window):
    charts = window.live.charts
    lines = event_lines(
        ("run_started", {"run_id": 1, "gpu": True, "workers": 1}),
        telemetry(generated=0, queue=3, gpus={"0": {"utilization_ratio": 0.5,
                                                    "memory_used_bytes": 2 * GiB,
                                                    "memory_total_bytes": 8 * GiB},
                                              "1": {"utilization_ratio": 1.0,
                                                    "memory_used_bytes": 4 * GiB,
                                                    "memory_total_bytes": 8 * GiB}}),
        telemetry(generated=400, queue=5, prompt=900))
    # The line arrives cut in two, as pipes deliver it: nothing is charted from half a line.
    cut = lines.index(b'"telemetry"') + 5
    window.run.backend.feed(lines[:cut])
    assert charts.points("queue_depth") == 0
    window.run.backend.feed(lines[cut:])

    assert charts.plots["gpu_util"].isVisible() and window.form.gpuNote.text() == ""
    assert list(charts.rings["queue_depth"].view()[1]) == [3.0, 5.0]
    tokens = list(charts.rings["tokens_per_s"].view()[1])
    assert tokens[0] == 0.0 and tokens[1] > 0  # a rate over the growing total
    assert list(charts.rings["gpu_util"].view()[1]) == [75.0]  # the mean of the GPUs
    assert list(charts.rings["gpu_mem"].view()[1]) == [6.0]    # GiB used, summed
    assert list(charts.gpu_total.view()[1]) == [16.0]
    assert not charts.placeholders["queue_depth"].isVisible()


def test_a_telemetry_line_is_a_real_event_and_an_unknown_one_is_not(qtbot, window):
    line = event_lines(telemetry(generated=1.0, queue=2.0)).strip()
    assert parse_event(line)["event"] == "telemetry"
    logged = []
    window.run.backend.stderr_line.connect(logged.append)
    window.run.backend.feed(b'{"v": 1, "event": "metrics", "queue_depth": 9}\n' + line + b"\n")
    # The unknown event is shown as a line of the backend's output, never charted.
    assert logged == ['{"v": 1, "event": "metrics", "queue_depth": 9}']
    assert list(window.live.charts.rings["queue_depth"].view()[1]) == [2.0]


def test_opening_another_folder_clears_the_charts(qtbot, window, tmp_path):
    window.run.backend.feed(event_lines(telemetry(generated=5, queue=4)))
    assert window.live.charts.points("queue_depth") == 1
    folder = tmp_path / "f"
    make_folder(folder, n=3)
    open_folder(qtbot, window, folder)
    assert window.live.charts.points("queue_depth") == 0


def test_the_window_runs_no_thread_of_its_own_while_idle(qtbot, window):
    # The Prometheus scrape ran in a QThread for the window's whole life; the events need
    # none. (The window fixture checks again after close.)
    window.run.backend.feed(event_lines(("run_started", {"run_id": 1, "gpu": False})))
    assert [t for t in window.findChildren(QThread) if t.isRunning()] == []


def test_a_real_run_charts_the_backends_telemetry(qtbot, window, tmp_path):
    """END TO END with the real backend: it passes once the backend emits `telemetry`
    events (issue 24, the backend side; on a branch without them the queue and token
    charts stay empty and this test fails)."""
    folder = tmp_path / "docs"
    make_folder(folder, n=120)
    seen = []
    window.run.backend.event_received.connect(
        lambda e: seen.append(e) if e["event"] == "telemetry" else None)
    open_folder(qtbot, window, folder)
    run(qtbot, window)
    assert seen, "the backend sent no telemetry event"
    for key in ("processed", "generated_tokens", "prompt_tokens", "queue_depth", "gpus"):
        assert key in seen[-1], key
    assert window.live.charts.points("queue_depth") >= 1
    assert window.live.charts.points("tokens_per_s") >= 1
    assert seen[-1]["generated_tokens"] > 0 and seen[-1]["prompt_tokens"] > 0
