"""The Results tab: the filters, the table of the run on screen and its count line."""

from __future__ import annotations

from ..analysis.quality import QUALITY_CHOICES
from ..analysis.schema import CATEGORIES
from .detail import DetailPane
from .qt import QEvent, QHeaderView, QKeySequence, QObject, Qt, pyqtSignal
from .results import ResultsModel, status_label
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
        self._widths_for: tuple[str, ...] = ()
        self._set_widths()
        view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._results_changed)
        # The splitter's share (table 60%, detail pane 40%, at most 260 px) holds at every
        # window size until the person drags it (see eventFilter).
        self._split_by_hand = False
        f.resultsSplitter.splitterMoved.connect(lambda *_: setattr(self, "_split_by_hand", True))
        f.resultsSplitter.installEventFilter(self)
        # At 640x480 the table keeps several rows: rows one text line high, and a detail
        # pane that shrinks to its title and buttons (its fields scroll).
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
        f.detailFields.setMinimumHeight(24)  # its header: the rows scroll
        f.resultsSplitter.setChildrenCollapsible(False)
        for combo in (f.statusCombo, f.categoryCombo, f.qualityCombo):
            combo.setSizeAdjustPolicy(combo.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        f.statusCombo.addItem("all statuses", "")
        for status in STATUSES[1:]:
            f.statusCombo.addItem(status_label(status), status)
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
        # A line edit claims some Ctrl keys for itself (Ctrl+E: end of line on X11), which
        # would swallow the window's shortcuts while the cursor is in the filter box.
        self._window_keys = [f.actionExportCsv, f.actionFind, f.actionOpenFolder, f.actionQuit]
        f.filterEdit.installEventFilter(self)
        session.folder_changed.connect(self._folder_changed)
        session.shown_run_changed.connect(self._show_run)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.form.resultsSplitter:
            if event.type() == QEvent.Type.Resize and not self._split_by_hand:
                self._share_splitter(event.size().height())
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            pressed = QKeySequence(event.keyCombination())
            if any(a.shortcut() == pressed and a.isEnabled() for a in self._window_keys):
                event.ignore()  # not the line edit's: the window's action takes it
                return True
        return False

    def _share_splitter(self, height: int) -> None:
        # From the splitter's own sizes (sizeHints) the detail pane would keep 240 px and
        # leave the table one row at 640x480.
        # Below 300 px the table comes first: the detail pane keeps its least height.
        least = self.form.detailPane.minimumSizeHint().height()
        detail = max(least, 0 if height < 300 else min(int(height * 0.4), 260))
        self.form.resultsSplitter.setSizes([max(0, height - detail), detail])

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
        status = f.statusCombo.currentData() or ""
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
            f.statusCombo.setCurrentIndex(max(0, f.statusCombo.findData(value)))
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

    def _set_widths(self) -> None:
        """The path and the summary wide, wherever the columns put them (a format column, a
        custom schema's fields); once per set of columns, so a person's widths stay."""
        names = tuple(c.name for c in self.model.columns)
        if names == self._widths_for:
            return
        self._widths_for = names
        view = self.form.resultsView
        for col, name in enumerate(names):
            view.setColumnWidth(col, {"path": 300, "summary": 340}.get(name, 100))

    def _results_changed(self) -> None:
        """After a refresh or a filter: the count line, and no detail of a row gone."""
        self._set_widths()
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
