"""`helios db runs|check|prune|vacuum` and `analyze --retry-failed` on real SQLite files."""

import json
import os
import sqlite3

import pytest

from helios_desktop.records import AnalysisResult, FileTask, ScanChunk, Status
from helios_desktop.store.ledger import Ledger

from conftest import analyze_args, db_rows, helios


def _make_runs(db, folders_runs):
    """Write runs straight through the ledger: [(folder, status, n_files), ...]."""
    ledger = Ledger(db)
    ids = []
    for folder, status, n in folders_runs:
        run = ledger.start_run(os.fsencode(folder), "m", "cpu", {})
        ledger.add_discovered(run, ScanChunk(tasks=[FileTask(f"{folder}/{i}".encode(), 10, 1)
                                                  for i in range(n)]))
        leases = ledger.lease(run, n)
        ledger.record([(lease.file_id, AnalysisResult(path=lease.path, status=Status.DONE,
                                                      data={"summary": "x" * 2000}))
                       for lease in leases])
        ledger.record_batch_metrics(run, "batch", n, n, 0.1, 1, 1)
        ledger.finish_run(run, status, 0)
        ids.append(run)
    ledger.close()
    return ids


def _run_ids(db):
    conn = sqlite3.connect(db)
    ids = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
    conn.close()
    return ids


def test_runs_lists_counts(tmp_path):
    db = tmp_path / "h.db"
    _make_runs(db, [("/a", "completed", 3), ("/b", "interrupted", 2)])
    result = helios("db", "runs", "--db", db, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["run", "started", "status", "files"]
    one, two = lines[1].split(), lines[2].split()
    assert one[0] == "1" and one[3] == "completed" and one[4:6] == ["3", "3"] and one[-1] == "/a"
    assert two[0] == "2" and two[3] == "interrupted" and two[-1] == "/b"


def test_runs_works_while_an_analysis_holds_the_database(tmp_path, holder):
    db = tmp_path / "h.db"
    _make_runs(db, [("/a", "completed", 1)])
    proc = holder(db)
    result = helios("db", "runs", "--db", db, check=True)
    assert f"in use by a running analysis (pid {proc.pid})" in result.stdout


def test_check_ok_and_problems_one_line_each(tmp_path):
    db = tmp_path / "h.db"
    _make_runs(db, [("/a", "completed", 2)])
    ok = helios("db", "check", "--db", db)
    assert ok.returncode == 0 and ok.stdout == "" and "ok" in ok.stderr
    conn = sqlite3.connect(db)  # foreign keys off: write what the ledger never would
    conn.execute("INSERT INTO files (run_id, path, size, mtime_ns, status, updated_at) "
                 "VALUES (77, x'00', 1, 1, 'pending', 0)")
    conn.execute("INSERT INTO analysis_results (file_id, summary) VALUES (9999, 's')")
    conn.execute("UPDATE files SET status = 'pending' WHERE id = 1")
    conn.commit()
    conn.close()
    bad = helios("db", "check", "--db", db)
    assert bad.returncode == 2
    lines = bad.stdout.splitlines()
    assert len(lines) == 3, bad.stdout
    assert any("files row" in x and "missing runs" in x for x in lines)
    assert any("analysis_results row 9999" in x for x in lines)
    assert any("run 1 is completed but 1 of its files are unfinished" in x for x in lines)


def test_check_reports_a_damaged_file(tmp_path):
    db = tmp_path / "h.db"
    _make_runs(db, [("/a", "completed", 200)])
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data) - page, page):  # scribble over every page's header
        data[offset:offset + 16] = b"\xff" * 16
    db.write_bytes(bytes(data))
    result = helios("db", "check", "--db", db)
    assert result.returncode == 2 and result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_prune_keeps_newest_per_folder_and_last_completed(tmp_path):
    db = tmp_path / "h.db"
    # /a: 1 done, 2 done, 3 interrupted; /b: 4 done
    _make_runs(db, [("/a", "completed", 3), ("/a", "completed", 3), ("/a", "interrupted", 3),
                    ("/b", "completed", 2)])
    dry = helios("db", "prune", "--db", db, "--keep", "1", "--dry-run", check=True)
    assert "would delete 1 runs: 1" in dry.stdout and _run_ids(db) == [1, 2, 3, 4]
    result = helios("db", "prune", "--db", db, "--keep", "1", check=True)
    assert "deleted 1 runs (3 files, 3 results)" in result.stdout
    assert _run_ids(db) == [2, 3, 4]  # run 2 stays: /a's last completed run
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM files WHERE run_id = 1").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM performance_metrics WHERE run_id = 1").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM analysis_results").fetchone()[0] == 8
    conn.close()
    assert helios("db", "check", "--db", db).returncode == 0


def test_prune_never_takes_the_last_run(tmp_path):
    db = tmp_path / "h.db"
    _make_runs(db, [("/a", "completed", 1)])
    result = helios("db", "prune", "--db", db, "--keep", "0")
    assert result.returncode == 1 and "--keep must be at least 1" in result.stderr
    assert _run_ids(db) == [1]


def test_vacuum_gives_space_back(tmp_path):
    db = tmp_path / "h.db"
    _make_runs(db, [("/a", "completed", 300)] * 4)
    helios("db", "prune", "--db", db, "--keep", "1", check=True)
    before = os.path.getsize(db)  # the last connection's close checkpointed the WAL
    result = helios("db", "vacuum", "--db", db, check=True)
    assert "MB ->" in result.stdout
    assert os.path.getsize(db) < before
    assert _run_ids(db) == [4]


@pytest.mark.parametrize("command", [["check"], ["prune", "--keep", "1"], ["vacuum"]])
def test_db_commands_refuse_a_held_database(tmp_path, holder, command):
    db = tmp_path / "h.db"
    _make_runs(db, [("/a", "completed", 1), ("/a", "completed", 1)])
    proc = holder(db)
    result = helios("db", *command, "--db", db)
    assert result.returncode == 1
    assert f"in use by another analysis (pid {proc.pid})" in result.stderr
    assert _run_ids(db) == [1, 2]


def test_missing_database_is_named(tmp_path):
    result = helios("db", "runs", "--db", tmp_path / "none.db")
    assert result.returncode == 1 and "none.db does not exist" in result.stderr


def test_retry_failed_reruns_only_the_failed_files(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.txt").write_text(f"text number {i}")
    db = tmp_path / "h.db"
    # A 16-token budget is too short for the tiny model's long strings: bad_output (with a
    # custom schema; the built-in one would store the evidence's result instead).
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "required": ["title"],
                                  "properties": {"title": {"type": "string", "maxLength": 40}}}))
    first = helios(*analyze_args(folder, db, tiny_model, "--set", "max_output_tokens=16",
                                 "--set", f"schema={schema}"))
    assert first.returncode == 0, first.stderr
    failed = {r["id"] for r in db_rows(db) if r["status"] == "failed"}
    assert failed
    untouched = {r["id"]: r["updated_at"] for r in db_rows(db) if r["id"] not in failed}
    (folder / "new.txt").write_text("a file added after the run")
    retry = helios(*analyze_args(folder, db, tiny_model, "--retry-failed", "--set", f"schema={schema}"))
    assert retry.returncode == 0, retry.stderr
    assert f"retrying the {len(failed)} failed files of run 1" in retry.stderr
    rows = db_rows(db)
    assert _run_ids(db) == [1]
    assert {r["path"] for r in rows} == {os.fsencode(folder / f"{i}.txt") for i in range(6)}
    assert all(r["status"] == "done" for r in rows if r["id"] in failed)
    assert {r["id"]: r["updated_at"] for r in rows if r["id"] not in failed} == untouched
    again = helios(*analyze_args(folder, db, tiny_model, "--retry-failed", "--set", f"schema={schema}"),
                   check=True)
    assert "has no failed files; nothing to retry" in again.stdout


def test_retry_failed_needs_a_finished_run(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    db = tmp_path / "h.db"
    none = helios(*analyze_args(folder, db, tiny_model, "--retry-failed"))
    assert none.returncode == 1 and "has no run of" in none.stderr
    _make_runs(db, [(str(folder), "interrupted", 1)])
    result = helios(*analyze_args(folder, db, tiny_model, "--retry-failed"))
    assert result.returncode == 1 and "did not finish (interrupted); resume it" in result.stderr


def test_retry_failed_refuses_a_held_database(tmp_path, tiny_model, holder):
    folder = tmp_path / "in"
    folder.mkdir()
    db = tmp_path / "h.db"
    proc = holder(db)
    result = helios(*analyze_args(folder, db, tiny_model, "--retry-failed"))
    assert result.returncode == 1 and f"(pid {proc.pid})" in result.stderr
