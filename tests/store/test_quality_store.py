"""The gate's verdicts in the ledger, the reader's filter, the exports, and old databases."""

import csv
import io
import json
import sqlite3

from helios_desktop.analysis.quality import verdict_lines
from helios_desktop.records import AnalysisResult, FileTask, ScanChunk, Status
from helios_desktop.store.export import write_csv, write_jsonl
from helios_desktop.store.ledger import _MIGRATIONS, Ledger, iter_rows, open_readonly
from helios_desktop.store.reader import LedgerReader, ResultQuery

DATA = {"summary": "s", "category": "other", "language": "English", "keywords": ["k"],
        "contains_personal_data": False}


def _run(ledger, paths):
    run = ledger.start_run(b"/f", "m", "cpu", {})
    ledger.add_discovered(run, ScanChunk(tasks=[FileTask(p, 1, 1) for p in paths]))
    ids = [task.file_id for task in ledger.lease(run, 10)]
    return run, ids


def test_verdicts_are_stored_filtered_and_exported(tmp_path):
    db = tmp_path / "h.db"
    ledger = Ledger(db)
    run, ids = _run(ledger, [b"/f/a", b"/f/b"])
    passed = {"gate": "pass", "summary": {"verdict": "pass", "grounding": 1.0},
              "keywords": {"verdict": "pass", "grounding": 1.0}}
    failed = {"gate": "fail", "summary": {"verdict": "degenerate", "detail": "3-gram 'a b c' x3"},
              "keywords": {"verdict": "pass", "grounding": 1.0}}
    ledger.record([
        (ids[0], AnalysisResult(b"/f/a", Status.DONE, data=DATA, decided_by={"summary": "model"},
                                quality=passed)),
        (ids[1], AnalysisResult(b"/f/b", Status.DONE, data=DATA, decided_by={"summary": "evidence"},
                                quality=failed)),
    ])
    ledger.close()
    reader = LedgerReader(db)
    cols = reader.columns(run)
    assert reader.count(ResultQuery(quality="model")) == 1
    assert reader.count(ResultQuery(quality="evidence")) == 1
    row = reader.page(ResultQuery(quality="evidence"), cols, 0, 10)[0]
    assert row["path"] == b"/f/b" and row["quality"]["summary"]["verdict"] == "degenerate"
    reader.close()
    conn = open_readonly(db)
    out = io.StringIO()
    write_csv(iter_rows(conn), out)
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    # Readable in a spreadsheet (issue 25): "gate: fail; summary: degenerate (...)".
    assert table[1]["quality"].startswith("gate: fail; summary: degenerate (3-gram")
    out = io.StringIO()
    write_jsonl(iter_rows(conn), out)
    assert json.loads(out.getvalue().splitlines()[0])["quality"]["gate"] == "pass"


def test_a_database_from_before_the_gate_migrates_and_reads_as_unchecked(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    for version in (1, 2):
        conn.executescript(_MIGRATIONS[version])
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO runs (id, folder, started_at) VALUES (1, x'2f66', 0)")
    conn.execute("INSERT INTO files (id, run_id, path, size, mtime_ns, status, updated_at) "
                 "VALUES (1, 1, x'2f662f61', 1, 1, 'done', 0)")
    conn.execute("INSERT INTO analysis_results (file_id, result, summary) VALUES (1, '{}', 'old')")
    conn.commit()
    conn.close()
    # A viewer on the old file (not migrated yet) still reads it.
    reader = LedgerReader(db)
    assert reader.count(ResultQuery(quality="unchecked")) == 1
    assert reader.page(ResultQuery(), reader.columns(1), 0, 5)[0]["quality"] is None
    reader.close()
    Ledger(db).close()  # the writer migrates it
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] >= 4
    assert conn.execute("SELECT summary, quality FROM analysis_results").fetchone() == ("old", None)
    conn.close()
    reader = LedgerReader(db)
    assert reader.count(ResultQuery(quality="unchecked")) == 1
    assert reader.count(ResultQuery(quality="evidence")) == 0


def test_verdict_lines_say_who_decided_and_why():
    lines = verdict_lines({"summary": "evidence", "category": "evidence", "keywords": "model"},
                          {"gate": "fail", "summary": {"verdict": "copied", "detail": "prompt text"},
                           "keywords": {"verdict": "pass", "grounding": 0.8}})
    assert lines[0] == "quality gate: fail"
    assert "summary: evidence (model answer refused: copied, prompt text)" in lines
    assert "keywords: model (gate: pass, grounding 0.80)" in lines
    assert "category: evidence" in lines
    assert verdict_lines({"summary": "model"}, None)[0] == "quality gate: not checked"
