"""`helios gui [FOLDER]`: the desktop application's entry point."""

from __future__ import annotations

import sys

from .qt import QApplication


def main(folder: str | None = None, exit_when_ready: bool = False) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Helios")
    app.setOrganizationName("Helios")
    from .mainwindow import MainWindow

    window = MainWindow()
    window.show()
    if folder:
        window.set_folder(folder)

    def ready() -> None:
        print("helios: window ready", flush=True)
        if exit_when_ready:
            window.close()
            app.quit()

    if exit_when_ready and folder:
        window.folder_ready.connect(ready)  # the pre-scan finished too
    else:
        from .qt import QTimer

        QTimer.singleShot(0, ready)
    return app.exec()
