"""One file to one ``Document``, whatever it is: a format its bytes name is extracted
(text, metadata, notes), anything else is read as text by ``scan/reader.py`` (and a
binary file stays ``skipped: binary``). Runs in worker processes; only ``skip_by_head``,
which reads a file's first 8 KiB and extracts nothing, runs in the supervisor."""

from __future__ import annotations

import io
import os

from ..records import Document, FileTask, Reason
from ..scan.kinds import detect_kind
from ..scan.magic import Format, sniff
from ..scan.reader import SNIFF, Skip, decode_text, open_file, read_bytes, text_document
from .base import ExtractError, Extracted, ExtractOptions, NotReadable, meta_header
from ..scan.formats import document_format
from .registry import run

_REASONS = {"encrypted": Reason.ENCRYPTED, "corrupt": Reason.CORRUPT, "limit": Reason.LIMIT,
            "binary": Reason.BINARY}


def read_file(task: FileTask, max_file_size: int, options: ExtractOptions | None = None) -> Document:
    """The file as the model and the evidence see it, or ``Skip`` with a typed reason."""
    options = options or ExtractOptions()
    fd, st = open_file(task, max_file_size)
    try:
        _head, fmt = _head_and_format(fd, st, task.path, options)
        if fmt is None:
            data = read_bytes(fd, min(st.st_size, max_file_size) + 1, st)[:max_file_size]
            return text_document(task.path, data, st)
        data = read_bytes(fd, min(st.st_size, max_file_size) + 1, st)[:max_file_size]
    finally:
        os.close(fd)
    try:
        return _document(fmt, data, task.path, st, options)
    except ExtractError as exc:
        raise Skip(_REASONS[exc.reason], f"{fmt.label}: {exc}", st) from None


def skip_by_head(task: FileTask, max_file_size: int,
                 options: ExtractOptions | None = None) -> Skip | None:
    """The ``Skip`` that ``read_file`` would raise, where the file's first 8 KiB already
    decide it (cannot be opened, too large, empty, binary, a format turned off); None
    where only the whole file can tell. The supervisor asks it while the workers load
    their model, so such files are skipped at once rather than after the load."""
    options = options or ExtractOptions()
    try:
        fd, st = open_file(task, max_file_size)
    except Skip as skip:
        return skip
    try:
        head, fmt = _head_and_format(fd, st, task.path, options)
        if fmt is None:
            # A NUL in the head is a NUL in the first 8 KiB of the whole file (a UTF-16
            # head holds fewer characters than the worker checks: never a false skip).
            decode_text(head, st)
    except Skip as skip:
        return skip
    finally:
        os.close(fd)
    return None


def _head_and_format(fd: int, st: os.stat_result, path: bytes,
                     options: ExtractOptions) -> tuple[bytes, Format | None]:
    """The file's first bytes and the document format they show (None: text to decode);
    ``Skip`` for an empty file or a family the settings turn off."""
    head = read_bytes(fd, SNIFF, st)
    if not head:
        raise Skip(Reason.EMPTY, "0 bytes", st)
    with os.fdopen(os.dup(fd), "rb") as fh:
        fmt = sniff(head, os.fsdecode(os.path.basename(path)), fh)
    if fmt is not None and not options.enabled(fmt.family):
        raise Skip(Reason.BINARY, f"{fmt.label}: reading {fmt.family} files is turned off "
                   "(setting formats_off)", st)
    return head, fmt


def _document(fmt: Format, data: bytes, path: bytes, st: os.stat_result,
              options: ExtractOptions) -> Document:
    ex = run(fmt, data, path, options)
    if ex.text_of is not None:  # a compressed file: read the inner file as what it is
        return _inner(ex, path, st, options)
    return _as_document(fmt, ex, path, st)


def _inner(outer: Extracted, path: bytes, st: os.stat_result, options: ExtractOptions) -> Document:
    inner_path = os.path.join(os.path.dirname(path), os.fsencode(outer.text_of))
    payload = outer.payload
    if not payload:
        raise NotReadable(f"{outer.notes[0]}: nothing inside")
    fmt = sniff(payload[:SNIFF], outer.text_of, io.BytesIO(payload))
    if fmt is not None and fmt.family not in ("compressed", "sqlite") and options.enabled(fmt.family):
        inner = run(fmt, payload, inner_path, options)
        doc = _as_document(fmt, inner, path, st)
    elif fmt is not None:
        raise NotReadable(f"{outer.notes[0]}: a {fmt.label} inside, not read compressed")
    else:
        try:
            doc = text_document(path, payload, st, name=inner_path)
        except Skip as skip:
            raise NotReadable(f"{outer.notes[0]}: {skip.detail}") from None
        doc.meta = {}
    doc.meta = {**doc.meta, **outer.meta, "notes": outer.notes + doc.meta.get("notes", [])}
    doc.hints["meta"] = doc.meta
    # the file's format is its container's (gzip); what is inside is read as what it is
    doc.hints["format"] = document_format(outer.meta.get("compression", ""), outer.meta, path)
    return doc


def _as_document(fmt: Format, ex: Extracted, path: bytes, st: os.stat_result) -> Document:
    header = meta_header(ex.meta) if ex.header else ""
    text = f"{header}\n\n{ex.text}" if header and ex.text else header or ex.text
    kind = detect_kind(path, ex.text or header)  # language and category cues of the text
    hints = kind.hints()
    if ex.category:
        hints["category"] = ex.category
    elif kind.category in ("source_code", "configuration", "data", "log"):
        hints["category"] = ""  # the extension's guess (.xml, .log) says nothing of a document
    # the natural language of the document's words ('' for an archive's listing, a
    # database's tables, an image's or a song's tags: no prose)
    no_prose = fmt.family in ("image", "audio", "archive", "sqlite") or ex.label == "tar archive"
    hints["language"] = "" if no_prose else kind.language
    hints["no_prose"] = no_prose
    meta = {"format": fmt.kind, **ex.meta}
    hints["format"] = document_format("tar" if ex.label == "tar archive" else fmt.kind, meta, path)
    if ex.notes:
        meta["notes"] = list(ex.notes)
    hints["meta"] = meta
    if ex.findings:
        hints["meta_findings"] = list(ex.findings)
    return Document(path=path, kind=ex.label, text=text, hints=hints, size=st.st_size,
                    mtime_ns=st.st_mtime_ns, meta=meta)
