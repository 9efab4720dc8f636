"""LedgerReader: the read-only side of the store, on a real SQLite ledger."""

import pathlib
import re

from helios_desktop.records import AnalysisResult, ScanChunk, Status
from helios_desktop.store.ledger import Ledger
from helios_desktop.store.reader import LedgerReader, ResultQuery

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "helios_desktop"


def fill(db, results, folder=b"/f"):
    ledger = Ledger(db)
    run_id = ledger.start_run(folder, "m", "cpu", {})
    paths = [p for p, _ in results]
    ledger.add_discovered(run_id, ScanChunk(paths=paths))
    leases = ledger.lease(run_id, len(paths))
    by_path = {task.path: task.file_id for task in leases}
    ledger.record([(by_path[p], AnalysisResult(p, Status.DONE, data=data)) for p, data in results])
    return ledger, run_id


def builtin(summary, category="documentation"):
    return {"summary": summary, "category": category, "language": "English",
            "keywords": ["k"], "contains_personal_data": False}


def test_a_missing_database_reads_as_empty(tmp_path):
    reader = LedgerReader(tmp_path / "none.db")
    assert reader.latest_run() is None
    assert reader.count(ResultQuery()) == 0
    assert reader.runs() == []
    assert [c.name for c in reader.columns()][:3] == ["path", "status", "category"]


def test_pages_filters_and_case_insensitive_sort(tmp_path):
    ledger, run_id = fill(tmp_path / "d.db", [
        (b"/f/b.txt", builtin("Beta notes")), (b"/f/A.txt", builtin("alpha plan", "report")),
        (b"/f/c.txt", builtin("Gamma")),
    ])
    reader = LedgerReader(tmp_path / "d.db")
    columns = reader.columns(run_id)
    query = ResultQuery(run_id=run_id, order_by="path")
    assert [r["path"] for r in reader.page(query, columns, 0, 10)] == [b"/f/A.txt", b"/f/b.txt",
                                                                       b"/f/c.txt"]
    by_summary = query.with_(order_by="summary", descending=True)
    assert [r["summary"] for r in reader.page(by_summary, columns, 0, 2)] == ["Gamma", "Beta notes"]
    assert reader.count(query.with_(text="plan")) == 1
    assert reader.count(query.with_(category="report")) == 1
    assert reader.count(query.with_(status="failed")) == 0
    (row,) = reader.page(query.with_(text="beta"), columns, 0, 10)
    assert row["result"]["summary"] == "Beta notes" and row["file_id"] > 0
    ledger.close()


def test_runs_and_the_unfinished_run_of_a_folder(tmp_path):
    ledger, run_id = fill(tmp_path / "d.db", [(b"/f/a", builtin("a"))])
    reader = LedgerReader(tmp_path / "d.db")
    assert reader.unfinished_run(b"/f") == run_id
    assert reader.unfinished_run(b"/other") is None
    ledger.finish_run(run_id, "completed", 0)
    assert reader.unfinished_run(b"/f") is None
    (run,) = reader.runs(b"/f")
    assert run["id"] == run_id and run["done"] == 1 and run["status"] == "completed"
    assert reader.counts(run_id) == {"done": 1}
    ledger.close()


def test_a_custom_schema_gets_its_own_columns(tmp_path):
    ledger, run_id = fill(tmp_path / "d.db", [(b"/f/inv.txt", {"vendor": "ACME", "total": 12.5})])
    reader = LedgerReader(tmp_path / "d.db")
    columns = reader.columns(run_id)
    assert [c.header for c in columns][2:4] == ["Vendor", "Total"]
    (row,) = reader.page(ResultQuery(run_id=run_id), columns, 0, 10)
    assert row["field:vendor"] == "ACME" and row["field:total"] == 12.5
    ledger.close()


def test_no_sql_outside_the_store():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "store":
            continue
        if path.relative_to(PACKAGE).as_posix() == "extract/sqlite.py":
            continue  # reads a person's SQLite files as documents (read-only), never the ledger
        text = path.read_text("utf-8")
        if re.search(r"^\s*import sqlite3|\.execute\(\s*f?[\"'](SELECT|INSERT|UPDATE|DELETE)", text,
                     re.M | re.I):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
