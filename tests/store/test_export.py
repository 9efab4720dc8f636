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
    # Keywords as a person reads them; the first one starts with + so the cell is guarded.
    assert bad["keywords"] == "'+cmd; @SUM(A1); ok"
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


def _readable_db(path):
    """One analyzed file with who-decided, the gate's verdicts, evidence and a long float;
    one unreadable file whose size is not known (-1)."""
    ledger = Ledger(path)
    run = ledger.start_run(b"/data/docs", "m", "cpu", {})
    tasks = [FileTask(b"/data/docs/sub/letter.txt", 120, 1),
             FileTask(b"/data/docs/gone.txt", -1, 1, Reason.PERMISSION, "permission denied")]
    ledger.add_discovered(run, ScanChunk(tasks=tasks))
    (task,) = ledger.lease(run, 10)
    ledger.record([(task.file_id, AnalysisResult(
        task.path, Status.DONE, data={
            "summary": "-5 degrees expected: a weather letter", "category": "correspondence",
            "language": "English", "keywords": ["weather", "frost", "garden"],
            "contains_personal_data": True},
        inference_seconds=0.123456789012345, prompt_tokens=7, generated_tokens=9,
        decided_by={"summary": "model", "category": "evidence"},
        evidence=[{"kind": "email", "line": 3, "sample": "j***@example.org"}],
        quality={"gate": "pass", "summary": {"verdict": "pass", "grounding": 0.8},
                 "keywords": {"verdict": "copied", "detail": "prompt text"}}))])
    ledger.close()


def test_csv_cells_read_as_people_read_them(tmp_path):
    """Issue 25: keywords "a; b; c", decided_by and quality readable, seconds rounded, the
    relative path beside the absolute one, numbers never prefixed by the formula guard."""
    db = tmp_path / "h.db"
    _readable_db(db)
    out = tmp_path / "out.csv"
    result = helios("export", "--db", db, "--format", "csv", "--out", out)
    assert result.returncode == 0, result.stderr
    rows = {r["relative_path"]: r for r in
            csv.DictReader(io.StringIO(out.read_text("utf-8-sig"), newline=""))}
    letter = rows["sub/letter.txt"]
    assert letter["path"] == "/data/docs/sub/letter.txt"
    assert letter["keywords"] == "weather; frost; garden"
    assert letter["decided_by"] == "summary: model; category: evidence"
    assert letter["quality"] == ("gate: pass; summary: pass (grounding 0.80); "
                                 "keywords: copied (prompt text)")
    assert letter["personal_data_evidence"] == "email, line 3: j***@example.org"
    assert letter["inference_seconds"] == "0.123"
    assert letter["summary"] == "'-5 degrees expected: a weather letter"  # text: still guarded
    gone = rows["gone.txt"]
    assert gone["size"] == "-1" and gone["status"] == "skipped"  # a number, not '-1


def test_jsonl_rounds_seconds_and_gives_the_relative_path(tmp_path):
    db = tmp_path / "h.db"
    _readable_db(db)
    result = helios("export", "--db", db, "--format", "jsonl")
    lines = {line["relative_path"]: line for line in map(json.loads, result.stdout.splitlines())}
    letter = lines["sub/letter.txt"]
    assert letter["path"] == "/data/docs/sub/letter.txt"
    assert letter["inference_seconds"] == 0.123
    assert letter["keywords"] == ["weather", "frost", "garden"]  # JSON keeps its structure
    assert lines["gone.txt"]["size"] == -1


def test_neutralise_leaves_numbers_alone():
    for number in ("-1", "-0.5", "+3", "-1e-3", "42"):
        assert neutralise(number) == number
    for formula in ("-1+2", "=1", "+A1", "@SUM(A1)", "-", "--1", "-1 degrees"):
        assert neutralise(formula) == "'" + formula
