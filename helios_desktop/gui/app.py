"""`helios gui [FOLDER]`: the desktop application's entry point."""

from __future__ import annotations

import sys

from ..resources import resource_path
from .qt import QApplication, QIcon, QTimer


def main(folder: str | None = None, exit_when_ready: bool = False,
         analyze_and_exit: bool = False) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Helios")
    app.setOrganizationName("Helios")
    app.setWindowIcon(QIcon(str(resource_path("helios.svg"))))
    from .mainwindow import MainWindow

    window = MainWindow()
    window.show()
    opened = bool(folder) and window.set_folder(folder)

    def ready() -> None:
        print("helios: window ready", flush=True)
        if window.last_message:
            print(f"helios: the window says: {window.last_message}", flush=True)
        if exit_when_ready:
            window.close()
            app.quit()

    if analyze_and_exit and folder:
        # Bundle smoke test: analyze the folder through the window's backend, then quit
        # with the backend's exit code.
        window.folder_ready.connect(lambda _r: window.start_run())
        window.backend_exited.connect(lambda code, _err: (window.close(),
                                                          app.exit(0 if code == 0 else 1)))
        QTimer.singleShot(0, lambda: print("helios: window ready", flush=True))
    elif exit_when_ready and opened:
        window.folder_ready.connect(ready)  # the pre-scan finished too
    else:
        QTimer.singleShot(0, ready)
    return app.exec()
