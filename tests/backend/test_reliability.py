"""Defects found under chaos and bad input (issue 17): each test failed before its fix."""

import codecs
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import psutil
import pytest

from helios_desktop.backend.events import parse_event
from helios_desktop.backend.metrics import Metrics, MetricsServer
from helios_desktop.backend.starts import StartPolicy
from helios_desktop.config import ConfigError, load_settings
from helios_desktop.records import FileTask, Reason, ScanChunk
from helios_desktop.scan.globs import GlobFilter
from helios_desktop.scan.reader import Skip, read_document
from helios_desktop.store.ledger import DiskFull, Ledger

from conftest import REPO, analyze_args, db_rows, events_of, helios


# -- bad input: globs, byte order marks, unknown metrics paths ---------------------------------

def test_an_invalid_glob_is_refused_naming_the_pattern(tmp_path, tiny_model):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    result = helios(*analyze_args(folder, tmp_path / "h.db", tiny_model, "--set", "include=[a["))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'[a['" in lines[0] and "include" in lines[0], result.stderr
    assert not (tmp_path / "h.db").exists()
    with pytest.raises(ConfigError, match=r"'src/\[!x'"):
        load_settings(None, {"exclude": ["src/[!x"]})


def test_glob_sets_match_one_character_of_a_set():
    f = GlobFilter(["**/*.[ch]", "notes[0-9].txt", "[[]x].md"], ["**/tmp[!a-z]/**"])
    assert f.wants_file("src/main.c") and f.wants_file("inc/x.h")
    assert not f.wants_file("src/main.cc")
    assert f.wants_file("notes7.txt") and not f.wants_file("notesA.txt")
    assert f.wants_file("[x].md")
    assert f.prunes_dir("a/tmp1") and not f.prunes_dir("a/tmpz")
    assert not GlobFilter(["a[/]b"], []).wants_file("a/b")  # a set never matches a separator


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8"])
def test_text_with_a_byte_order_mark_is_decoded(tmp_path, encoding):
    text = "Invoice 42 for Zoë Müller: 3 × 5 € — paid.\n" * 20
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE,
           "utf-8": codecs.BOM_UTF8}[encoding]
    path = tmp_path / "invoice.txt"
    path.write_bytes(bom + text.encode(encoding))
    size = path.stat().st_size
    doc = read_document(FileTask(bytes(path), size, 0), max_file_size=1 << 20)
    assert doc.text == text and not doc.replaced_bytes
    # cut in the middle of a character: the part read is still text
    doc = read_document(FileTask(bytes(path), size, 0), max_file_size=1 << 20, max_chars=33)
    assert doc.text == text[:33]


def test_binary_that_starts_like_a_byte_order_mark_is_still_binary(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(codecs.BOM_UTF16_LE + (bytes(8) + bytes(range(256))) * 4)
    with pytest.raises(Skip) as info:
        read_document(FileTask(bytes(path), path.stat().st_size, 0), max_file_size=1 << 20)
    assert info.value.reason == Reason.BINARY


def test_metrics_port_answers_404_for_unknown_paths():
    server = MetricsServer(Metrics(), lambda: {"status": "running"})
    try:
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/", "/nope", "/metrics/extra", "/healthzz"):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(base + path, timeout=5)
            assert info.value.code == 404, path
        with urllib.request.urlopen(base + "/metrics", timeout=5) as resp:
            assert resp.status == 200 and b"helios_workers_alive" in resp.read()
        with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "running"}
    finally:
        server.close()


# -- workers that die while starting ---------------------------------------------------------

def test_start_policy_retries_a_start_that_died_without_a_word():
    starts = StartPolicy(max_failed_starts=3)
    assert starts.start_failed("worker exited (signal SIGKILL) before it was ready",
                               reported=False) is None
    assert starts.start_failed("worker exited (signal SIGKILL) before it was ready",
                               reported=False) is None
    starts.ready()
    for _ in range(2):  # a restart killed while loading is retried like any restart
        assert starts.start_failed("the model could not be loaded: out of memory",
                                   reported=True) is None
    reason = starts.start_failed("worker exited (signal SIGKILL) before it was ready",
                                 reported=False)
    assert reason.startswith("3 worker starts in a row failed") and "SIGKILL" in reason


def test_start_policy_gives_up_at_once_when_the_model_cannot_load():
    starts = StartPolicy()
    reason = "the model could not be loaded: bad model.onnx"
    assert starts.start_failed(reason, reported=True) == reason


def _start(folder, db, model, *extra, deadline=180):
    """A real backend with events on stdout; killed at ``deadline`` seconds so that a
    backend that hangs fails the test instead of stalling the suite."""
    proc = subprocess.Popen([sys.executable, "-m", "helios_desktop",
                             *map(str, analyze_args(folder, db, model, "--events", "jsonl", *extra))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    timer = threading.Timer(deadline, proc.kill)
    timer.daemon = True
    timer.start()
    return proc


def _corpus(root, n):
    root.mkdir()
    for i in range(n):
        (root / f"r{i:04}.txt").write_text(f"Report {i}: depot {i % 7} shipped on time.\n" * 3)


def test_workers_killed_while_loading_the_model_are_replaced(tmp_path, tiny_model):
    """The first worker and its replacement are SIGKILLed while loading; the run completes."""
    folder = tmp_path / "c"
    _corpus(folder, 60)
    db = tmp_path / "h.db"
    proc = _start(folder, db, tiny_model, "--workers", "1")
    events, killed = [], []
    for line in proc.stdout:
        event = parse_event(line)
        events.append(event)
        if (event["event"] == "worker" and event["state"] == "loading_model"
                and len(killed) < 2 and event["pid"] not in killed):
            os.kill(event["pid"], signal.SIGKILL)
            killed.append(event["pid"])
    proc.wait(timeout=120)
    stderr = proc.stderr.read()
    assert proc.returncode == 0, stderr
    ready = {e["pid"] for e in events if e["event"] == "worker" and e["state"] == "ready"}
    assert killed and not ready & set(killed), "a victim was ready before the kill landed"
    finished = events[-1]
    assert finished["event"] == "run_finished" and finished["status"] == "completed"
    assert finished["restarts"] == len(killed)
    assert not [e for e in events if e["event"] == "error"]
    assert {r["status"] for r in db_rows(db)} == {"done"} and len(db_rows(db)) == 60


def test_a_model_that_cannot_load_ends_the_run_with_its_reason(tmp_path, tiny_model):
    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model, broken)
    (broken / "model.onnx").write_bytes(b"this is not an ONNX model")
    folder = tmp_path / "c"
    _corpus(folder, 5)
    result = helios(*analyze_args(folder, tmp_path / "h.db", broken, "--events", "jsonl"),
                    timeout=120)
    assert result.returncode == 1
    errors = [e for e in events_of(result.stdout) if e["event"] == "error"]
    assert errors and "could not be loaded" in errors[0]["message"]
    assert result.stderr.strip().splitlines()[-1].startswith("helios: error: the model could not")
    assert result.stderr.count("could not be loaded") == 1, result.stderr


# -- two analyses on one database --------------------------------------------------------------

def test_a_second_analysis_of_the_same_database_is_refused_at_once(tmp_path, tiny_model):
    folder = tmp_path / "c"
    _corpus(folder, 150)
    db = tmp_path / "h.db"
    first = _start(folder, db, tiny_model)
    events = []
    for line in first.stdout:
        events.append(parse_event(line))
        if events[-1]["event"] == "run_started":
            break
    holder = events[-1]["pid"]
    second = helios(*analyze_args(folder, db, tiny_model, "--events", "jsonl"), timeout=60)
    assert second.returncode == 1
    message = f"in use by the analysis of {folder} (pid {holder})"  # which folder holds it
    errors = [e for e in events_of(second.stdout) if e["event"] == "error"]
    assert len(errors) == 1 and message in errors[0]["message"]  # what the window shows
    assert second.stderr.strip().splitlines()[-1] == f"helios: error: {errors[0]['message']}"
    for line in first.stdout:
        events.append(parse_event(line))
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == "completed"
    rows = db_rows(db)
    assert len(rows) == 150 and {r["status"] for r in rows} == {"done"}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


# -- a full disk ---------------------------------------------------------------------------------

def test_a_full_database_raises_disk_full(tmp_path):
    """SQLITE_FULL from a real database at its page limit becomes one typed error."""
    ledger = Ledger(tmp_path / "h.db")
    run = ledger.start_run(b"/f", "m", "cpu", {})
    pages = ledger.conn.execute("PRAGMA page_count").fetchone()[0]
    ledger.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(DiskFull) as info:
        for i in range(100):
            ledger.add_discovered(
                run, ScanChunk(tasks=[FileTask(b"/f/%d-%s" % (i, b"x" * 4000), 1, 1)]))
            ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert str(info.value) == (f"the disk holding {tmp_path / 'h.db'} is full: "
                               "free space and run again to resume")
    assert not ledger.conn.in_transaction
    ledger.conn.execute(f"PRAGMA max_page_count = {pages + 1000}")  # space again
    ledger.add_discovered(run, ScanChunk(tasks=[FileTask(b"/f/after", 1, 1)]))
    assert ledger.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ledger.close()


@pytest.fixture
def small_disk(tmp_path):
    """A real 16 MiB file system (tmpfs) that a test can fill; needs root and mount."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs",
                                            str(mount)], capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(folder):
    """Fill the file system holding ``folder``; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def test_disk_full_ends_with_one_line_and_resumes_once_freed(tmp_path, tiny_model, small_disk):
    folder = tmp_path / "c"
    _corpus(folder, 300)
    db = small_disk / "d.db"
    proc = _start(folder, db, tiny_model, "--workers", "2")
    events, filler = [], None
    for line in proc.stdout:
        events.append(parse_event(line))
        if filler is None and events[-1]["event"] == "progress" and events[-1]["done"] >= 20:
            filler = _fill(small_disk)
    proc.wait(timeout=120)
    stderr = proc.stderr.read()
    assert filler is not None, "the run finished before the disk was filled"
    assert proc.returncode == 1, stderr
    message = f"the disk holding {db} is full: free space and run again to resume"
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == f"helios: error: {message}"
    assert stderr.count(message) == 1, stderr
    assert [e["message"] for e in events if e["event"] == "error"] == [message]
    assert not [p for p in psutil.Process().children(recursive=True)]  # workers stopped
    filler.unlink()
    resumed = helios(*analyze_args(folder, db, tiny_model, "--events", "jsonl"), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    final = events_of(resumed.stdout)[-1]
    assert final["event"] == "run_finished" and final["status"] == "completed"
    rows = db_rows(db)
    assert len(rows) == 300 and len({r["path"] for r in rows}) == 300
    assert {r["status"] for r in rows} == {"done"}
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- the chaos benchmark ------------------------------------------------------------------------

def test_chaos_bench_smoke(tmp_path):
    """`python -m bench chaos` on a small corpus: kills, stops, re-runs, and its checks pass."""
    result = subprocess.run([sys.executable, "-m", "bench", "chaos", "--files", "150",
                             "--worker-kills", "3", "--backend-kills", "2", "--stops", "2",
                             "--seed", "7", "--tmp", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(result.stdout.split("JSON ", 1)[1])
    assert data["problems"] == [] and data["lost"] == 0 and data["duplicated"] == 0
    assert data["worker_kills"] == 3 and data["events"]["backend kills"] == 2
    assert data["integrity"] == "ok" and data["processes_left"] == 0
