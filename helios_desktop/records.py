"""The typed records that flow through a run: files to analyze and their results.

File paths are kept as ``bytes`` (``os.fsencode``) end to end, so names that are
not valid UTF-8 survive the database and the export unchanged; ``display_path``
renders them for people with backslash escapes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


# The built-in schema's fields a model may be asked to decide (the ``model_fields``
# setting); the evidence decides the others, and these where the model is not asked.
MODEL_FIELDS = ("summary", "keywords", "category", "language")


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
    # skipped: a document that cannot be read (helios_desktop/extract)
    ENCRYPTED = "encrypted"    # a password is needed
    CORRUPT = "corrupt"        # the format's parser refused it (its message is kept)
    LIMIT = "limit"            # a bound was hit (size, ratio, deadline, memory, xml); named
    # failed: the analysis itself went wrong
    BAD_OUTPUT = "bad_output"
    OOM = "oom"
    ENGINE_ERROR = "engine_error"
    WORKER_LOST = "worker_lost"


def display_path(path: bytes) -> str:
    """A printable form of a bytes path: invalid UTF-8 bytes appear as ``\\xNN``."""
    return path.decode("utf-8", errors="backslashreplace")


UNKNOWN = -1  # size or mtime not read at scan time; the reader's fstat fills them in


@dataclass(slots=True)
class FileTask:
    """A file, the one form it has from the scanner to the worker.

    The scanner makes it (with ``skip`` set when it cannot be analyzed); the ledger
    hands it out with its row id and attempts when it is leased; it crosses the
    worker's pipe as is, and the worker reads it. Results come back by ``file_id``.
    """

    path: bytes
    size: int
    mtime_ns: int
    skip: Reason | None = None
    detail: str = ""
    file_id: int = 0     # the ledger row, once stored
    attempts: int = 0    # worker deaths it was in flight at

    @property
    def display(self) -> str:
        return display_path(self.path)


@dataclass(slots=True)
class ScanChunk:
    """What one stretch of the walk found.

    ``paths`` are regular files found from the directory entry alone (no stat: size and
    mtime are UNKNOWN until the reader's fstat); building an object for each of them
    would cost a third of the walk. ``tasks`` are all other entries: stat'ed files and
    entries skipped with a reason.
    """

    paths: list[bytes] = field(default_factory=list)
    tasks: list[FileTask] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths) + len(self.tasks)

    def __iter__(self):
        for path in self.paths:
            yield FileTask(path, UNKNOWN, UNKNOWN)
        yield from self.tasks

    def all_paths(self) -> list[bytes]:
        return self.paths + [t.path for t in self.tasks]

    @property
    def skipped(self) -> int:
        return sum(1 for t in self.tasks if t.skip)


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
    root: bytes = b""            # the analyzed folder; prompts show the path relative to it
    meta: dict[str, Any] = field(default_factory=dict)  # a document's metadata (extract/)

    def relative_path(self) -> str:
        """The path as a person names it inside the analyzed folder (the file name when the
        folder is unknown): never the absolute path, which says nothing about the file."""
        import os

        rel = os.path.relpath(self.path, self.root) if self.root else os.path.basename(self.path)
        return display_path(rel)


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
    quality: dict[str, Any] = field(default_factory=dict)  # the gate's verdicts (analysis/quality.py)
    size: int | None = None      # as read, when the scan did not stat the file
    mtime_ns: int | None = None
    metadata: dict[str, Any] | None = None  # the document's metadata, stored with the result
