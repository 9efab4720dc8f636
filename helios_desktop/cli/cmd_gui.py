"""`helios gui` (and `helios FOLDER`): open the desktop window."""

from __future__ import annotations

import os

from .common import CliError


def run(args) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")):
        raise CliError("no display to open the window on (DISPLAY is not set); "
                       "use `helios analyze FOLDER` on a machine without a screen")
    try:
        from ..gui.app import main as gui_main
    except ImportError as exc:
        raise CliError(f"the desktop window needs PyQt6 and pyqtgraph ({exc}); "
                       "install them with: pip install 'helios-desktop[gui]'") from None
    # A folder that is missing or is a file opens the window with the message (a
    # desktop launcher shows no stderr).
    return gui_main(args.folder, exit_when_ready=args.exit_when_ready,
                    analyze_and_exit=args.analyze_and_exit)



def register(sub, common) -> None:
    p = sub.add_parser("gui", help="open the desktop window")
    p.add_argument("folder", nargs="?")
    p.add_argument("--exit-when-ready", action="store_true",
                   help="print 'window ready' once the window is up, then quit (smoke tests)")
    p.add_argument("--analyze-and-exit", action="store_true",
                   help="analyze FOLDER through the window, then quit (bundle smoke test)")
    p.set_defaults(func=run)
