"""Database upkeep: list runs, check integrity, prune old runs, vacuum, reopen failed files.

The ``helios db`` commands and ``helios analyze --retry-failed`` call these with the
database's lock held (``store.lock``), so no analysis writes while they work. Pruning
never deletes the newest run of a folder, nor its newest completed run (the one a
re-run takes unchanged results from).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..records import Status


class UpkeepError(RuntimeError):
    """An upkeep command failed; the message names the database."""


def open_upkeep(path: Path) -> sqlite3.Connection:
    """A writing connection of upkeep's own, on a database the ``Ledger`` has brought up to
    date: upkeep never writes through the ledger's connection (its transactions and its
    state are the run's). The caller holds the database's lock and closes it."""
    from .ledger import Ledger

    Ledger(path).close()  # migrated, or LedgerError naming the file
    from .connection import _connect

    return _connect(Path(path), readonly=False)


@dataclass
class RunRow:
    id: int
    folder: bytes
    started_at: float
    finished_at: float | None
    status: str
    model: str | None
    provider: str | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def list_runs(conn: sqlite3.Connection) -> list[RunRow]:
    """Every run, oldest first, with its files counted by status."""
    counts: dict[int, dict[str, int]] = {}
    for run_id, status, n in conn.execute(
            "SELECT run_id, status, count(*) FROM files GROUP BY run_id, status"):
        counts.setdefault(run_id, {s.value: 0 for s in Status})[status] = n
    rows = []
    for rid, folder, started, finished, status, model, provider in conn.execute(
            "SELECT id, folder, started_at, finished_at, status, model, provider FROM runs "
            "ORDER BY id"):
        rows.append(RunRow(rid, bytes(folder), started, finished, status, model, provider,
                           counts.get(rid, {s.value: 0 for s in Status})))
    return rows


def check(conn: sqlite3.Connection) -> list[str]:
    """Problems found, one line each: SQLite's integrity check, foreign keys, and the
    ledger's own rules. An empty list means the database is sound."""
    problems = []
    try:
        for (line,) in conn.execute("PRAGMA integrity_check"):
            if line != "ok":
                problems.append(f"integrity: {line}")
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
            problems.append(f"foreign key: {table} row {rowid} points to a missing {parent} row")
        statuses = tuple(s.value for s in Status)
        for status, n in conn.execute(
                f"SELECT status, count(*) FROM files WHERE status NOT IN "
                f"({','.join('?' * len(statuses))}) GROUP BY status", statuses):
            problems.append(f"ledger: {n} files have the unknown status {status!r}")
        for run_id, status, n in conn.execute(
                "SELECT f.run_id, r.status, count(*) FROM files f JOIN runs r ON r.id = f.run_id "
                "WHERE r.status = 'completed' AND f.status IN ('pending', 'leased') "
                "GROUP BY f.run_id"):
            problems.append(f"ledger: run {run_id} is {status} but {n} of its files are unfinished")
    except sqlite3.DatabaseError as exc:
        problems.append(f"integrity: {exc}")
    return problems


def runs_to_prune(conn: sqlite3.Connection, keep: int) -> list[int]:
    """Runs beyond the ``keep`` newest of each folder, sparing each folder's newest
    completed run."""
    if keep < 1:
        raise ValueError("--keep must be at least 1: the last run of a folder is never pruned")
    by_folder: dict[bytes, list[tuple[int, str]]] = {}
    for rid, folder, status in conn.execute("SELECT id, folder, status FROM runs ORDER BY id DESC"):
        by_folder.setdefault(bytes(folder), []).append((rid, status))
    doomed = []
    for runs in by_folder.values():
        spared = {rid for rid, _ in runs[:keep]}
        completed = next((rid for rid, status in runs if status == "completed"), None)
        if completed is not None:
            spared.add(completed)
        doomed += [rid for rid, _ in runs if rid not in spared]
    return sorted(doomed)


def prune(conn: sqlite3.Connection, run_ids: list[int]) -> dict[str, int]:
    """Delete ``run_ids`` with their files, results and metrics, in one transaction."""
    deleted = {"runs": 0, "files": 0, "results": 0}
    if not run_ids:
        return deleted
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM doomed")
        conn.executemany("INSERT INTO doomed VALUES (?)", [(r,) for r in run_ids])
        deleted["results"] = conn.execute(
            "DELETE FROM analysis_results WHERE file_id IN "
            "(SELECT id FROM files WHERE run_id IN (SELECT id FROM doomed))").rowcount
        deleted["files"] = conn.execute(
            "DELETE FROM files WHERE run_id IN (SELECT id FROM doomed)").rowcount
        conn.execute("DELETE FROM performance_metrics WHERE run_id IN (SELECT id FROM doomed)")
        deleted["runs"] = conn.execute(
            "DELETE FROM runs WHERE id IN (SELECT id FROM doomed)").rowcount
        conn.execute("DROP TABLE doomed")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return deleted


def vacuum(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    """Checkpoint the WAL and rebuild the file; returns its size before and after."""
    before = _size(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise UpkeepError(f"vacuum of {path} failed: {exc} (it needs free disk space about "
                          "the size of the database)") from None
    return before, _size(path)


def _size(path: Path) -> int:
    return sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if os.path.exists(p))


class RetryError(RuntimeError):
    """There is nothing to retry, or the last run must be resumed first."""


def reopen_failed(conn: sqlite3.Connection, folder: bytes) -> tuple[int, int]:
    """Put the failed files of ``folder``'s last run back to pending (their failure
    output dropped) and mark the run interrupted, so the next analysis resumes it and
    analyzes only them. Returns (run id, files reopened)."""
    row = conn.execute("SELECT id, status FROM runs WHERE folder = ? ORDER BY id DESC LIMIT 1",
                       (folder,)).fetchone()
    name = os.fsdecode(folder)
    if row is None:
        raise RetryError(f"the database has no run of {name}; analyze it first")
    run_id, status = row
    if status != "completed":
        raise RetryError(f"run {run_id} of {name} did not finish ({status}); resume it with "
                         f"`helios analyze {name}` first, then retry its failed files")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM analysis_results WHERE file_id IN "
                     "(SELECT id FROM files WHERE run_id = ? AND status = 'failed')", (run_id,))
        n = conn.execute("UPDATE files SET status = 'pending', reason = NULL, message = NULL, "
                         "attempts = 0, worker = NULL WHERE run_id = ? AND status = 'failed'",
                         (run_id,)).rowcount
        if n:
            conn.execute("UPDATE runs SET status = 'interrupted' WHERE id = ?", (run_id,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return run_id, n
