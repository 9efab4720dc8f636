"""The command line as a user meets it: clear one-line errors, events, stop and resume."""

import os
import signal
import sqlite3
import subprocess
import sys


from helios_desktop.backend.events import EVENTS, parse_event

from conftest import REPO, analyze_args, events_of, helios


def _one_clear_line(result):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_missing_folder(tmp_path, tiny_model):
    line = _one_clear_line(helios(*analyze_args(tmp_path / "nope", tmp_path / "h.db", tiny_model)))
    assert "nope does not exist" in line


def test_file_instead_of_folder(tmp_path, tiny_model):
    f = tmp_path / "f.txt"
    f.write_text("x")
    assert "is not a folder" in _one_clear_line(helios(*analyze_args(f, tmp_path / "h.db", tiny_model)))


def test_unreadable_database(tmp_path, tiny_model):
    db = tmp_path / "h.db"
    db.write_bytes(b"this is not sqlite at all" * 100)
    line = _one_clear_line(helios(*analyze_args(tmp_path, db, tiny_model)))
    assert str(db) in line


def test_foreign_sqlite_database(tmp_path, tiny_model):
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    assert "not a Helios database" in _one_clear_line(helios(*analyze_args(tmp_path, db, tiny_model)))


def test_broken_config(tmp_path, tiny_model):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_batch_size: zero\n")
    line = _one_clear_line(helios(*analyze_args(tmp_path, tmp_path / "h.db", tiny_model,
                                                "--config", cfg)))
    assert "max_batch_size" in line and "zero" in line


def test_missing_model(tmp_path):
    line = _one_clear_line(helios("analyze", tmp_path, "--db", tmp_path / "h.db",
                                  "--model", tmp_path / "no-model"))
    assert "does not exist" in line and "build-default" in line


def test_default_model_not_built_says_what_to_do(tmp_path):
    """Asked a field, the demonstration model must be built; asked none (its measured
    default), the run needs no model and says so."""
    line = _one_clear_line(helios("analyze", tmp_path, "--db", tmp_path / "h.db",
                                  "--set", "model_fields=all"))
    assert "helios models build-default" in line
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("The depot opens at eight on weekdays.\n")
    result = helios("analyze", tmp_path / "in", "--db", tmp_path / "h2.db")
    assert result.returncode == 0, result.stderr
    assert "1 done, 0 failed" in result.stdout and "(evidence only)" in result.stdout
    assert "no model is set up" in result.stdout + result.stderr


def test_events_are_versioned_json_lines(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(12):
        (folder / f"{i}.txt").write_text(f"text number {i}")
    (folder / "blob.bin").write_bytes(b"\x00\x01")
    result = helios(*analyze_args(folder, tmp_path / "h.db", tiny_model, "--events", "jsonl"))
    assert result.returncode == 0, result.stderr
    events = [parse_event(line) for line in result.stdout.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] in ("worker", "run_started") and names[-1] == "run_finished"
    assert set(names) <= set(EVENTS) and {"run_started", "scan_progress", "worker"} <= set(names)
    finished = events[-1]
    assert finished["status"] == "completed"
    assert finished["counts"]["done"] + finished["counts"]["failed"] == 12
    assert finished["counts"]["skipped"] == 1
    started = next(e for e in events if e["event"] == "run_started")
    assert started["provider"] == "cpu" and started["folder"] == str(folder)
    # the window's one telemetry channel: typed totals about once a second, and at the end
    telemetry = [e for e in events if e["event"] == "telemetry"]
    assert telemetry, names
    for t in telemetry:
        assert set(t) == {"v", "event", "ts", "processed", "generated_tokens", "prompt_tokens",
                          "queue_depth", "gpus"}
        assert all(isinstance(t[k], float) for k in
                   ("processed", "generated_tokens", "prompt_tokens", "queue_depth"))
        assert isinstance(t["gpus"], dict)
    # The workers' files: the binary one was skipped by its first bytes before they
    # loaded the model (backend/prescreen.py), like the scan's skips, no measure of speed.
    assert telemetry[-1]["processed"] == 12.0 and telemetry[-1]["queue_depth"] == 0.0
    assert telemetry[-1]["prompt_tokens"] > 0


def _backend(folder, db, model):
    """`helios analyze --events jsonl` as a child whose stdin, stdout and stderr we hold."""
    return subprocess.Popen([sys.executable, "-m", "helios_desktop",
                             *map(str, analyze_args(folder, db, model, "--events", "jsonl",
                                                    "--batch-size", "2"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)


def test_stop_line_on_stdin_stops_cleanly_and_resume_finishes(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(300):
        (folder / f"{i:03}.txt").write_text(f"Line {i} of a longer text. " * 5)
    db = tmp_path / "h.db"
    proc = _backend(folder, db, tiny_model)
    for line in proc.stdout:
        if parse_event(line)["event"] == "progress":
            proc.stdin.write("stop\n")
            proc.stdin.flush()
            break
    rest = proc.stdout.read()
    proc.wait(timeout=60)
    assert proc.returncode == 130, proc.stderr.read()
    last = events_of(rest)[-1]
    assert last["event"] == "run_finished" and last["status"] == "interrupted"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM files WHERE status='leased'").fetchone()[0] == 0
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"
    conn.close()
    again = helios(*analyze_args(folder, db, tiny_model), check=True)
    assert "completed (resumed)" in again.stdout


def test_sigterm_is_a_clean_stop(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(300):
        (folder / f"{i:03}.txt").write_text(f"Entry {i}. " * 20)
    db = tmp_path / "h.db"
    proc = _backend(folder, db, tiny_model)
    for line in proc.stdout:
        if parse_event(line)["event"] == "progress":
            proc.send_signal(signal.SIGTERM)
            break
    proc.stdout.read()
    proc.wait(timeout=60)
    assert proc.returncode == 130
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM files WHERE status='leased'").fetchone()[0] == 0
    conn.close()


def test_gui_without_a_display_says_what_to_do():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = helios("gui", env=env)
    assert result.returncode == 1
    assert "no display" in result.stderr and "helios analyze" in result.stderr


def test_gui_entry_point_smoke(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    os.chmod(tmp_path, 0o700)
    result = helios("gui", tmp_path, "--exit-when-ready", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "window ready" in result.stdout


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`helios config show | head -1`: the reader leaves early; no traceback, exit 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        result = subprocess.run([sys.executable, "-m", "helios_desktop", "config", "show"],
                                stdout=write_end, stderr=subprocess.PIPE, text=True,
                                timeout=120, cwd=REPO)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.returncode == 0


def test_a_broken_pipe_of_our_own_is_an_error_not_silence():
    """Only a closed standard output ends quietly; a pipe to a dead child is an error."""
    code = ("import sys\nimport helios_desktop.cli as cli\n"
            "def dead_child(*a, **k):\n    raise BrokenPipeError(32, 'Broken pipe')\n"
            "cli._calibrate = dead_child\n"
            "sys.exit(cli.main(['config', 'calibrate']))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert result.returncode == 1
    assert "helios: error:" in result.stderr and "Traceback" not in result.stderr
