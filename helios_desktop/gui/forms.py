"""Designer forms and the style sheet, loaded through the one resource lookup."""

from __future__ import annotations

from functools import cache

from ..resources import resource_path
from .qt import uic


@cache
def form_class(name: str):
    """The generated form class of ``ui/NAME.ui`` (held by composition, not inherited)."""
    form, _base = uic.loadUiType(str(resource_path(f"{name}.ui", "ui")))
    return form


def style_sheet() -> str:
    return resource_path("style.qss", "ui").read_text("utf-8")
