"""Read a file's text safely: bounded, no symlink surprises, binary detected.

The file is opened with O_NOFOLLOW|O_NONBLOCK (a FIFO swapped in after the scan
cannot block us, a symlink swapped in cannot redirect us) and checked with fstat
before a single byte is read.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat

from .kinds import detect_kind
from .magic import sniff
from ..records import Document, FileTask, Reason

SNIFF = 8192


class Skip(Exception):
    """The file cannot be analyzed; carries the typed reason."""

    def __init__(self, reason: Reason, detail: str, st: os.stat_result | None = None):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.size = st.st_size if st is not None else None
        self.mtime_ns = st.st_mtime_ns if st is not None else None


# UTF-32 before UTF-16: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le", 4), (codecs.BOM_UTF32_BE, "utf-32-be", 4),
         (codecs.BOM_UTF16_LE, "utf-16-le", 2), (codecs.BOM_UTF16_BE, "utf-16-be", 2),
         (codecs.BOM_UTF8, "utf-8", 1))


def _decode(data: bytes, st: os.stat_result) -> tuple[str, str]:
    """The text and its encoding; ``Skip`` for binary data.

    A byte order mark decides the encoding (UTF-16 and UTF-32 text is full of NUL
    bytes, so it is checked before the NUL test for binary); otherwise UTF-8."""
    for bom, encoding, unit in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            body = body[:len(body) - len(body) % unit]  # a cut may split the last character
            text = body.decode(encoding, errors="replace")
            if "\x00" in text[:SNIFF]:
                raise Skip(Reason.BINARY, f"NUL character in the first 8 KiB ({encoding} mark)", st)
            return text, encoding.upper()
    if b"\x00" in data[:SNIFF]:
        raise Skip(Reason.BINARY, "NUL byte in the first 8 KiB", st)
    return data.decode("utf-8", errors="replace"), "UTF-8"


def open_file(task: FileTask, max_file_size: int) -> tuple[int, os.stat_result]:
    """An open descriptor of the task's regular file and its fstat, or ``Skip``.

    The caller closes the descriptor."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(task.path, flags)
    except FileNotFoundError:
        raise Skip(Reason.VANISHED, "file vanished before it was read") from None
    except PermissionError as exc:
        raise Skip(Reason.PERMISSION, exc.strerror or "permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Skip(Reason.NOT_REGULAR, "became a symbolic link after the scan") from None
        raise Skip(Reason.READ_ERROR, str(exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Skip(Reason.NOT_REGULAR, "no longer a regular file", st)
        if st.st_size > max_file_size:
            raise Skip(Reason.TOO_LARGE, f"{st.st_size} bytes > max_file_size {max_file_size}", st)
    except OSError as exc:
        os.close(fd)
        raise Skip(Reason.READ_ERROR, str(exc)) from None
    except Skip:
        os.close(fd)
        raise
    return fd, st


def read_bytes(fd: int, limit: int, st: os.stat_result, offset: int = 0) -> bytes:
    """Up to ``limit`` bytes from ``offset`` (``Skip`` on a read error)."""
    chunks, remaining = [], limit
    try:
        while remaining > 0:
            block = os.pread(fd, min(remaining, 1 << 20), offset)
            if not block:
                break
            chunks.append(block)
            remaining -= len(block)
            offset += len(block)
    except OSError as exc:
        raise Skip(Reason.READ_ERROR, str(exc), st) from None
    return b"".join(chunks)


def text_document(path: bytes, data: bytes, st: os.stat_result,
                  max_chars: int | None = None, name: bytes | None = None) -> Document:
    """``data`` decoded as text and its kind (decided on ``name``, default the path), or
    ``Skip`` (binary, undecodable)."""
    text, encoding = _decode(data, st)
    replaced = "\ufffd" in text
    if replaced:
        bad = text.count("\ufffd")
        if bad > max(16, len(text) // 4):
            raise Skip(Reason.UNDECODABLE,
                       f"{bad} of {len(text)} characters are not valid {encoding}", st)
    if max_chars is not None:
        text = text[:max_chars]
    kind = detect_kind(name or path, text)
    return Document(path=path, kind=kind.label, text=text, replaced_bytes=replaced,
                    hints=kind.hints(), size=st.st_size, mtime_ns=st.st_mtime_ns)


def read_document(task: FileTask, max_file_size: int, max_chars: int | None = None) -> Document:
    """The file's text and kind, or ``Skip`` with the reason it cannot be analyzed
    (read as text only: ``extract.read.read_file`` reads documents by their bytes)."""
    fd, st = open_file(task, max_file_size)
    try:
        limit = min(st.st_size, max_file_size)
        if max_chars is not None:
            limit = min(limit, max_chars * 4 + SNIFF)  # UTF-8 is at most 4 bytes a character
        data = read_bytes(fd, limit + 1, st)[:limit]
    finally:
        os.close(fd)
    if not data:
        raise Skip(Reason.EMPTY, "0 bytes", st)
    return text_document(task.path, data, st, max_chars)


def preview_kind(task: FileTask, max_file_size: int) -> str:
    """``document``, ``image``, ``archive``, ``code``, ``text`` or ``skip``, decided by the
    run's own rules on the file's head (and a zip's member names).

    The window's pre-scan uses it so that its preview agrees with the results: a
    0-byte file, a NUL byte or an undecodable file is ``skip`` here as in the run, and a
    PDF or a .docx is a document whatever its name. Nothing is extracted here: formats
    are told by their bytes only (``scan/magic.py``); a format turned off in the
    settings is still counted as what it is.
    """
    if task.skip is not None:
        return "skip"
    try:
        fd, st = open_file(task, max_file_size)
    except Skip:
        return "skip"
    try:
        head = read_bytes(fd, SNIFF, st)
        if not head:
            return "skip"
        with os.fdopen(os.dup(fd), "rb") as fh:
            fmt = sniff(head, os.fsdecode(os.path.basename(task.path)), fh)
        if fmt is not None:
            return fmt.preview
        doc = text_document(task.path, read_bytes(fd, 2048 * 4 + SNIFF, st), st, max_chars=2048)
    except Skip:
        return "skip"
    finally:
        os.close(fd)
    return "code" if doc.hints.get("category") == "source_code" else "text"
