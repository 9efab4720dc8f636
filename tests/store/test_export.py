"""Export: CSV injection neutralised, non-UTF-8 names survive, one row per file."""

import csv
import io
import json
import os
import sqlite3

from helios_desktop.store.export import neutralise
from helios_desktop.store.ledger import Ledger
from helios_desktop.records import AnalysisResult, FileTask, Reason, ScanChunk, Status

from conftest import helios

BAD = b"/data/r\xe9sum\xe9-\xff.txt"


def _db(path):
    ledger = Ledger(path)
    run = ledger.start_run(b"/data", "m", "cpu", {})
    tasks = [FileTask(BAD, 10, 1), FileTask(b"/data/formula.csv", 5, 1),
             FileTask(b"/data/x.bin", 5, 1, Reason.BINARY, "NUL byte")]
    ledger.add_discovered(run, ScanChunk(tasks=tasks))
    leases = ledger.lease(run, 10)
    ids = {task.path: task.file_id for task in leases}
    ledger.record([
        (ids[BAD], AnalysisResult(BAD, Status.DONE, data={
            "summary": "=HYPERLINK(\"http://evil\")", "category": "other", "language": "English",
            "keywords": ["+cmd", "@SUM(A1)", "ok"], "contains_personal_data": False},
            prompt_tokens=7, generated_tokens=9)),
        (ids[b"/data/formula.csv"], AnalysisResult(b"/data/formula.csv", Status.FAILED,
                                                   raw_output="-1+2", reason=Reason.BAD_OUTPUT,
                                                   message="\tnot JSON")),
    ])
    ledger.close()


def test_csv_is_injection_safe_and_keeps_names(tmp_path):
    db = tmp_path / "h.db"
    _db(db)
    out = tmp_path / "out.csv"
    result = helios("export", "--db", db, "--format", "csv", "--out", out)
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 3  # equals the files table
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), value
    bad = next(r for r in rows if r["path_bytes_hex"])
    assert bytes.fromhex(bad["path_bytes_hex"]) == BAD
    assert bad["path"] == "/data/r\\xe9sum\\xe9-\\xff.txt"
    assert bad["summary"].startswith("'=HYPERLINK")
    assert json.loads(bad["keywords"]) == ["+cmd", "@SUM(A1)", "ok"]  # JSON text, starts with [
    failed = next(r for r in rows if r["status"] == "failed")
    assert failed["reason"] == "bad_output" and failed["message"] == "'\tnot JSON"
    skipped = next(r for r in rows if r["status"] == "skipped")
    assert skipped["reason"] == "binary"


def test_jsonl_one_object_per_file(tmp_path):
    db = tmp_path / "h.db"
    _db(db)
    result = helios("export", "--db", db, "--format", "jsonl")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    conn = sqlite3.connect(db)
    assert len(lines) == conn.execute("SELECT count(*) FROM files").fetchone()[0]
    conn.close()
    bad = next(line for line in lines if "path_bytes_hex" in line)
    assert os.fsencode(bytes.fromhex(bad["path_bytes_hex"])) == BAD
    assert bad["result"]["category"] == "other"
    assert next(line for line in lines if line["status"] == "failed")["raw_output"] == "-1+2"


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("plain") == "plain"
    assert neutralise("") == ""


def test_export_errors_are_one_line(tmp_path):
    missing = helios("export", "--db", tmp_path / "none.db")
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "does not exist" in missing.stderr
    db = tmp_path / "h.db"
    _db(db)
    wrong = helios("export", "--db", db, "--run", "99")
    assert wrong.returncode == 1 and "run 99 is not in" in wrong.stderr
