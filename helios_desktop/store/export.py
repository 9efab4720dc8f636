"""Export a run's results: CSV (RFC 4180, UTF-8 with BOM, injection-safe) and JSONL."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .rows import iter_rows
from ..records import display_path

COLUMNS = ["run_id", "path", "relative_path", "status", "reason", "message", "size", "summary",
           "category", "language", "format", "keywords", "contains_personal_data", "prompt_tokens",
           "generated_tokens", "inference_seconds", "decided_by", "personal_data_evidence",
           "quality", "metadata"]
FORMATS = ("csv", "jsonl")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A plain number ("-1", "+2.5", "1e-3") is no formula: a spreadsheet reads it as the number.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
SECONDS_DECIMALS = 3


def neutralise(cell: str) -> str:
    """OWASP CSV-injection defence: a leading formula character is quoted away; a cell
    that is just a number keeps its sign (a size of -1 stays -1)."""
    if cell.startswith(_DANGEROUS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _quality_text(quality: dict) -> str:
    """{"gate": "fail", "summary": {"verdict": "copied", "detail": ...}} as
    "gate: fail; summary: copied (prompt text)"."""
    parts = []
    for field, verdict in quality.items():
        if not isinstance(verdict, dict):
            parts.append(f"{field}: {verdict}")
            continue
        notes = [str(verdict["detail"])] if verdict.get("detail") else []
        if verdict.get("grounding") is not None:
            notes.append(f"grounding {verdict['grounding']:.2f}")
        parts.append(f"{field}: {verdict.get('verdict', '?')}"
                     + (f" ({', '.join(notes)})" if notes else ""))
    return "; ".join(parts)


def _evidence_text(evidence: list) -> str:
    """[{"kind": "email", "line": 3, "sample": "j***@x.org"}] as "email, line 3: j***@x.org"."""
    return "; ".join(f"{e.get('kind', '?')}, line {e.get('line', '?')}: {e.get('sample', '')}"
                     if isinstance(e, dict) else str(e) for e in evidence)


def csv_text(name: str, value) -> str:
    """One cell as a person reads it in a spreadsheet: lists as "a; b; c", who decided and
    the gate's verdicts as "field: value" pairs; JSON only for nested metadata."""
    if name == "quality" and isinstance(value, dict):
        return _quality_text(value)
    if name == "personal_data_evidence" and isinstance(value, list):
        return _evidence_text(value)
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict) and all(not isinstance(v, (list, dict)) for v in value.values()):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False)


def _record(row: dict) -> dict:
    path: bytes = row["path"]
    record = {name: row.get(name) for name in COLUMNS}
    record["path"] = display_path(path)
    # As the window shows it: relative to the analyzed folder (the run's).
    root = bytes(row["folder"]).rstrip(b"/") + b"/" if row.get("folder") else b""
    record["relative_path"] = display_path(path[len(root):] if root and path.startswith(root)
                                           else path)
    if record["inference_seconds"] is not None:
        record["inference_seconds"] = round(record["inference_seconds"], SECONDS_DECIMALS)
    for name in ("keywords", "decided_by", "quality", "metadata"):
        record[name] = json.loads(row[name]) if row.get(name) else None
    record["personal_data_evidence"] = json.loads(row["evidence"]) if row.get("evidence") else None
    if row.get("contains_personal_data") is not None:
        record["contains_personal_data"] = bool(row["contains_personal_data"])
    return record


def _path_extras(path: bytes) -> dict:
    try:
        path.decode("utf-8")
        return {}
    except UnicodeDecodeError:
        # Exact bytes for names that are not UTF-8, so nothing is lost.
        return {"path_bytes_hex": path.hex()}


def write_csv(rows: Iterator[dict], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS + ["path_bytes_hex"])
    n = 0
    for row in rows:
        rec = _record(row)
        cells = []
        for name in COLUMNS:
            value = rec[name]
            if value is None:
                cells.append("")
            elif isinstance(value, (list, dict)):
                cells.append(neutralise(csv_text(name, value)))
            elif isinstance(value, bool):
                cells.append("true" if value else "false")
            else:
                cells.append(neutralise(str(value)))
        cells.append(_path_extras(row["path"]).get("path_bytes_hex", ""))
        writer.writerow(cells)
        n += 1
    return n


def write_jsonl(rows: Iterator[dict], out: TextIO) -> int:
    n = 0
    for row in rows:
        rec = _record(row)
        rec.update(_path_extras(row["path"]))
        rec["result"] = json.loads(row["result"]) if row.get("result") else None
        if row.get("raw_output") and rec["result"] is None:
            rec["raw_output"] = row["raw_output"]
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        n += 1
    return n


def export(conn: sqlite3.Connection, fmt: str, out_path: str | os.PathLike | None,
           run_id: int | None = None, stdout: TextIO | None = None, query=None) -> int:
    """Write the run (default: the latest) to ``out_path`` (or ``stdout``); returns rows
    written. ``query``: a ``reader.ResultQuery``, just the rows it selects (a filtered view)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if run_id is not None and conn.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is None:
        raise ValueError(f"run {run_id} is not in this database")
    writer = write_csv if fmt == "csv" else write_jsonl
    rows = iter_rows(conn, run_id, query)
    if out_path is None:
        return writer(rows, stdout)
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".part")
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    with open(tmp, "w", encoding=encoding, newline="") as fh:
        n = writer(rows, fh)
    os.replace(tmp, out_path)
    return n
