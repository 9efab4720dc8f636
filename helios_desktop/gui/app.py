"""`helios gui [FOLDER]`: the desktop application's entry point."""

from __future__ import annotations

import sys

from .qt import QApplication


def main(folder: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Helios")
    app.setOrganizationName("Helios")
    from .mainwindow import MainWindow

    window = MainWindow()
    window.show()
    if folder:
        window.set_folder(folder)
    return app.exec()
