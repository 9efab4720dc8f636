"""Documents read by their bytes (extract/): every family on real files made here, the
bounds on hostile files in a real run, and the reader version in reuse."""

import gzip
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from bench.document_samples import make_hostile, make_samples
from bench.documents import REPORT_PAGES, docx_bytes, odt_bytes, pdf_bytes
from conftest import SAMPLES, TINY_MODEL, db_rows, helios
from helios_desktop.analysis.describe import describe
from helios_desktop.extract.base import ExtractOptions, LimitHit
from helios_desktop.extract.guard import deadline, memory_bound
from helios_desktop.extract.read import read_file
from helios_desktop.records import FileTask, Reason
from helios_desktop.scan.magic import sniff
from helios_desktop.scan.reader import Skip, preview_kind

DOCS = SAMPLES / "documents"


def read(path: Path, options: ExtractOptions | None = None):
    return read_file(FileTask(os.fsencode(path), -1, -1), 10 << 20, options)


# label, words the evidence summary must name, metadata that must be read
EXPECTED = {
    "energy_report.pdf": ("PDF document", ["Greenhouse Energy Report 2025", "Ingrid Solberg", "2 pages"],
                          {"pages": 2, "title": "Greenhouse Energy Report 2025", "language": "en-GB"}),
    "scanned_invoice.pdf": ("PDF document", ["Scanned", "2 pages, no text layer"], {"text_layer": False}),
    "site_survey.docx": ("Word document", ["Site survey: Birch Lane depot", "Condition of the roof"],
                         {"tables": 1, "comments": 2, "authors": ["Amara Okafor"]}),
    "shop_accounts.xlsx": ("spreadsheet", ["2 sheets", "Invoices (4 rows", "Amount EUR", "Payments"],
                           {"sheets": 2}),
    "onboarding_deck.pptx": ("presentation", ["3 slides", "Safety first", "speaker notes"], {"slides": 3}),
    "garden_newsletter.odt": ("OpenDocument text", ["Spring newsletter", "herb beds"],
                              {"authors": ["Lucy Brennan"]}),
    "committee_minutes.rtf": ("RTF document", ["Minutes of the Allotment Committee", "Margaret Hale"],
                              {"created": "2025-02-11 19:30"}),
    "beekeeping_guide.epub": ("e-book", ["A Small Guide to Beekeeping", "Harriet Moss"], {"chapters": 2}),
    "van_booking.eml": ("email message", ["Omar Haddad", "07 May 2025", "Van booking", "delivery_list.csv"],
                        {"subject": "Van booking for the Thursday delivery"}),
    "changelog.Debian.gz": ("changelog", ["greenhouse-monitor", "2 entries", "2.4.1-1"],
                            {"compression": "gzip"}),
    "depot_project.zip": ("zip archive", ["4 files", "project/"], {"members": 4}),
    "server_backup.tar.gz": ("tar archive", ["3 files", "backup/"], {"members": 3}),
    "allotment_photo.jpg": ("photo", ["Canon EOS 80D", "2025-06-14", "59.9131, 10.7522"],
                            {"camera": "Canon EOS 80D"}),
    "birdsong.wav": ("audio file", ["Blackbird at dawn", "Harriet Moss", "0:02"], {"album": "Garden Sounds"}),
    "library.sqlite": ("SQLite database", ["2 tables", "books (3 rows", "loans (1 row"], {"tables": 2}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_family_reads_its_sample(name):
    label, words, meta = EXPECTED[name]
    doc = read(DOCS / name)
    assert doc.kind == label
    for key, value in meta.items():
        assert doc.meta.get(key) == value, (key, doc.meta)
    got = describe(doc.path, doc.text, doc.kind, doc.hints)
    for word in words:
        assert word in got.summary, (word, got.summary)


def test_the_samples_script_makes_what_is_committed(tmp_path):
    made = {p.name for p in make_samples(tmp_path)}
    committed = {p.name for p in DOCS.iterdir()}
    assert committed <= made | {"salaries_protected.pdf"}  # that one needs qpdf to be made
    for name in made - {"salaries_protected.pdf", "library.sqlite"}:  # qpdf and SQLite add
        assert (tmp_path / name).read_bytes() == (DOCS / name).read_bytes(), name  # ids/dates


def test_a_password_ends_encrypted_and_a_scan_is_described():
    with pytest.raises(Skip) as info:
        read(DOCS / "salaries_protected.pdf")
    assert info.value.reason == Reason.ENCRYPTED and "password" in info.value.detail
    doc = read(DOCS / "scanned_invoice.pdf")
    assert "scanned, 2 pages, no text layer" in doc.meta["notes"]


def test_formats_are_told_by_their_bytes_not_their_names(tmp_path):
    pdf = tmp_path / "scan0042"  # no extension
    pdf.write_bytes(pdf_bytes(REPORT_PAGES, {"Title": "Energy"}))
    renamed = tmp_path / "survey.zip"  # a .docx renamed
    shutil.copy(DOCS / "site_survey.docx", renamed)
    odt = tmp_path / "notes.odt"
    odt.write_bytes(odt_bytes("Notes", "A. Person", [("p", "Some notes about the garden shed.")]))
    assert read(pdf).kind == "PDF document"
    assert read(renamed).kind == "Word document"
    assert read(odt).kind == "OpenDocument text"
    patch = SAMPLES / "code" / "fix-payment-timeout.patch"  # opens like a mailbox; it is a patch
    assert read(patch).kind == "patch"
    for path, expected in ((pdf, "document"), (renamed, "document"), (odt, "document"),
                           (DOCS / "allotment_photo.jpg", "image"), (DOCS / "depot_project.zip", "archive"),
                           (SAMPLES / "code" / "inventory.py", "code"), (SAMPLES / "letters" / "lettre.txt", "text")):
        assert preview_kind(FileTask(os.fsencode(path), -1, -1), 10 << 20) == expected, path
    with open(pdf, "rb") as fh:
        assert sniff(fh.read(8192), "scan0042", fh).family == "pdf"


def test_a_family_turned_off_stays_skipped_and_says_which_setting(tmp_path):
    options = ExtractOptions(formats_off=frozenset({"pdf"}))
    with pytest.raises(Skip) as info:
        read(DOCS / "energy_report.pdf", options)
    assert info.value.reason == Reason.BINARY and "formats_off" in info.value.detail
    assert read(DOCS / "site_survey.docx", options).kind == "Word document"


def test_personal_data_from_document_metadata():
    from helios_desktop.analysis.evidence import personal_findings

    photo = read(DOCS / "allotment_photo.jpg")
    assert [f["kind"] for f in personal_findings(photo)] == ["GPS position"]
    assert personal_findings(photo)[0]["sample"] == "59.913, 10.752"
    report = read(DOCS / "energy_report.pdf")  # the author's address in the text
    assert any(f["kind"] == "e-mail" for f in personal_findings(report))


def test_the_deadline_and_the_memory_bound_are_real():
    with pytest.raises(LimitHit, match="deadline"):
        with deadline(0.2):
            while True:
                pass
    with pytest.raises(LimitHit, match="memory"):
        with memory_bound(64 << 20):
            bytearray(512 << 20)
    bytearray(512 << 20)  # the bound is lifted afterwards


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, make_hostile(folder)


def test_each_hostile_file_is_typed_alone(hostile):
    folder, expected = hostile
    for name, outcome in expected.items():
        try:
            read(folder / name)
            got = "done"
        except Skip as skip:
            got = skip.reason.value
        if outcome == "any":
            assert got in ("done", "corrupt", "limit"), (name, got)
        else:
            assert got == outcome, (name, got)
    assert "zip bomb" in " ".join(read(folder / "bomb.zip").meta["notes"])
    assert read(folder / "nested.zip").meta["nested_archives"] == ["level10.zip"]


def test_hostile_files_end_as_typed_rows_in_a_real_run_while_the_others_finish(hostile, tmp_path):
    folder, expected = hostile
    run = tmp_path / "run"
    shutil.copytree(folder, run)
    shutil.copytree(DOCS, run / "good")
    db = tmp_path / "h.db"
    result = helios("analyze", run, "--db", db, "--model", TINY_MODEL, "--set", "model_fields=[]",
                    timeout=600)
    assert result.returncode == 0, result.stderr
    rows = {os.path.relpath(bytes(r["path"]).decode(), run): r for r in db_rows(db)}
    assert len(rows) == len(expected) + len(list(DOCS.iterdir()))
    for name, outcome in expected.items():
        row = rows[name]
        if outcome == "done":
            assert row["status"] == "done", row
        elif outcome == "any":
            assert row["status"] == "done" or row["reason"] in ("corrupt", "limit"), row
        else:
            assert (row["status"], row["reason"]) == ("skipped", outcome), row
    for name, row in rows.items():
        if name.startswith("good/"):
            want = ("skipped", "encrypted") if name.endswith("salaries_protected.pdf") else ("done", None)
            assert (row["status"], row["reason"]) == want, row
        assert row["reason"] != "worker_lost", row  # no file charged for another's crash


def test_a_parser_that_kills_its_worker_is_a_suspect_alone(tmp_path):
    """The three-strike rule holds for documents: a worker dying on one PDF costs that
    file its row (worker_lost), never the files read beside it."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "poison.pdf").write_bytes(pdf_bytes([["POISON-PILL-21 in a PDF"]]))
    for name in ("site_survey.docx", "energy_report.pdf", "van_booking.eml"):
        shutil.copy(DOCS / name, folder / name)
    env = dict(os.environ, HELIOS_TEST_HOOKS=json.dumps({"exit_on": "POISON-PILL-21"}))
    db = tmp_path / "h.db"
    result = helios("analyze", folder, "--db", db, "--model", TINY_MODEL, "--set", "model_fields=[]",
                    env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = {os.path.basename(bytes(r["path"])).decode(): r for r in db_rows(db)}
    assert (rows["poison.pdf"]["status"], rows["poison.pdf"]["reason"]) == ("failed", "worker_lost")
    assert all(r["status"] == "done" for n, r in rows.items() if n != "poison.pdf"), rows


def test_metadata_is_stored_exported_and_a_new_reader_reads_again(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("energy_report.pdf", "shop_accounts.xlsx"):
        shutil.copy(DOCS / name, folder / name)
    (folder / "notes.txt").write_text("Buy compost and seed trays before Saturday.\n")
    db = tmp_path / "h.db"
    args = ("--db", db, "--model", TINY_MODEL, "--set", "model_fields=[]")
    assert helios("analyze", folder, *args).returncode == 0
    from helios_desktop.store.reader import LedgerReader

    reader = LedgerReader(db)
    run_id = reader.latest_run()
    ids = {os.path.basename(bytes(r["path"])).decode(): r["id"] for r in db_rows(db)}
    meta = reader.metadata(ids["energy_report.pdf"])
    assert meta["title"] == "Greenhouse Energy Report 2025" and meta["pages"] == 2
    assert reader.metadata(ids["notes.txt"]) is None
    # one notion of format for documents and text files alike: the column
    assert reader.overview(run_id)["format"] == {"PDF": 1, "XLSX": 1, "plain text": 1}
    reader.close()
    out = tmp_path / "r.jsonl"
    assert helios("export", "--db", db, "--format", "jsonl", "--out", out).returncode == 0
    exported = {os.path.basename(r["path"]): r for r in map(json.loads, out.read_text().splitlines())}
    assert exported["shop_accounts.xlsx"]["metadata"]["sheets"] == 2
    assert exported["shop_accounts.xlsx"]["format"] == "XLSX"
    assert exported["energy_report.pdf"]["result"]["format"] == "PDF"
    csv_out = tmp_path / "r.csv"
    assert helios("export", "--db", db, "--format", "csv", "--out", csv_out).returncode == 0
    assert "Greenhouse Energy Report 2025" in csv_out.read_text("utf-8-sig")

    # Unchanged files are reused by the same reader ...
    assert helios("analyze", folder, *args).returncode == 0
    assert _reused(db) == 3
    # ... and read again after a run made by an older reader (one that stored PDFs as text).
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET settings = json_set(settings, '$.reader_version', 1)")
    conn.commit()
    conn.close()
    assert helios("analyze", folder, *args).returncode == 0
    assert _reused(db) == 0


def _reused(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT reused FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()


REAL_PDFS = sorted(Path("/usr/share/doc").rglob("*.pdf"))[:6]
REAL_GZ = sorted(Path("/usr/share/doc").rglob("changelog.Debian.gz"))[:10]


@pytest.mark.skipif(not REAL_PDFS or not shutil.which("pdftotext"),
                    reason="needs PDFs in /usr/share/doc and pdftotext (poppler-utils) as the reference")
@pytest.mark.parametrize("path", REAL_PDFS, ids=lambda p: p.name)
def test_real_pdfs_read_as_the_reference_reader_does(path):
    import subprocess

    reference = subprocess.run(["pdftotext", "-l", "1", "-enc", "UTF-8", str(path), "-"],
                               capture_output=True, text=True, timeout=60).stdout
    doc = read(path)
    words = [w for w in reference.split() if len(w) > 5 and w.isalpha()][:20]
    found = sum(1 for w in words if w in doc.text)
    assert found >= 0.8 * len(words), (path, words, doc.text[:500])
    got = describe(doc.path, doc.text, doc.kind, doc.hints)
    assert got.summary and got.keywords


@pytest.mark.skipif(not REAL_GZ, reason="no Debian changelogs on this machine")
def test_real_debian_changelogs_are_changelogs():
    for path in REAL_GZ:
        doc = read(path)
        assert doc.kind == "changelog", path
        package = gzip.decompress(path.read_bytes()).split(b" ", 1)[0].decode()
        summary = describe(doc.path, doc.text, doc.kind, doc.hints).summary
        assert f"Debian changelog of package {package}" in summary, (path, summary)


def test_billion_laughs_docx_is_refused_before_expanding(tmp_path):
    from bench.document_samples import billion_laughs_docx

    path = tmp_path / "laughs.docx"
    billion_laughs_docx(path)
    with pytest.raises(Skip) as info:
        read(path)
    assert info.value.reason == Reason.LIMIT and "DTD" in info.value.detail


def test_a_docx_with_a_large_table_streams(tmp_path):
    """800 rows (python-docx is reported to take minutes on such a table)."""
    rows = [["Row", "Name", "Amount"]] + [[str(i), f"Item {i}", f"{i * 3} EUR"] for i in range(800)]
    path = tmp_path / "big.docx"
    path.write_bytes(docx_bytes("Inventory", [("Title", "Inventory")], rows, [], "A. Person"))
    doc = read(path)
    assert "Item 12 | 36 EUR" in doc.text


SOFFICE = shutil.which("soffice")


@pytest.fixture(scope="module")
def office_files(tmp_path_factory) -> Path:
    """The samples saved again by LibreOffice (installed for tests only, never shipped):
    files written by another tool than the one that reads them."""
    import subprocess

    out = tmp_path_factory.mktemp("libreoffice")
    env = dict(os.environ, HOME=str(out))
    for target, names in (("docx", ["garden_newsletter.odt", "site_survey.docx"]),
                          ("odt", ["site_survey.docx"]), ("xlsx", ["shop_accounts.xlsx"]),
                          ("ods", ["shop_accounts.xlsx"]), ("pptx", ["onboarding_deck.pptx"]),
                          ("odp", ["onboarding_deck.pptx"]), ("pdf", ["site_survey.docx"])):
        subprocess.run([SOFFICE, "--headless", "--convert-to", target, "--outdir", str(out / target),
                        *[str(DOCS / n) for n in names]], env=env, capture_output=True, timeout=300)
    return out


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("rel, label, words", [
    ("docx/garden_newsletter.docx", "Word document", ["Spring newsletter", "herb beds"]),
    ("docx/site_survey.docx", "Word document", ["Site survey: Birch Lane depot", "six roof panels"]),
    ("odt/site_survey.odt", "OpenDocument text", ["Site survey: Birch Lane depot", "six roof panels"]),
    ("xlsx/shop_accounts.xlsx", "spreadsheet", ["2 sheets", "Invoices (4 rows", "Amount EUR"]),
    ("ods/shop_accounts.ods", "spreadsheet", ["2 sheets", "Invoices (4 rows", "Amount EUR"]),
    ("pptx/onboarding_deck.pptx", "presentation", ["3 slides", "Safety first"]),
    ("odp/onboarding_deck.odp", "presentation", ["3 slides", "Safety first"]),
    ("pdf/site_survey.pdf", "PDF document", ["Site survey: Birch Lane depot", "1 page"]),
])
def test_office_files_written_by_libreoffice(office_files, rel, label, words):
    doc = read(office_files / rel)
    assert doc.kind == label
    summary = describe(doc.path, doc.text, doc.kind, doc.hints).summary
    for word in words:
        assert word in summary, (word, summary)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract (tesseract-ocr) is not installed")
def test_ocr_reads_a_scan_where_asked(tmp_path):
    from bench.documents import text_picture

    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf_bytes([text_picture(["Invoice 2025-118", "Birch Lane depot roof repair"])],
                               {"Title": "Scan"}))
    off = read(path)
    assert off.meta["text_layer"] is False and "Birch" not in off.text
    on = read(path, ExtractOptions(ocr="tesseract"))
    assert "Birch Lane" in on.text and "tesseract" in " ".join(on.meta["notes"])


def test_a_mailbox_is_a_list_of_messages(tmp_path):
    messages = []
    for i, (who, day) in enumerate((("Omar Haddad <omar@birchlane.co.uk>", "01 May 2025"),
                                    ("Lucy Brennan <lucy@birchlane.co.uk>", "03 May 2025"),
                                    ("Omar Haddad <omar@birchlane.co.uk>", "09 May 2025"))):
        messages.append(f"From {who.split('<')[1][:-1]} Thu {day} 10:00:00 2025\nFrom: {who}\n"
                        f"To: team@birchlane.co.uk\nDate: Thu, {day} 10:00:00 +0100\n"
                        f"Subject: Depot update {i}\n\nThe roof panels arrive on Thursday.\n")
    path = tmp_path / "team"  # no extension: the bytes say mailbox
    path.write_text("\n".join(messages))
    doc = read(path)
    assert doc.kind == "mailbox" and doc.meta["messages"] == 3
    summary = describe(doc.path, doc.text, doc.kind, doc.hints).summary
    assert "3 messages from 2025-05-01 to 2025-05-09" in summary and "Omar Haddad" in summary


def test_an_archive_is_described_by_its_folders_and_kinds(tmp_path):
    """Seen on real zips: the listing's words ("bytes", "extension files") are no keywords,
    and members without an extension are called so."""
    import zipfile

    path = tmp_path / "release.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("pumpctl/README", "Pump control.\n" * 100)
        z.writestr("pumpctl/valves.py", "def open_valve():\n    return True\n")
    doc = read(path)
    got = describe(doc.path, doc.text, doc.kind, doc.hints)
    assert got.summary == ("Zip archive of 2 files (1.4 KB) in pumpctl/: py files and files "
                           "without an extension.")
    assert got.keywords[0] == "pumpctl" and "bytes" not in got.keywords
