"""Take docs/screenshot.png: the real window under Xvfb, mid-run on a generated corpus.

    xvfb-run -s "-screen 0 1280x860x24" .venv/bin/python scripts/screenshot.py [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(REPO / "models" / "tiny-llama"))
    parser.add_argument("--files", type=int, default=1500)
    parser.add_argument("--after", type=float, default=12.0, help="seconds into the run")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshot.png"))
    args = parser.parse_args()

    import os

    tmp = Path(tempfile.mkdtemp(prefix="helios-shot-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    cfg = tmp / "config" / "helios" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f"model_path: {args.model}\ndatabase: {tmp / 'shot.db'}\nmax_batch_size: 4\n")

    from bench.corpus import generate
    from helios_desktop.gui.qt import QApplication, QTimer

    folder = tmp / "Project archive"
    generate(folder, args.files, seed=7)
    app = QApplication(sys.argv[:1])
    from helios_desktop.gui.mainwindow import MainWindow

    window = MainWindow()
    window.resize(1260, 840)
    window.show()
    window.folder_ready.connect(lambda _r: window.start_run())
    window.set_folder(str(folder))

    def shoot() -> None:
        window.grab().save(args.out)
        print(f"saved {args.out}")
        window.backend.kill()
        QTimer.singleShot(500, app.quit)

    QTimer.singleShot(int(args.after * 1000), shoot)
    app.exec()


if __name__ == "__main__":
    main()
