"""The Results tab: the filters, the table of the run on screen and its count line."""

from __future__ import annotations

from ..analysis.quality import QUALITY_CHOICES
from ..analysis.schema import CATEGORIES
from .detail import DetailPane
from .qt import QHeaderView, QObject, Qt, pyqtSignal
from .results import ResultsModel
from .session import Session

STATUSES = ["", "done", "failed", "skipped", "pending", "leased"]


class ResultsTab(QObject):
    """Owns the filter row, resultsView with its ResultsModel, countLabel and the detail pane."""

    reveal = pyqtSignal()   # asks for the Results tab to be shown

    def __init__(self, form, session: Session, parent=None):
        super().__init__(parent)
        self.form, self.session = form, session
        self.model = ResultsModel(self)
        self.detail = DetailPane(form, session, self)
        f = form
        view = f.resultsView
        view.setModel(self.model)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # Rows come in the order files were found: no column shows a sort arrow until the
        # person sorts by one.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
        view.setColumnWidth(0, 300)
        view.setColumnWidth(4, 340)
        view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._results_changed)
        f.resultsSplitter.setStretchFactor(0, 3)
        f.resultsSplitter.setStretchFactor(1, 2)
        f.statusCombo.addItems(["all statuses"] + STATUSES[1:])
        f.categoryCombo.addItems(["all categories", *CATEGORIES])
        for label, key in QUALITY_CHOICES:
            f.qualityCombo.addItem(label, key)
        f.filterEdit.textChanged.connect(self._apply_filters)
        f.statusCombo.currentIndexChanged.connect(self._apply_filters)
        f.categoryCombo.currentIndexChanged.connect(self._apply_filters)
        f.qualityCombo.currentIndexChanged.connect(self._apply_filters)
        self._extra_filter = ("", "")  # (language, format or extension, value) from the Overview
        f.extraFilterButton.clicked.connect(self._clear_extra_filter)
        f.actionFind.triggered.connect(self.find)
        session.folder_changed.connect(self._folder_changed)
        session.shown_run_changed.connect(self._show_run)

    # -- which run ------------------------------------------------------------------------------

    def _folder_changed(self, _folder: str) -> None:
        self._extra_filter = ("", "")  # an Overview click on another folder's bar
        self.model.query = self.model.query.with_(language="", extension="", format="")
        self.form.extraFilterButton.setVisible(False)

    def _show_run(self) -> None:
        s = self.session
        if s.shown_run is None:
            self.model.clear()
        elif s.shown_run == self.model.run_id and self.model.reader is not None:
            self.model.refresh()  # new rows of the same run
        else:
            self.model.open(s.database, s.shown_run, s.folder)

    # -- filters --------------------------------------------------------------------------------

    def _apply_filters(self) -> None:
        f = self.form
        status = f.statusCombo.currentText() if f.statusCombo.currentIndex() > 0 else ""
        category = f.categoryCombo.currentText() if f.categoryCombo.currentIndex() > 0 else ""
        extra = self._extra_filter
        self.model.set_filters(f.filterEdit.text(), status, category,
                               language=extra[1] if extra[0] == "language" else "",
                               extension=extra[1] if extra[0] == "extension" else "",
                               quality=f.qualityCombo.currentData() or "",
                               format=extra[1] if extra[0] == "format" else "")
        f.extraFilterButton.setVisible(bool(extra[0]))
        f.extraFilterButton.setText(f"{extra[0]}: {extra[1]}  ✕" if extra[0] else "")

    def _clear_extra_filter(self) -> None:
        self._extra_filter = ("", "")
        self._apply_filters()

    def filter_on(self, field: str, value: str) -> None:
        """Show this tab filtered on one status, category, language, format or extension (a click
        on an Overview bar)."""
        f = self.form
        if field == "status":
            f.statusCombo.setCurrentText(value)
        elif field == "category":
            f.categoryCombo.setCurrentText(value)
        else:
            self._extra_filter = (field, value)
            self._apply_filters()
        self.reveal.emit()

    def find(self) -> None:
        self.reveal.emit()
        self.form.filterEdit.setFocus()
        self.form.filterEdit.selectAll()

    # -- the table ------------------------------------------------------------------------------

    def _results_changed(self) -> None:
        """After a refresh or a filter: the count line, and no detail of a row gone."""
        f = self.form
        shown, total = self.model.rowCount(), self.model.total
        if self.model.reader is None or total == 0:
            f.countLabel.setText("")
        elif shown == 0:
            f.countLabel.setText(f"nothing matches (of {total:,})")
        else:
            f.countLabel.setText(f"{shown:,} of {total:,}" if self.model.filtered
                                 else f"{total:,} files")
        self._current_changed(f.resultsView.currentIndex())

    def _current_changed(self, current, _previous=None) -> None:
        info = self.model.details(current.row()) if current.isValid() else None
        self.detail.show(info, self.model.relative(info["path"]) if info else "")
