"""One way to find the files Helios ships (config, forms, styles, icons, samples).

Works from a source checkout, an installed wheel (the files are package data
under ``helios_desktop/_data``) and a PyInstaller bundle (``sys._MEIPASS``).
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _roots() -> list[Path]:
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle))
    roots.append(_PACKAGE / "_data")
    roots.append(_PACKAGE.parent)  # source checkout: resources/ and ui/ beside the package
    return roots


def resource_path(name: str, folder: str = "resources") -> Path:
    """Absolute path of a shipped file such as ``resource_path("default_config.yaml")``."""
    for root in _roots():
        candidate = root / folder / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"shipped file {folder}/{name} is missing; reinstall Helios")

