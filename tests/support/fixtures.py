"""Fixtures shared by every test folder: a ledger (windows: support/gui.py; runs:
support/runs.py); tests get them here, never from another test file (napari's make_napari_viewer)."""

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:  # conftest, servers and endpoint_proxy live there
    sys.path.insert(0, str(TESTS))


@pytest.fixture
def ledger(tmp_path):
    """A fresh ledger (the one writer) in tmp_path, closed after the test."""
    from helios_desktop.store.ledger import Ledger

    led = Ledger(tmp_path / "ledger.db")
    yield led
    led.close()

