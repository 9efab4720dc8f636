"""The ledger's schema: its migrations in order, and the step that brings a database up to date."""

from __future__ import annotations

import os
import sqlite3

# The search index: one row per result (rowid = files.id), the path relative to the
# run's folder. Kept by this writer in the same transactions as the results.
_FTS_ROW = """SELECT f.id,
       helios_relative_path(f.path, r.folder),
       coalesce(a.summary, ''), coalesce(a.keywords, ''), coalesce(a.category, '')
FROM files f JOIN runs r ON r.id = f.run_id JOIN analysis_results a ON a.file_id = f.id"""
_FTS_INSERT = "INSERT INTO results_fts (rowid, path, summary, keywords, category) "

# One entry per schema version, in order: version N is MIGRATIONS[N - 1]. A new column
# or table is one more entry at the end (SCHEMA_VERSION follows).
MIGRATIONS: tuple[str, ...] = (
    # 1
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        folder BLOB NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        status TEXT NOT NULL DEFAULT 'running',
        model TEXT,
        provider TEXT,
        settings TEXT,
        excluded INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        path BLOB NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        worker INTEGER,
        reason TEXT,
        message TEXT,
        prompt_tokens INTEGER,
        generated_tokens INTEGER,
        inference_seconds REAL,
        updated_at REAL NOT NULL,
        UNIQUE (run_id, path)
    );
    CREATE INDEX files_status ON files (run_id, status);
    CREATE TABLE analysis_results (
        file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        result TEXT,
        raw_output TEXT,
        summary TEXT,
        category TEXT,
        language TEXT,
        keywords TEXT,
        contains_personal_data INTEGER,
        decided_by TEXT
    );
    CREATE TABLE performance_metrics (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        scope TEXT NOT NULL,
        batch_size INTEGER,
        files INTEGER,
        seconds REAL,
        prompt_tokens INTEGER,
        generated_tokens INTEGER
    );
    """,
    # 2
    """
    ALTER TABLE runs ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
    """,
    # 3
    f"""
    ALTER TABLE analysis_results ADD COLUMN evidence TEXT;
    CREATE VIRTUAL TABLE results_fts USING fts5(path, summary, keywords, category,
        tokenize = 'unicode61 remove_diacritics 2');
    {_FTS_INSERT} {_FTS_ROW};
    """,
    # The quality gate's verdicts per result (JSON); NULL for results stored before it.
    # 4
    """
    ALTER TABLE analysis_results ADD COLUMN quality TEXT;
    """,
    # A document's metadata (title, authors, pages, ..., the extractor's notes; JSON).
    # 5
    """
    ALTER TABLE analysis_results ADD COLUMN metadata TEXT;
    """,
    # One meaning per column: the file's format (Python, INI, CSV, PDF, JPEG, ...) in a
    # column of its own, the natural language alone in ``language``. Results stored before
    # take the format a document's metadata names, else the one their file's name decides,
    # else the programming or data language the old column held; that value leaves
    # ``language`` ('' where no natural language is known), in the column and in the
    # stored answer alike.
    # 6
    """
    ALTER TABLE analysis_results ADD COLUMN format TEXT;
    UPDATE analysis_results AS a
       SET format = helios_old_format(f.path, a.language, json_extract(a.metadata, '$.format')),
           language = helios_old_language(a.language),
           result = CASE WHEN json_valid(a.result) AND json_type(a.result, '$.language') = 'text'
                         THEN json_set(a.result, '$.language', helios_old_language(a.language),
                                       '$.format', helios_old_format(
                                           f.path, a.language, json_extract(a.metadata, '$.format')))
                         ELSE a.result END
      FROM files AS f
     WHERE f.id = a.file_id AND a.category IS NOT NULL;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_MIGRATIONS = {version: sql for version, sql in enumerate(MIGRATIONS, start=1)}


def relative_path(path: bytes, folder: bytes) -> str:
    """The path as the search index holds it: relative to the run's folder (no leading
    separator), else whole. The one place it is computed: the writer calls it, and the
    migration that built the index calls it through SQLite (``helios_relative_path``)."""
    path, prefix = bytes(path), bytes(folder) + b"/"
    if path.startswith(prefix):
        path = path[len(prefix):]
    return path.decode("utf-8", "replace")


def old_language(language: str | None) -> str | None:
    """A language stored before schema 6 as the new column holds it: a natural language
    stays, a programming or data language ("Python", "INI") or "unknown" becomes ''."""
    from ..scan.languages import natural_name

    if language is None:
        return None
    return natural_name(language) or ""


def old_format(path: bytes, language: str | None, document: str | None = None) -> str:
    """The format of a result stored before schema 6: the document's (its metadata's
    ``format``), else what its file's name decides, else the programming or data
    language the old language column held, else ''."""
    from ..scan.formats import stored_format
    from ..scan.kinds import format_by_name

    if document:
        return stored_format(document, bytes(path))
    name = os.path.basename(bytes(path)).decode("utf-8", "replace")
    by_name = format_by_name(name)
    if by_name:
        return by_name
    if language and old_language(language) == "" and language.lower() != "unknown":
        return language
    return ""


def add_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("helios_relative_path", 2, relative_path, deterministic=True)
    conn.create_function("helios_old_format", 3, old_format, deterministic=True)
    conn.create_function("helios_old_language", 1, old_language, deterministic=True)


class SchemaProblem(Exception):
    """A database this Helios cannot migrate (newer, or not Helios's); the caller names it."""


def migrate(conn: sqlite3.Connection, path: os.PathLike, transaction) -> None:
    """Bring ``conn``'s database to SCHEMA_VERSION, one transaction per version.
    ``transaction()``: the writer's BEGIN IMMEDIATE ... COMMIT."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaProblem(f"database {path} has schema {version}, newer than this "
                            f"Helios ({SCHEMA_VERSION}); upgrade Helios")
    if version == 0 and conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]:
        raise SchemaProblem(f"{path} is an SQLite file but not a Helios database; "
                            "choose another --db")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with transaction():
            for statement in MIGRATIONS[target - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
