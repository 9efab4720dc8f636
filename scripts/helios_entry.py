"""Entry point of the desktop bundle: `Helios` alone opens the window."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # first: worker processes start through here
    from helios_desktop.cli import main

    sys.exit(main())
