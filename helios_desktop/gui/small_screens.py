"""Small screens: tab pages that scroll instead of setting the window's least size.

At 640x480 the Live charts and the Overview's charts and tables together need more height
than the window has; held by their tab pages directly, they either force the window larger
than the screen or are drawn over each other. In a scroll area each keeps its own least
size and the page scrolls.
"""

from __future__ import annotations

from .qt import QFrame, QScrollArea, QVBoxLayout, QWidget


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that stretches it to its width and height.

    What goes in must not wrap text: a word-wrapped label makes the area size its contents
    by their preferred height for the width, which scrolls even where everything fits."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def scroll_page(page: QWidget) -> QScrollArea:
    """Move the widgets of tab page ``page`` into a scroll area that fills the page."""
    layout = page.layout()
    inner = QWidget()
    inner_layout = QVBoxLayout(inner)
    inner_layout.setContentsMargins(0, 0, 0, 0)
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            inner_layout.addWidget(item.widget())
        elif item.layout() is not None:
            inner_layout.addLayout(item.layout())
        else:
            inner_layout.addItem(item)
    area = scrolled(inner)
    layout.addWidget(area)
    return area


def compact_drop_zone(zone: QWidget) -> None:
    """Once a folder is open the drop zone only names it: its text's height is enough,
    and the room goes to the tabs (the Results table above all)."""
    zone.setMinimumHeight(0)
