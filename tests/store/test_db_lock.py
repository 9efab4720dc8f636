"""One writer per database: the sidecar lock, held by real processes."""

import os
import signal

import pytest

from helios_desktop.store.lock import DatabaseInUse, DatabaseLock, holder_of, lock_path

from conftest import analyze_args, helios


def test_second_lock_names_the_holder(tmp_path, holder):
    db = tmp_path / "h.db"
    proc = holder(db)
    assert holder_of(db) == proc.pid
    with pytest.raises(DatabaseInUse) as info:
        DatabaseLock(db).acquire()
    assert f"in use by another analysis (pid {proc.pid})" in str(info.value)
    assert info.value.pid == proc.pid


def test_lock_is_free_after_the_holder_is_killed(tmp_path, holder):
    db = tmp_path / "h.db"
    proc = holder(db)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lock_path(db).exists()  # a stale file blocks nobody
    assert holder_of(db) is None
    with DatabaseLock(db) as lock:
        assert lock.held and holder_of(db) == os.getpid()
    assert holder_of(db) is None


def test_analyze_refuses_a_held_database(tmp_path, tiny_model, holder):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    db = tmp_path / "h.db"
    proc = holder(db)
    result = helios(*analyze_args(folder, db, tiny_model))
    assert result.returncode == 1
    assert f"in use by another analysis (pid {proc.pid})" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db.exists()  # refused before touching it


def test_analyze_refuses_while_a_db_command_holds_it(tmp_path, tiny_model, holder):
    folder = tmp_path / "in"
    folder.mkdir()
    db = tmp_path / "h.db"
    proc = holder(db, "helios db vacuum")
    result = helios(*analyze_args(folder, db, tiny_model))
    assert result.returncode == 1
    assert f"in use by `helios db vacuum` (pid {proc.pid})" in result.stderr


def test_analyze_releases_the_lock(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    db = tmp_path / "h.db"
    assert helios(*analyze_args(folder, db, tiny_model)).returncode == 0
    assert holder_of(db) is None
    DatabaseLock(db).acquire().release()


PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_SH)  # what holder_of does for a moment
print("probing", flush=True)
sys.stdin.readline()
fcntl.flock(fd, fcntl.LOCK_UN)
"""


def test_a_status_probe_does_not_refuse_an_analysis(tmp_path):
    """`helios db runs` probes the lock with a shared flock; an analysis starting in that
    instant must wait the probe out, not report the database in use."""
    import subprocess
    import sys
    import threading

    db = tmp_path / "h.db"
    with DatabaseLock(db):
        pass  # the lock file exists, free
    probe = subprocess.Popen([sys.executable, "-c", PROBE, str(lock_path(db))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert probe.stdout.readline().strip() == "probing"
        with pytest.raises(DatabaseInUse):
            DatabaseLock(db, grace=0).acquire()  # the old behaviour: refused at once

        def end_probe():
            probe.stdin.write("done\n")
            probe.stdin.flush()

        threading.Timer(0.1, end_probe).start()
        with DatabaseLock(db, grace=30) as lock:
            assert lock.held and holder_of(db) == os.getpid()
    finally:
        probe.kill()
        probe.wait()


def test_a_second_folder_is_refused_naming_the_folder_in_work(tmp_path, tiny_model, holder):
    """Issue 25: the refusal says which folder holds the database, not only a pid."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "a.txt").write_text("hello")
    db = tmp_path / "h.db"
    proc = holder(db, "analysis", first)
    result = helios(*analyze_args(second, db, tiny_model))
    assert result.returncode == 1
    assert f"in use by the analysis of {first} (pid {proc.pid})" in result.stderr
    assert "one analysis writes to a database at a time" in result.stderr
