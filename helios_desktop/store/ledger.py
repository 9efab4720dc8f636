"""The ledger's one writer: runs, files and results as a run goes.

The SQLite ledger is the run's source of truth.

Every file found is one row in ``files``; it moves pending -> leased -> done,
failed or skipped. One connection writes (the supervisor's), in batched
transactions with idempotent upserts; readers open the file read-only. WAL mode
keeps ``PRAGMA integrity_check`` ok when the writer is killed at any point.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from ..records import AnalysisResult, FileTask, Reason, ScanChunk, Status
from .connection import DiskFull, LedgerError, Transaction, _connect, open_readonly  # noqa: F401
from .rows import iter_rows  # noqa: F401  (the export's rows; kept importable from here)
from .schema import (_FTS_INSERT, _FTS_ROW, _MIGRATIONS, SCHEMA_VERSION, SchemaProblem,  # noqa: F401
                     migrate, relative_path)

# Run statuses: running, completed, interrupted (resumable), superseded (set aside by a
# fresh run, never resumed).
UNFINISHED = "('running', 'interrupted')"

FINAL = (Status.DONE, Status.FAILED, Status.SKIPPED)


class Ledger:
    """The single writer of a Helios database."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.conn = _connect(self.path, readonly=False)
        self._migrate()

    def close(self) -> None:
        self.conn.close()

    def _migrate(self) -> None:
        try:
            migrate(self.conn, self.path, self.transaction)
        except SchemaProblem as exc:
            raise LedgerError(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"database {self.path} cannot be used: {exc}") from None

    def transaction(self):
        return Transaction(self.conn, self.path)

    # -- runs ----------------------------------------------------------------------------

    def unfinished_run(self, folder: bytes) -> int | None:
        """The run of ``folder`` that was stopped or killed (a superseded one is not)."""
        row = self.conn.execute(
            f"SELECT id FROM runs WHERE folder = ? AND status IN {UNFINISHED} "
            "ORDER BY id DESC LIMIT 1", (folder,)).fetchone()
        return row[0] if row else None

    def last_completed_run(self, folder: bytes, before: int, like: dict | None = None,
                           reader: int | None = None) -> int | None:
        """The latest completed run of ``folder`` before ``before``; with ``like`` (a run's
        settings), only one made with the same model folder and schema; with ``reader``,
        only one made by that document reader (``extract.READER_VERSION``)."""
        sql = "SELECT max(id) FROM runs WHERE folder = ? AND id < ? AND status = 'completed'"
        params: list = [folder, before]
        if reader is not None:
            sql += " AND json_extract(settings, '$.reader_version') IS ?"
            params.append(reader)
        if like is not None:
            sql += (" AND json_extract(settings, '$.model_path') IS ?"
                    " AND json_extract(settings, '$.schema') IS ?")
            params += [_str(like.get("model_path")), _str(like.get("schema"))]
        return self.conn.execute(sql, params).fetchone()[0]

    def _folder_of(self, file_id: int) -> bytes:
        row = self.conn.execute("SELECT r.folder FROM files f JOIN runs r ON r.id = f.run_id "
                                "WHERE f.id = ?", (file_id,)).fetchone()
        return bytes(row[0]) if row else b"\0"

    def start_run(self, folder: bytes, model: str, provider: str, settings: dict) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO runs (folder, started_at, model, provider, settings) VALUES (?,?,?,?,?)",
                (folder, time.time(), model, provider, json.dumps(settings, default=str)))
        return cur.lastrowid

    def resume_run(self, run_id: int, model: str, provider: str) -> int:
        """Put leased files back to pending; returns how many were in flight."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET status='running', finished_at=NULL, model=?, "
                              "provider=? WHERE id=?", (model, provider, run_id))
            cur = self.conn.execute("UPDATE files SET status='pending', worker=NULL "
                                    "WHERE run_id=? AND status='leased'", (run_id,))
        return cur.rowcount

    def finish_run(self, run_id: int, status: str, excluded: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE runs SET status=?, finished_at=?, excluded=? WHERE id=?",
                              (status, time.time(), excluded, run_id))

    # -- discovery ---------------------------------------------------------------------

    def add_discovered(self, run_id: int, chunk: ScanChunk) -> None:
        """Upsert scanned files. Unchanged finished files keep their outcome; changed ones
        go back to pending (their old result is dropped)."""
        now = time.time()
        pending = Status.PENDING.value
        rows = [(run_id, p, -1, -1, pending, None, None, now) for p in chunk.paths]
        rows += [(run_id, t.path, t.size, t.mtime_ns, Status.SKIPPED.value if t.skip else pending,
                  t.skip.value if t.skip else None, t.detail or None, now) for t in chunk.tasks]
        with self.transaction():
            self.conn.executemany(
                """INSERT INTO files (run_id, path, size, mtime_ns, status, reason, message, updated_at)
                   VALUES (?,?,?,?,?,?,?,?)
                   ON CONFLICT (run_id, path) DO UPDATE SET
                     status = excluded.status, reason = excluded.reason, message = excluded.message,
                     size = excluded.size, mtime_ns = excluded.mtime_ns, attempts = 0,
                     updated_at = excluded.updated_at
                   WHERE NOT (files.size = excluded.size AND files.mtime_ns = excluded.mtime_ns
                              AND files.status IN ('done', 'failed', 'skipped')
                              AND excluded.status = 'pending')""", rows)

    def reuse_unchanged(self, run_id: int, previous_run: int, paths: list[bytes]) -> int:
        """Carry over results of files unchanged since ``previous_run`` (same size and mtime)."""
        args = [(previous_run, run_id, p) for p in paths]
        with self.transaction():
            self.conn.executemany(
                """UPDATE files AS f SET status = 'done', reason = p.reason, message = p.message,
                       prompt_tokens = p.prompt_tokens, generated_tokens = p.generated_tokens,
                       inference_seconds = p.inference_seconds
                   FROM files AS p
                   WHERE p.run_id = ? AND f.run_id = ? AND f.path = ? AND p.path = f.path
                     AND f.status = 'pending' AND p.size = f.size AND p.mtime_ns = f.mtime_ns
                     AND p.status = 'done'""", args)
            before = self.conn.total_changes
            self.conn.executemany(
                """INSERT OR IGNORE INTO analysis_results (file_id, result, raw_output, summary,
                          category, language, keywords, contains_personal_data, decided_by,
                          evidence, quality, metadata, format)
                   SELECT f.id, a.result, a.raw_output, a.summary, a.category, a.language,
                          a.keywords, a.contains_personal_data, a.decided_by, a.evidence, a.quality,
                          a.metadata, a.format
                   FROM files f JOIN files p ON p.run_id = ? AND p.path = f.path
                   JOIN analysis_results a ON a.file_id = p.id
                   WHERE f.run_id = ? AND f.path = ? AND f.status = 'done'""", args)
            reused = self.conn.total_changes - before
            self.conn.executemany(
                f"{_FTS_INSERT} {_FTS_ROW} WHERE f.run_id = ? AND f.path = ? AND f.status = 'done' "
                "AND f.id NOT IN (SELECT rowid FROM results_fts WHERE rowid = f.id)",
                [(run_id, p) for p in paths])
            self.conn.execute("UPDATE runs SET reused = reused + ? WHERE id = ?", (reused, run_id))
        return reused

    def drop_stale_results(self, run_id: int) -> None:
        stale = "SELECT id FROM files WHERE run_id = ? AND status IN ('pending', 'skipped')"
        with self.transaction():
            self.conn.execute(f"DELETE FROM results_fts WHERE rowid IN ({stale})", (run_id,))
            self.conn.execute(f"DELETE FROM analysis_results WHERE file_id IN ({stale})",
                              (run_id,))

    # -- work ------------------------------------------------------------------------------

    def lease(self, run_id: int, limit: int, worker: int = 0, *,
              suspects: bool = True) -> list[FileTask]:
        """Lease up to ``limit`` pending files to ``worker``. A suspect (a file that was in
        flight when a worker died, attempts > 0) is leased alone, and only when
        ``suspects`` is true (the worker has nothing else in flight), so a poison file
        can only take itself down."""
        with self.transaction():
            rows = []
            if suspects:
                rows = self.conn.execute(
                    "SELECT id, path, size, mtime_ns, attempts FROM files WHERE run_id = ? "
                    "AND status = 'pending' AND attempts > 0 ORDER BY id LIMIT 1",
                    (run_id,)).fetchall()
            if not rows:
                rows = self.conn.execute(
                    "SELECT id, path, size, mtime_ns, attempts FROM files WHERE run_id = ? "
                    "AND status = 'pending' AND attempts = 0 ORDER BY id LIMIT ?",
                    (run_id, limit)).fetchall()
            self.conn.executemany("UPDATE files SET status='leased', worker=? WHERE id=?",
                                  [(worker, r[0]) for r in rows])
        return [FileTask(bytes(r[1]), r[2], r[3], file_id=r[0], attempts=r[4]) for r in rows]

    def pending_after(self, run_id: int, after: int, limit: int) -> list[FileTask]:
        """Up to ``limit`` pending files never tried (attempts 0) with ids above ``after``,
        in id order; nothing is leased (see ``claim``)."""
        rows = self.conn.execute(
            "SELECT id, path, size, mtime_ns FROM files WHERE run_id = ? AND status = 'pending' "
            "AND attempts = 0 AND id > ? ORDER BY id LIMIT ?", (run_id, after, limit)).fetchall()
        return [FileTask(bytes(r[1]), r[2], r[3], file_id=r[0]) for r in rows]

    def claim(self, run_id: int, file_ids: list[int], worker: int) -> set[int]:
        """Lease those of ``file_ids`` still pending to ``worker``; returns the ids leased
        (a file a worker leased meanwhile is that worker's)."""
        with self.transaction():
            claimed = set()
            for file_id in file_ids:
                cur = self.conn.execute("UPDATE files SET status='leased', worker=? WHERE id=? "
                                        "AND run_id=? AND status='pending'",
                                        (worker, file_id, run_id))
                if cur.rowcount:
                    claimed.add(file_id)
        return claimed

    def release_worker(self, run_id: int, worker: int, max_attempts: int) -> list[bytes]:
        """A worker died: its leased files go back to pending with one more attempt; those
        that reach ``max_attempts`` fail as ``worker_lost``. Returns the failed paths."""
        with self.transaction():
            self.conn.execute("UPDATE files SET status='pending', worker=NULL, "
                              "attempts = attempts + 1 WHERE run_id=? AND worker=? "
                              "AND status='leased'", (run_id, worker))
            lost = [bytes(p) for (p,) in self.conn.execute(
                "SELECT path FROM files WHERE run_id=? AND status='pending' AND attempts >= ?",
                (run_id, max_attempts))]
            self.conn.execute(
                "UPDATE files SET status='failed', reason=?, message=?, updated_at=? "
                "WHERE run_id=? AND status='pending' AND attempts >= ?",
                (Reason.WORKER_LOST.value,
                 f"its worker died {max_attempts} times while analyzing it", time.time(),
                 run_id, max_attempts))
        return lost

    def release_worker_files(self, run_id: int, worker: int) -> None:
        """A worker stopped at the user's request: its leased files go back to pending
        without an attempt (a stop is not a crash)."""
        with self.transaction():
            self.conn.execute("UPDATE files SET status='pending', worker=NULL "
                              "WHERE run_id=? AND worker=? AND status='leased'", (run_id, worker))

    def release_all(self, run_id: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE files SET status='pending', worker=NULL "
                              "WHERE run_id=? AND status='leased'", (run_id,))

    def record(self, outcomes: Iterable[tuple[int, AnalysisResult]]) -> None:
        """Store finished files (done, failed or skipped) in one transaction."""
        now = time.time()
        file_rows, result_rows, drop, search_rows = [], [], [], []
        folder = None  # the run's folder (one batch is one run's): the index holds relative paths
        for file_id, r in outcomes:
            file_rows.append((r.status.value, r.reason.value if r.reason else None, r.message or None,
                              r.prompt_tokens, r.generated_tokens, r.inference_seconds, now,
                              r.size, r.mtime_ns, file_id))
            if r.data is not None or r.raw_output:
                d = r.data or {}
                kw = d.get("keywords")
                pd = d.get("contains_personal_data")
                result_rows.append((
                    file_id, json.dumps(r.data, ensure_ascii=False) if r.data is not None else None,
                    r.raw_output or None, _str(d.get("summary")), _str(d.get("category")),
                    _str(d.get("language")),
                    json.dumps(kw, ensure_ascii=False) if kw is not None else None,
                    None if pd is None else int(bool(pd)),
                    json.dumps(r.decided_by) if r.decided_by else None,
                    json.dumps(r.evidence, ensure_ascii=False) if r.evidence else None,
                    json.dumps(r.quality) if r.quality else None,
                    json.dumps(r.metadata, ensure_ascii=False, default=str) if r.metadata else None,
                    _str(d.get("format"))))
                if folder is None:
                    folder = self._folder_of(file_id)
                row = result_rows[-1]
                search_rows.append((file_id, relative_path(r.path, folder), row[3] or "",
                                    row[6] or "", row[4] or ""))
            else:
                drop.append((file_id,))
        with self.transaction():
            self.conn.executemany(
                "UPDATE files SET status=?, reason=?, message=?, prompt_tokens=?, generated_tokens=?, "
                "inference_seconds=?, updated_at=?, worker=NULL, size=coalesce(?, size), "
                "mtime_ns=coalesce(?, mtime_ns) WHERE id=?", file_rows)
            self.conn.executemany(
                "INSERT OR REPLACE INTO analysis_results (file_id, result, raw_output, summary, "
                "category, language, keywords, contains_personal_data, decided_by, evidence, "
                "quality, metadata, format) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", result_rows)
            self.conn.executemany("DELETE FROM analysis_results WHERE file_id=?", drop)
            self.conn.executemany("DELETE FROM results_fts WHERE rowid = ?", drop)
            self.conn.executemany(
                "INSERT OR REPLACE INTO results_fts (rowid, path, summary, keywords, category) "
                "VALUES (?,?,?,?,?)", search_rows)

    def record_batch_metrics(self, run_id: int, scope: str, batch_size: int, files: int,
                             seconds: float, prompt_tokens: int, generated_tokens: int) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO performance_metrics (run_id, at, scope, batch_size, files, seconds, "
                "prompt_tokens, generated_tokens) VALUES (?,?,?,?,?,?,?,?)",
                (run_id, time.time(), scope, batch_size, files, seconds, prompt_tokens,
                 generated_tokens))

    def run_size(self, run_id: int) -> tuple[int, int]:
        """Files in the run's ledger, and files its scan excluded by patterns."""
        return self.conn.execute(
            "SELECT (SELECT count(*) FROM files WHERE run_id = ?), excluded FROM runs WHERE id = ?",
            (run_id, run_id)).fetchone()

    def has_files(self, run_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM files WHERE run_id = ? LIMIT 1",
                                 (run_id,)).fetchone() is not None

    def counts(self, run_id: int) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for status, n in self.conn.execute(
                "SELECT status, count(*) FROM files WHERE run_id = ? GROUP BY status", (run_id,)):
            counts[status] = n
        return counts

    def reasons(self, run_id: int) -> dict[str, int]:
        return dict(self.conn.execute(
            "SELECT reason, count(*) FROM files WHERE run_id = ? AND reason IS NOT NULL "
            "GROUP BY reason ORDER BY count(*) DESC", (run_id,)).fetchall())


def _str(value) -> str | None:
    return value if isinstance(value, str) else (None if value is None else str(value))
