"""The format column: every file's format (PDF, Python, INI, ...) stored, migrated, exported,
and language left to natural languages."""

import csv
import io
import json
import os
import shutil
import sqlite3

from conftest import SAMPLES, TINY_MODEL, helios
from helios_desktop.store.ledger import Ledger, iter_rows, open_readonly
from helios_desktop.store.export import write_csv
from helios_desktop.store.reader import LedgerReader, ResultQuery
from helios_desktop.store.schema import MIGRATIONS, add_functions

PYTHON = '"""Print the late deliveries of every depot."""\n\ndef late(rows):\n    return rows\n'


def _schema5_database(db) -> None:
    """A database as Helios left it before the format column: schema 5 (documents'
    metadata), results whose language held Python or INI beside English ones."""
    conn = sqlite3.connect(db)
    add_functions(conn)  # migration 3 fills the search index through helios_relative_path
    for sql in MIGRATIONS[:5]:
        conn.executescript(sql)
    conn.execute("PRAGMA user_version = 5")
    conn.execute("INSERT INTO runs (id, folder, started_at, status) VALUES (1, x'2f66', 0, 'completed')")
    rows = [  # path, language, metadata
        (b"/f/tool.py", "Python", None),
        (b"/f/setup.cfg", "INI", None),
        (b"/f/letter.txt", "English", None),
        (b"/f/report.pdf", "English", {"format": "pdf", "pages": 2}),
        (b"/f/photo.jpg", "unknown", {"format": "JPEG", "width": 4}),
    ]
    for i, (path, language, meta) in enumerate(rows, start=1):
        conn.execute("INSERT INTO files (id, run_id, path, size, mtime_ns, status, updated_at) "
                     "VALUES (?, 1, ?, 1, 1, 'done', 0)", (i, path))
        result = {"summary": f"file {i}", "category": "other", "language": language,
                  "keywords": ["k"], "contains_personal_data": False}
        conn.execute("INSERT INTO analysis_results (file_id, result, summary, category, language, "
                     "keywords, contains_personal_data, metadata) VALUES (?,?,?,?,?,?,?,?)",
                     (i, json.dumps(result), f"file {i}", "other", language, '["k"]', 0,
                      json.dumps(meta) if meta else None))
    conn.commit()
    conn.close()


def test_a_schema_5_database_migrates_keeping_its_rows(tmp_path):
    db = tmp_path / "old.db"
    _schema5_database(db)
    # a viewer on the old file (not migrated yet) reads it: no format column, the
    # documents' metadata in the Overview
    reader = LedgerReader(db)
    assert "format" not in [c.name for c in reader.columns(1)]
    assert reader.overview(1)["format"] == {"text": 3, "pdf": 1, "JPEG": 1}
    reader.close()

    Ledger(db).close()  # the writer migrates it
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 6
    got = {bytes(p): (lang, fmt, json.loads(res)) for p, lang, fmt, res in conn.execute(
        "SELECT f.path, a.language, a.format, a.result FROM files f "
        "JOIN analysis_results a ON a.file_id = f.id")}
    conn.close()
    assert len(got) == 5  # every row kept
    assert {p: v[:2] for p, v in got.items()} == {
        b"/f/tool.py": ("", "Python"),          # a programming language is a format
        b"/f/setup.cfg": ("", "INI"),
        b"/f/letter.txt": ("English", "plain text"),
        b"/f/report.pdf": ("English", "PDF"),    # the document's metadata names it
        b"/f/photo.jpg": ("", "JPEG"),           # "unknown" is no language
    }
    # the stored answer says the same as the columns
    assert got[b"/f/tool.py"][2]["language"] == "" and got[b"/f/tool.py"][2]["format"] == "Python"
    assert got[b"/f/letter.txt"][2]["summary"] == "file 3"

    reader = LedgerReader(db)
    assert "format" in [c.name for c in reader.columns(1)]
    assert reader.overview(1)["format"] == {"INI": 1, "JPEG": 1, "PDF": 1, "Python": 1,
                                            "plain text": 1}
    assert reader.overview(1)["language"] == {"English": 2}
    assert reader.count(ResultQuery(run_id=1, format="Python")) == 1
    row = reader.page(ResultQuery(run_id=1, format="PDF"), reader.columns(1), 0, 5)[0]
    assert row["path"] == b"/f/report.pdf" and row["format"] == "PDF"
    reader.close()


def test_the_export_has_a_format_column(tmp_path):
    db = tmp_path / "old.db"
    _schema5_database(db)
    Ledger(db).close()
    conn = open_readonly(db)
    out = io.StringIO()
    write_csv(iter_rows(conn), out)
    conn.close()
    table = {row["path"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    header = next(csv.reader(io.StringIO(out.getvalue())))
    assert header.index("format") == header.index("language") + 1
    assert table["/f/tool.py"]["format"] == "Python" and table["/f/tool.py"]["language"] == ""
    assert table["/f/report.pdf"]["format"] == "PDF"


def test_a_run_stores_the_format_of_a_pdf_and_a_python_file(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SAMPLES / "documents" / "energy_report.pdf", folder / "energy_report.pdf")
    (folder / "late.py").write_text(PYTHON)
    (folder / "depot.ini").write_text("[depot]\nname = Birch Lane\nopens = 07:00\n")
    (folder / "letter.txt").write_text(
        "Dear Ms Okafor, thank you for the tour of the depot and for the time you gave us. "
        "We will send the plans for the new roof before the end of the month.\n")
    db = tmp_path / "h.db"
    # every model field open to the model: the format is still the evidence's, and the
    # Python file's language is '' whatever the model wrote
    result = helios("analyze", folder, "--db", db, "--model", TINY_MODEL, "--set",
                    "model_fields=all", "--set", "max_output_tokens=1200", timeout=600)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    rows = {os.path.basename(bytes(p)).decode(): (fmt, lang, json.loads(dec), json.loads(res))
            for p, fmt, lang, dec, res in conn.execute(
                "SELECT f.path, a.format, a.language, a.decided_by, a.result FROM files f "
                "JOIN analysis_results a ON a.file_id = f.id")}
    conn.close()
    assert {n: r[0] for n, r in rows.items()} == {
        "energy_report.pdf": "PDF", "late.py": "Python", "depot.ini": "INI",
        "letter.txt": "plain text"}
    assert all(r[2]["format"] == "evidence" and r[3]["format"] == r[0] for r in rows.values())
    assert rows["late.py"][1] == "" and rows["depot.ini"][1] == ""
    assert rows["late.py"][2]["language"] == "evidence"
    assert rows["letter.txt"][1] == "English" and rows["energy_report.pdf"][1] == "English"
