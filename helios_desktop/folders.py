"""What the command line and the window both say about a folder and a run's progress.

Qt-free, so ``helios analyze`` and the window check a folder the same way, show the
same progress and ETA, and find the same default database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class FolderError(ValueError):
    """A folder that cannot be analyzed; the message says why, naming it."""


def check_folder(path: str | os.PathLike) -> Path:
    """The folder, resolved; FolderError when it is missing, a file or unreadable."""
    p = Path(path)
    if not p.exists():
        raise FolderError(f"folder {p} does not exist")
    if not p.is_dir():
        raise FolderError(f"{p} is not a folder (it is a file): give the folder that holds the files")
    if not os.access(p, os.R_OK | os.X_OK):
        raise FolderError(f"folder {p} cannot be read (permission denied)")
    return p.resolve()


def database_path(settings) -> Path:
    """The configured database, or the per-user default."""
    from .paths import default_database

    return Path(settings.database).expanduser() if settings.database else default_database()


@dataclass(frozen=True)
class Progress:
    """A ``progress`` event, read for people."""

    done: int
    failed: int
    skipped: int
    pending: int
    files_per_second: float
    tokens_per_second: float
    scanning: bool = False

    @classmethod
    def from_event(cls, event: dict) -> Progress:
        return cls(event.get("done", 0), event.get("failed", 0), event.get("skipped", 0),
                   event.get("pending", 0), event.get("files_per_second", 0.0),
                   event.get("tokens_per_second", 0.0), bool(event.get("scanning")))

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def total(self) -> int:
        return self.finished + self.pending

    @property
    def eta_seconds(self) -> int | None:
        """Seconds left at the current rate; None while scanning, idle or finished."""
        if self.scanning or self.files_per_second <= 0 or not self.pending:
            return None
        return int(self.pending / self.files_per_second)

    def eta_text(self) -> str:
        """"ETA 3m 05s", "scanning", or "" when there is nothing to estimate."""
        if self.scanning:
            return "scanning"
        secs = self.eta_seconds
        if secs is None:
            return ""
        return f"ETA {secs // 60}m {secs % 60:02d}s"
