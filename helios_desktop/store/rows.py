"""Result rows for export: a run's files with their results, selected by a ``ResultQuery``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

_COLUMNS = """SELECT f.run_id, f.path, f.size, f.status, f.reason, f.message, f.attempts,
                  f.prompt_tokens, f.generated_tokens, f.inference_seconds,
                  a.summary, a.category, a.language, a.format, a.keywords,
                  a.contains_personal_data,
                  a.result, a.raw_output, a.decided_by, a.evidence, a.quality, a.metadata,
                  (SELECT r.folder FROM runs r WHERE r.id = f.run_id) AS folder
           FROM files f LEFT JOIN analysis_results a ON a.file_id = f.id"""


def iter_rows(conn: sqlite3.Connection, run_id: int | None = None,
              query=None) -> Iterator[dict]:
    """Every file row of a run (the latest when ``run_id`` is None) with its result; with
    ``query`` (a ``reader.ResultQuery``), only the rows it selects, chosen in SQL the way
    the window's results view chooses them."""
    if run_id is None and (query is None or query.run_id is None):
        row = conn.execute("SELECT max(id) FROM runs").fetchone()
        run_id = row[0]
        if run_id is None:
            return
    if query is None:
        where, params = "WHERE f.run_id = ?", [run_id]
    else:
        from .reader import LedgerReader

        if query.run_id is None:
            query = query.with_(run_id=run_id)
        where, params = LedgerReader.on(conn)._where(query)
    cur = conn.execute(f"{_COLUMNS} {where} ORDER BY f.id", params)
    names = [d[0] for d in cur.description]
    for values in cur:
        row = dict(zip(names, values))
        row["path"] = bytes(row["path"])
        yield row
