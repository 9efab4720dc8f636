"""The typed records that flow through a run: files to analyze and their results.

File paths are kept as ``bytes`` (``os.fsencode``) end to end, so names that are
not valid UTF-8 survive the database and the export unchanged; ``display_path``
renders them for people with backslash escapes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PENDING = "pending"
    LEASED = "leased"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class Reason(enum.StrEnum):
    """Typed reasons for a file that ends ``skipped`` or ``failed``."""

    # skipped: the file cannot be analyzed as text
    NOT_REGULAR = "not_regular"
    PERMISSION = "permission"
    VANISHED = "vanished"
    TOO_LARGE = "too_large"
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    SYMLINK_LOOP = "symlink_loop"
    EXCLUDED = "excluded"
    EMPTY = "empty"
    READ_ERROR = "read_error"
    # failed: the analysis itself went wrong
    BAD_OUTPUT = "bad_output"
    OOM = "oom"
    ENGINE_ERROR = "engine_error"
    WORKER_LOST = "worker_lost"


def display_path(path: bytes) -> str:
    """A printable form of a bytes path: invalid UTF-8 bytes appear as ``\\xNN``."""
    return path.decode("utf-8", errors="backslashreplace")


@dataclass(slots=True)
class FileTask:
    """One file found by the scanner, before or after its text was read."""

    path: bytes
    size: int
    mtime_ns: int
    skip: Reason | None = None
    detail: str = ""

    @property
    def display(self) -> str:
        return display_path(self.path)


@dataclass(slots=True)
class Document:
    """A file's text, ready for the prompt."""

    path: bytes
    kind: str  # short label such as "python source" or "text"
    text: str
    replaced_bytes: bool = False
    hints: dict[str, Any] = field(default_factory=dict)
    size: int | None = None      # from the reader's fstat
    mtime_ns: int | None = None


@dataclass(slots=True)
class AnalysisResult:
    """What the engine returns for one document."""

    path: bytes
    status: Status
    data: dict[str, Any] | None = None
    raw_output: str = ""
    reason: Reason | None = None
    message: str = ""
    prompt_tokens: int = 0
    generated_tokens: int = 0
    inference_seconds: float = 0.0
    decided_by: dict[str, str] = field(default_factory=dict)
    evidence: list[dict] | None = None  # what flagged personal data (kind, line, masked sample)
    size: int | None = None      # as read, when the scan did not stat the file
    mtime_ns: int | None = None
