"""Documents in the window (issue 21): the Results detail shows what the extractor read of
a document (title, authors, pages, GPS position, its notes) beside the result's fields."""

import shutil

from support.gui import open_folder, run

from conftest import SAMPLES

# No field is the model's: the window runs the evidence alone, with no model to build.
EVIDENCE_CONFIG = "model_fields: []\n"


def detail_of(window, name: str) -> dict[str, tuple[str, str]]:
    window.form.filterEdit.setText(name)
    assert window.results.model.rowCount() == 1, name
    window.form.resultsView.selectRow(0)
    fields = window.form.detailFields
    return {fields.item(r, 0).text(): (fields.item(r, 1).text(), fields.item(r, 2).text())
            for r in range(fields.rowCount())}


def test_the_detail_shows_a_documents_metadata(qtbot, make_window, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("energy_report.pdf", "allotment_photo.jpg", "shop_accounts.xlsx",
                 "scanned_invoice.pdf"):
        shutil.copy(SAMPLES / "documents" / name, folder / name)
    (folder / "note.txt").write_text("The depot opens at eight on weekdays.\n")
    window = make_window(EVIDENCE_CONFIG)
    open_folder(qtbot, window, folder)
    run(qtbot, window)

    pdf = detail_of(window, "energy_report")
    assert pdf["title"] == ("Greenhouse Energy Report 2025", "document")
    assert pdf["authors"][0] == "Ingrid Solberg" and pdf["pages"][0] == "2"
    assert pdf["format"] == ("PDF", "evidence")  # the result's field, not repeated
    assert "Greenhouse Energy Report 2025" in window.form.detailText.toPlainText()

    photo = detail_of(window, "allotment_photo")
    assert photo["GPS position"][0] == "59.91306, 10.75222"
    assert photo["camera"][0] == "Canon EOS 80D"
    assert photo["contains personal data"][0].startswith("yes: GPS position")

    sheet = detail_of(window, "shop_accounts")
    assert sheet["sheets"][0] == "2" and sheet["sheet contents"][0].startswith("Invoices (")

    scan = detail_of(window, "scanned_invoice")
    assert scan["extractor notes"][0] == "scanned, 2 pages, no text layer"

    text = detail_of(window, "note.txt")  # a text file has no document rows
    assert not any(decided == "document" for _value, decided in text.values())
