"""Search (SQLite FTS5) kept by the ledger writer, and personal-data evidence stored with results."""

import json
import os

from helios_desktop.records import (AnalysisResult, FileTask, Reason, ScanChunk,
                                    Status)
from helios_desktop.store.ledger import Ledger
from helios_desktop.store.reader import LedgerReader, ResultQuery

from conftest import helios


def result(summary, keywords, category="report", evidence=None):
    data = {"summary": summary, "category": category, "language": "English",
            "keywords": keywords, "contains_personal_data": bool(evidence)}
    return data, evidence


def fill(db, folder=b"/data/share"):
    ledger = Ledger(db)
    run_id = ledger.start_run(folder, "m", "cpu", {})
    files = {
        folder + b"/finance/budget-2024.txt": result("Quarterly budget for the depot", ["budget"],
                                                      "financial"),
        folder + b"/hr/contract.txt": result("Employment contract", ["contract", "salary"], "legal",
                                             [{"kind": "e-mail", "line": 2, "sample": "ja***@x.de"}]),
        folder + b"/src/main.py": result("Entry point of the importer", ["importer"],
                                         "source_code"),
    }
    ledger.add_discovered(run_id, ScanChunk(paths=list(files)))
    ids = {task.path: task.file_id for task in ledger.lease(run_id, 10)}
    ledger.record([(ids[p], AnalysisResult(p, Status.DONE, data=d, evidence=e))
                   for p, (d, e) in files.items()])
    ledger.finish_run(run_id, "completed", 0)
    return ledger, run_id


def test_search_matches_relative_path_summary_keywords_and_category(tmp_path):
    ledger, run_id = fill(tmp_path / "d.db")
    reader = LedgerReader(tmp_path / "d.db")
    q = ResultQuery(run_id=run_id)
    assert reader.count(q.with_(text="depot")) == 1            # summary
    assert reader.count(q.with_(text="salary")) == 1           # keyword
    assert reader.count(q.with_(text="financial")) == 1        # category
    assert reader.count(q.with_(text="finance budget")) == 1   # relative path, every word
    assert reader.count(q.with_(text="data share")) == 0       # the folder itself is not indexed
    assert reader.count(q.with_(text="impo")) == 1             # prefixes
    # Re-recording a file replaces its index row, in the same transaction.
    fid = reader.page(q.with_(text="importer"), reader.columns(run_id), 0, 1)[0]["file_id"]
    ledger.record([(fid, AnalysisResult(b"/data/share/src/main.py", Status.DONE,
                                        data=result("Command line parser", ["cli"])[0]))])
    assert reader.count(q.with_(text="importer")) == 0
    assert reader.count(q.with_(text="parser")) == 1
    ledger.close()


def test_personal_data_evidence_is_stored_and_read_back(tmp_path):
    ledger, run_id = fill(tmp_path / "d.db")
    reader = LedgerReader(tmp_path / "d.db")
    overview = reader.overview(run_id, "/data/share")
    ((path, evidence),) = overview["personal"]
    assert path.endswith(b"contract.txt") and evidence == "e-mail (line 2): ja***@x.de"
    (row,) = reader.page(ResultQuery(run_id=run_id, text="contract"), reader.columns(run_id), 0, 5)
    assert row["evidence"] == [{"kind": "e-mail", "line": 2, "sample": "ja***@x.de"}]
    ledger.close()


def test_helios_search_prints_the_matches_and_their_count(tmp_path):
    ledger, _ = fill(tmp_path / "d.db")
    ledger.close()
    out = helios("search", "budget", "--db", tmp_path / "d.db", check=True)
    assert "budget-2024.txt" in out.stdout and out.stdout.count("\n") == 1
    assert "1 match for 'budget'" in out.stderr
    out = helios("export", "--db", tmp_path / "d.db", "--format", "jsonl", check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["personal_data_evidence"] for r in rows if r["personal_data_evidence"]] == [
        [{"kind": "e-mail", "line": 2, "sample": "ja***@x.de"}]]


def test_every_row_is_found_by_its_path_skipped_and_failed_too(tmp_path):
    """Issue 25: "changelog" found nothing though paths held it: only results were indexed."""
    ledger, run_id = fill(tmp_path / "d.db")
    folder = b"/data/share"
    skipped = FileTask(folder + b"/doc/changelog.Debian.gz", 10, 1, skip=Reason.BINARY)
    ledger.add_discovered(run_id, ScanChunk(tasks=[skipped],
                                            paths=[folder + b"/doc/share-changelog.txt"]))
    (task,) = ledger.lease(run_id, 10)
    ledger.record([(task.file_id, AnalysisResult(task.path, Status.FAILED,
                                                 reason=Reason.ENGINE_ERROR))])
    reader = LedgerReader(tmp_path / "d.db")
    q = ResultQuery(run_id=run_id)
    assert reader.count(q.with_(text="changelog")) == 2          # skipped and failed
    assert reader.count(q.with_(text="log")) == 2                # anywhere in the path
    assert reader.count(q.with_(text="doc changelog debian")) == 1
    assert reader.count(q.with_(text="share")) == 1              # not the folder's own name
    assert reader.count(q.with_(text="budget")) == 1             # results as before
    assert reader.count(q.with_(text="100%_")) == 0              # LIKE's wildcards are text
    ledger.close()


def test_helios_search_and_export_take_a_folder_and_say_which_run(tmp_path):
    """Issue 25: they used the newest run of the whole database, silently."""
    db = tmp_path / "d.db"
    a, b = tmp_path / "a", tmp_path / "b"
    ledger, run_a = fill(db, os.fsencode(a))
    ledger.close()
    ledger, run_b = fill(db, os.fsencode(b))
    ledger.close()
    out = helios("search", "budget", str(a), "--db", db, check=True)
    assert str(a / "finance" / "budget-2024.txt") in out.stdout
    assert f"1 match for 'budget' in run {run_a} of {a} (completed" in out.stderr
    out = helios("search", "budget", "--db", db, check=True)
    assert f"in run {run_b} of {b}" in out.stderr and "name a folder" in out.stderr
    out = helios("search", "budget", str(tmp_path / "c"), "--db", db)
    assert out.returncode == 1 and f"no run of {tmp_path / 'c'}" in out.stderr
    assert str(a) in out.stderr and str(b) in out.stderr   # what the database does hold
    out = helios("search", "budget", str(b), "--run", str(run_a), "--db", db)
    assert out.returncode == 1 and f"run {run_a} is of {a}, not of {b}" in out.stderr
    out = helios("export", str(a), "--db", db, "--format", "jsonl", check=True)
    assert {json.loads(line)["run_id"] for line in out.stdout.splitlines()} == {run_a}
    assert f"3 rows of run {run_a} of {a}" in out.stderr
