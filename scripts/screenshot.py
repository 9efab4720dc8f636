"""Take the README's screenshots: the real window under Xvfb, on a generated corpus.

    xvfb-run -s "-screen 0 1440x960x24" .venv/bin/python scripts/screenshot.py [--model DIR]

docs/screenshot.png is the Live tab mid-run; after the run completes,
docs/screenshot-overview.png is the Overview tab and docs/screenshot-results.png the
Results tab with one document's fields and metadata. With --chooser, only docs/screenshot-chooser.png:
File › Choose Model with this machine's catalog and the model servers running here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PERSONAL = {  # a few files that hold (validated) personal data, for the Overview tab
    "hr/offer-letter.txt": "Offer for Jane Roe\nReply to jane.roe@acme-corp.de by Friday.\n",
    "finance/supplier-bank.txt": "Supplier payment details\nIBAN DE89 3704 0044 0532 0130 00\n",
    "support/ticket-4711.txt": "Caller: +44 20 7946 0958\nAsked about the late delivery.\n",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(REPO / "models" / "tiny-llama"))
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--after", type=float, default=6.0,
                        help="seconds after the first file is finished (a workers: auto "
                             "calibration before the run does not count)")
    parser.add_argument("--docs", default=str(REPO / "docs"))
    parser.add_argument("--size", default="1280x860", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--chooser", action="store_true", help="only the model chooser")
    args = parser.parse_args()

    import os

    tmp = Path(tempfile.mkdtemp(prefix="helios-shot-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    cfg = tmp / "config" / "helios" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f"model_path: {args.model}\ndatabase: {tmp / 'shot.db'}\nmax_batch_size: 4\n"
                   "max_output_tokens: 1200\nmax_input_tokens: 256\n")

    from bench.corpus import generate
    from helios_desktop.gui.qt import QApplication, QTimer

    folder = tmp / "Project archive"
    generate(folder, args.files, seed=7)
    for name, text in PERSONAL.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    import shutil  # the project's sample documents: PDF, Office, mail, a photo, archives

    shutil.copytree(REPO / "resources" / "samples" / "documents", folder / "documents")
    app = QApplication(sys.argv[:1])
    from helios_desktop.gui.mainwindow import MainWindow

    docs = Path(args.docs)
    window = MainWindow()
    window.resize(*map(int, args.size.split("x")))
    window.show()
    if args.chooser:
        shoot_chooser(app, window, docs / "screenshot-chooser.png")
        return
    window.folder_ready.connect(lambda _r: window.start_run())
    window.set_folder(str(folder))

    def save(name: str) -> None:
        window.grab().save(str(docs / name))
        print(f"saved {docs / name}")

    def mid_run() -> None:
        window.form.tabs.setCurrentWidget(window.form.liveTab)
        QTimer.singleShot(300, lambda: save("screenshot.png"))

    def finished(code: int, _err: str) -> None:
        f = window.form
        f.tabs.setCurrentWidget(f.overviewTab)
        QTimer.singleShot(500, lambda: (save("screenshot-overview.png"), results()))

    def results() -> None:
        f = window.form
        f.tabs.setCurrentWidget(f.resultsTab)
        f.filterEdit.setText("energy_report")  # a PDF: its fields and what was read of it
        f.resultsView.selectRow(0)
        QTimer.singleShot(500, lambda: (save("screenshot-results.png"), app.quit()))

    window.backend_exited.connect(finished)

    def wait_for_progress() -> None:
        if window.form.progressBar.value() > 0:
            QTimer.singleShot(int(args.after * 1000), mid_run)
        else:
            QTimer.singleShot(200, wait_for_progress)

    wait_for_progress()
    app.exec()
    window.close()


def shoot_chooser(app, window, out: Path) -> None:
    """The chooser once its catalog is read and the probe has answered."""
    import time

    chooser = window.first_run.open_chooser()
    chooser.hide()  # laid out again at the size of the shot
    chooser.resize(900, 720)
    chooser.show()
    deadline = time.monotonic() + 30
    while chooser.loads and time.monotonic() < deadline:
        app.processEvents()
    table = chooser.form.catalogTable
    fitting = [r for r in range(table.rowCount()) if chooser.entries[r]["fits"]]
    if fitting:
        table.selectRow(fitting[0])
    for _ in range(20):
        app.processEvents()
    chooser.grab().save(str(out))
    print(f"saved {out}")
    chooser.close()
    window.close()


if __name__ == "__main__":
    main()
