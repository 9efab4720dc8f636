"""SQLite databases, opened read-only and immutable (no journal, no lock, nothing
written): tables with their columns and row counts."""

from __future__ import annotations

import os
import sqlite3
import time
from urllib.parse import quote

from .base import Corrupt, Extracted, ExtractOptions, LimitHit

TABLES_SHOWN = 50


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str = "") -> Extracted:
    uri = "file:" + quote(os.fsdecode(path)) + "?mode=ro&immutable=1"
    deadline = time.monotonic() + max(options.deadline_s, 1)
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise Corrupt(f"SQLite: {exc}") from None
    # a count over a huge or looping table stops at the deadline
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        rows = conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                            "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
        tables = []
        for name, kind in rows[:TABLES_SHOWN]:
            quoted = '"' + name.replace('"', '""') + '"'
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({quoted})")]
            count = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0] \
                if kind == "table" else None
            tables.append({"name": name, "columns": columns[:30], "rows": count})
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise LimitHit(f"deadline: counting rows took longer than {options.deadline_s:g} s") \
                from None
        raise Corrupt(f"SQLite: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise Corrupt(f"SQLite: {exc}") from None
    finally:
        conn.close()
    lines = [f"SQLite database with {len(rows)} tables"]
    for t in tables:
        rows_text = f", {t['rows']} rows" if t["rows"] is not None else " (view)"
        lines.append(f"Table {t['name']} ({', '.join(t['columns'])}){rows_text}")
    meta = {"tables": len(rows), "table_list": tables}
    return Extracted(label="SQLite database", text="\n".join(lines), meta=meta, category="data", header=False)
