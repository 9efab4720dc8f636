"""The Overview tab: a run at a glance (bar charts and the files worth a look).

Counts by status, category, natural language, format and kind are horizontal bar charts; a click on a
bar asks the window to filter the Results tab on it. Below, the largest files, the
failed ones with their reason, and those flagged for personal data with the evidence.
"""

from __future__ import annotations

from .prescan import human_bytes
from .results import status_label
from .qt import (QGroupBox, QHBoxLayout, QHeaderView, QObject, QSplitter, Qt, QTableWidget,
                 QTableWidgetItem, QVBoxLayout, QWidget, pg, pyqtSignal)
from .results import folder_root, relative_path
from .session import Session
from .small_screens import scrolled

CHARTS = (("status", "Status"), ("category", "Category"), ("language", "Language"),
          ("format", "Format"), ("kind", "Kind (extension)"))
# Which Results filter a bar of each chart sets.
FILTER_FIELD = {"status": "status", "category": "category", "language": "language",
                "format": "format", "kind": "extension"}
COLOURS = {"done": "#3a9a5b", "failed": "#d0453b", "skipped": "#a0a7b0", "pending": "#e0a030",
           "leased": "#e0a030"}


class OverviewPanel(QWidget):
    filter_requested = pyqtSignal(str, str)   # field (status, category, language, format, extension)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # Charts above, tables below, in a splitter: each keeps its least height, so the
        # tables are never drawn over the charts (the tab page scrolls instead).
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        layout.addWidget(self.splitter)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumHeight(220)
        self.splitter.addWidget(self.graphics)
        self.plots: dict[str, object] = {}
        self.labels: dict[str, list[str]] = {key: [] for key, _ in CHARTS}
        for key, title in CHARTS:
            plot = pg.PlotItem(title=title)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.getAxis("bottom").setLabel("files")
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            plot.invertY(True)
            self.plots[key] = plot
        self.columns = 0
        self._place_charts(len(CHARTS))
        for key, plot in self.plots.items():
            plot.scene().sigMouseClicked.connect(
                lambda event, key=key, plot=plot: self._clicked(key, plot, event))
        tables = QWidget()
        row = QHBoxLayout(tables)
        row.setContentsMargins(0, 0, 0, 0)
        self.splitter.addWidget(tables)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.tables, self.boxes, self.titles = {}, {}, {}
        for key, title, headers in (
                ("largest", "Largest files", ["File", "Size"]),
                ("failed", "Failed files", ["File", "Reason"]),
                ("personal", "Personal data (evidence)", ["File", "Evidence"])):
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            table = QTableWidget(0, len(headers))
            table.setHorizontalHeaderLabels(headers)
            table.verticalHeader().setVisible(False)
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            inner.addWidget(table)
            table.setMinimumHeight(90)  # a header and two rows at least
            row.addWidget(box)
            self.tables[key], self.boxes[key], self.titles[key] = table, box, title
        self.data: dict | None = None

    def _place_charts(self, columns: int) -> None:
        """The charts in one row, or in rows of two where one row would clip them."""
        if columns == self.columns:
            return
        self.columns = columns
        layout = self.graphics.ci
        for plot in self.plots.values():
            if plot in layout.items:
                layout.removeItem(plot)
        for i, plot in enumerate(self.plots.values()):
            layout.addItem(plot, row=i // columns, col=i % columns)
        rows = -(-len(CHARTS) // columns)
        # stacked, a chart gets the height its ten labels need (the panel scrolls)
        self.graphics.setMinimumHeight(220 if rows == 1 else 300 * rows)

    def resizeEvent(self, event) -> None:
        # Each chart needs ~220 px for its labels and bars; below that they are clipped.
        self._place_charts(len(CHARTS) if event.size().width() >= 220 * len(CHARTS) else 2)
        super().resizeEvent(event)

    def clear(self) -> None:
        self.data = None
        for key, plot in self.plots.items():
            plot.clear()
            self.labels[key] = []
        for key, table in self.tables.items():
            table.setRowCount(0)
            self.boxes[key].setTitle(self.titles[key])

    def show_overview(self, data: dict, relative) -> None:
        """Draw ``LedgerReader.overview`` output; ``relative`` turns a path into its text."""
        self.clear()
        self.data = data
        for key, _title in CHARTS:
            counts = data.get(key) or {}
            names = list(counts)
            self.labels[key] = names
            plot = self.plots[key]
            if not names:
                text = pg.TextItem("nothing yet", color="#888", anchor=(0.5, 0.5))
                text.setPos(0.5, 0.5)
                plot.addItem(text)
                continue
            values = [counts[n] for n in names]
            brushes = [pg.mkBrush(COLOURS.get(n, "#2f7be5")) for n in names]
            plot.addItem(pg.BarGraphItem(x0=0, y=list(range(len(names))), height=0.7,
                                         width=values, brushes=brushes))
            shown = status_label if key == "status" else str
            plot.getAxis("left").setTicks([[(i, f"{_short(shown(n))} ({counts[n]:,})")
                                            for i, n in enumerate(names)]])
            plot.setXRange(0, max(values) * 1.05, padding=0)
            plot.setYRange(-0.6, len(names) - 0.4, padding=0)
        self._fill("largest", [(relative(p), human_bytes(size)) for p, size in data["largest"]])
        self._fill("failed", [(relative(p), f"{reason}: {message}" if message else reason)
                              for p, reason, message in data["failed"]])
        self._fill("personal", [(relative(p), evidence) for p, evidence in data["personal"]])
        if data.get("public_contacts"):  # maintainers in copyright files: not personal data
            box = self.boxes["personal"]
            box.setTitle(f"{box.title()}; {data['public_contacts']:,} more with public contacts only")

    def _fill(self, key: str, rows: list[tuple[str, str]]) -> None:
        table = self.tables[key]
        box = self.boxes[key]
        box.setTitle(f"{self.titles[key]} ({len(rows):,})")
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(r, c, item)

    def click_bar(self, chart: str, index: int) -> None:
        """Filter the Results tab on bar ``index`` of ``chart``."""
        names = self.labels.get(chart) or []
        if 0 <= index < len(names):
            value = names[index]
            if chart == "kind" and value == "(none)":
                return
            self.filter_requested.emit(FILTER_FIELD[chart], value)

    def _clicked(self, key: str, plot, event) -> None:
        if not plot.sceneBoundingRect().contains(event.scenePos()):
            return
        point = plot.vb.mapSceneToView(event.scenePos())
        self.click_bar(key, int(round(point.y())))


class OverviewTab(QObject):
    """Puts the session's run on screen in an OverviewPanel (overviewHost) and overviewLabel."""

    def __init__(self, form, session: Session, parent=None):
        super().__init__(parent)
        self.form, self.session = form, session
        self.panel = OverviewPanel()
        layout = QVBoxLayout(form.overviewHost)
        layout.setContentsMargins(0, 0, 0, 0)
        # Scrolled at 640x480 rather than drawn over itself (small_screens.py).
        layout.addWidget(scrolled(self.panel))
        session.shown_run_changed.connect(self.refresh)

    def refresh(self) -> None:
        run_id, folder = self.session.shown_run, self.session.folder
        if run_id is None:
            self.panel.clear()
            self.form.overviewLabel.setText("Open a folder to see its results at a glance.")
            return
        reader = self.session.reader()
        try:
            data = reader.overview(run_id, folder)
        finally:
            reader.close()
        root = folder_root(folder) if folder else b""
        self.panel.show_overview(data, lambda path: relative_path(root, path))
        self.form.overviewLabel.setText(
            f"Run {run_id}: {data['total']:,} files. Click a bar to see those files in Results.")


def _short(label: str, width: int = 18) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
