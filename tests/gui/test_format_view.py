"""The format in the window, offscreen, after a real run on the tiny model: a Results
column, the detail pane, and an Overview chart whose bars filter the Results."""

import shutil

from PyQt6.QtCore import Qt

from conftest import SAMPLES
from support.gui import open_folder, run


def test_the_window_shows_each_files_format(qtbot, window, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SAMPLES / "documents" / "energy_report.pdf", folder / "energy_report.pdf")
    (folder / "late.py").write_text('"""Print the late deliveries."""\n\nprint(1)\n')
    (folder / "note.txt").write_text("Dear Jo, the tulips by the fence are in bloom again. "
                                     "Come and see them with the children this weekend.\n")
    open_folder(qtbot, window, folder)
    run(qtbot, window)
    model = window.results.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers.index("Format") == headers.index("Language") + 1
    cells = {model.data(model.index(r, 0)): {h: model.data(model.index(r, c))
                                             for c, h in enumerate(headers)}
             for r in range(model.rowCount())}
    assert {name: row["Format"] for name, row in cells.items()} == {
        "energy_report.pdf": "PDF", "late.py": "Python", "note.txt": "plain text"}
    assert not cells["late.py"]["Language"] and cells["note.txt"]["Language"] == "English"

    # the detail pane: the format and who decided it
    window.form.resultsView.selectRow(list(cells).index("late.py"))
    fields = window.form.detailFields
    row = next(r for r in range(fields.rowCount()) if fields.item(r, 0).text() == "format")
    assert (fields.item(row, 1).text(), fields.item(row, 2).text()) == ("Python", "evidence")

    # the Overview's format chart, and a bar click filters the Results on it
    panel = window.overview.panel
    assert panel.data["format"] == {"PDF": 1, "Python": 1, "plain text": 1}
    panel.click_bar("format", panel.labels["format"].index("PDF"))
    assert window.form.tabs.currentWidget() is window.form.resultsTab
    assert model.rowCount() == 1 and model.data(model.index(0, 0)) == "energy_report.pdf"
    assert window.form.extraFilterButton.text().startswith("format: PDF")
    window.form.extraFilterButton.click()
    assert model.rowCount() == 3
