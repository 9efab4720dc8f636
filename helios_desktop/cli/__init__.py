"""The ``helios`` command line: one module per command (``cmd_*.py``), ``main`` in main.py."""

from .main import build_parser, main  # noqa: F401
