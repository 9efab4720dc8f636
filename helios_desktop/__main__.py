"""`python -m helios_desktop`: the `helios` command line."""

import sys

from .cli import main

sys.exit(main())
