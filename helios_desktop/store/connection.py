"""Connections to a ledger: the writer's (WAL) and read-only ones, errors, and the transaction."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from .schema import SCHEMA_VERSION, add_functions


class LedgerError(RuntimeError):
    """The database cannot be used; the message names the file."""


class DiskFull(LedgerError):
    """A write failed because the disk (or the database's size limit) is full. Nothing
    written before is lost: the run can resume once there is space."""

    def __init__(self, path: Path):
        super().__init__(f"the disk holding {path} is full: free space and run again to resume")
        self.path = path


def _is_full(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.Error) and (
        getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or "database or disk is full" in str(exc))


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            add_functions(conn)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except (sqlite3.Error, OSError) as exc:
        if _is_full(exc) or getattr(exc, "errno", None) == errno.ENOSPC:
            raise DiskFull(path) from None
        raise LedgerError(f"database {path} cannot be opened: {exc}") from None


def open_readonly(path: str | os.PathLike) -> sqlite3.Connection:
    """A read-only connection for viewers and export."""
    path = Path(path)
    if not path.exists():
        raise LedgerError(f"database {path} does not exist")
    conn = _connect(path, readonly=True)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        raise LedgerError(f"{path} is not a Helios database (no schema)")
    if version > SCHEMA_VERSION:
        raise LedgerError(f"database {path} has schema {version}, newer than this Helios "
                          f"({SCHEMA_VERSION}); upgrade Helios")
    return conn


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT; a full disk comes out as ``DiskFull``, whichever
    statement met it (SQLite has rolled back or we do)."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    def __enter__(self):
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if _is_full(exc):
                raise DiskFull(self.path) from exc
            raise
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return False
            except sqlite3.Error as commit_error:
                exc = commit_error
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite rolled back on its own
        if _is_full(exc):
            raise DiskFull(self.path) from exc
        if exc_type is None:
            raise exc
        return False
