"""Read-only queries on a Helios database, for the window and anything else that only looks.

``LedgerReader`` is the one place outside the writer that knows the tables: runs,
pages of results with filters and sorting, counts, the unfinished run of a folder,
and the result columns of the run's schema (the built-in fields, or the top-level
fields of a custom schema, read from the stored JSON). A database that does not exist
yet, or is mid-migration, reads as empty rather than failing.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

from .ledger import UNFINISHED, LedgerError, open_readonly

BUILTIN_FIELDS = ("category", "language", "summary", "keywords", "contains_personal_data")


class RunNotFound(LookupError):
    """No run matches what a command asked for; the message says what the database holds."""


@dataclass(frozen=True)
class Column:
    name: str     # what the row dict calls it
    header: str   # what a table shows
    expr: str     # its SQL expression


_FILE_COLUMNS = [Column("path", "Path", "f.path"), Column("status", "Status", "f.status")]
_TAIL_COLUMNS = [
    Column("tokens", "Tokens", "coalesce(f.prompt_tokens, 0) + coalesce(f.generated_tokens, 0)"),
    Column("seconds", "Seconds", "f.inference_seconds"), Column("reason", "Reason", "f.reason"),
]
_FORMAT = Column("format", "Format", "a.format")  # schema 6 on
_BUILTIN_COLUMNS = [
    Column("category", "Category", "a.category"), Column("language", "Language", "a.language"),
    _FORMAT, Column("summary", "Summary", "a.summary"), Column("keywords", "Keywords", "a.keywords"),
    Column("contains_personal_data", "Personal data", "a.contains_personal_data"),
]
_NUMERIC = {"tokens", "seconds", "contains_personal_data"}
_DETAIL = "f.message, a.result, a.raw_output, a.decided_by, f.id"
_SEARCH_TOKEN = re.compile(r"\w+", re.UNICODE)
# The quality gate's verdicts (schema 4); a database written before it reads as unchecked.
QUALITY_FILTERS = {"model": "json_extract(a.quality, '$.gate') = 'pass'",
                   "evidence": "json_extract(a.quality, '$.gate') = 'fail'",
                   "not_asked": "json_extract(a.quality, '$.gate') = 'not_asked'",
                   "unchecked": "a.result IS NOT NULL AND a.quality IS NULL"}


@dataclass(frozen=True)
class ResultQuery:
    """Which rows of a run, in what order (None run: the latest)."""

    run_id: int | None = None
    text: str = ""
    status: str = ""
    category: str = ""
    language: str = ""          # the result's language, exactly
    format: str = ""            # the result's format, exactly (schema 6 on)
    extension: str = ""         # ".txt": paths that end with it (any case)
    quality: str = ""           # a key of QUALITY_FILTERS, "" for all
    order_by: str = ""          # a column name; "" is the order files were found in
    descending: bool = False

    def with_(self, **changes) -> ResultQuery:
        return replace(self, **changes)


class LedgerReader:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def on(cls, conn: sqlite3.Connection, path: str | os.PathLike | None = None) -> LedgerReader:
        """A reader over a connection already open (its owner closes it)."""
        reader = cls.__new__(cls)
        reader.path, reader._conn = (Path(path) if path else None), conn
        return reader

    # -- connection ----------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection | None:
        """The read-only connection, opened when the database exists (None before)."""
        if self._conn is None and self.path.exists():
            try:
                self._conn = open_readonly(self.path)
            except LedgerError:
                return None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _all(self, sql: str, params=()) -> list:
        conn = self.conn
        if conn is None:
            return []
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error:
            return []  # not created yet, or mid-migration: the next read will do

    def _has_search(self) -> bool:
        """Whether the database has the search index (schema 3 and later)."""
        return bool(self._all("SELECT 1 FROM sqlite_master WHERE name = 'results_fts'"))

    def _evidence_expr(self) -> str:
        has = self._all("SELECT 1 FROM pragma_table_info('analysis_results') "
                        "WHERE name = 'evidence'")
        return "a.evidence" if has else "NULL"

    # -- runs ------------------------------------------------------------------------------

    def latest_run(self, folder: bytes | None = None) -> int | None:
        rows = (self._all("SELECT max(id) FROM runs WHERE folder = ?", (folder,)) if folder
                else self._all("SELECT max(id) FROM runs"))
        return rows[0][0] if rows else None

    def _folder_of_run(self, run_id: int | None) -> bytes:
        rows = self._all("SELECT folder FROM runs WHERE id = ?", (run_id,))
        return bytes(rows[0][0]) if rows else b""

    def folders(self) -> list[bytes]:
        """Every folder with a run in this database, the most recently analyzed first."""
        return [bytes(f) for (f,) in self._all(
            "SELECT folder FROM runs GROUP BY folder ORDER BY max(id) DESC")]

    def choose_run(self, folder: bytes | None = None, run_id: int | None = None) -> dict:
        """The run a command means: ``run_id`` (of ``folder`` when both are given), else the
        newest run of ``folder``, else the newest run of the database. RunNotFound says
        which folders the database does hold."""
        if run_id is not None:
            run = self.run(run_id)
            if run is None:
                raise RunNotFound(f"run {run_id} is not in {self.path}; "
                                  + self._folders_hint())
            if folder is not None and run["folder"] != folder:
                raise RunNotFound(f"run {run_id} is of {_shown(run['folder'])}, not of "
                                  f"{_shown(folder)}; leave out the folder or the run")
            return run
        latest = self.latest_run(folder)
        if latest is None:
            what = f"no run of {_shown(folder)}" if folder is not None else "no run"
            raise RunNotFound(f"{what} in {self.path}; {self._folders_hint()}")
        return self.run(latest)

    def _folders_hint(self) -> str:
        folders = self.folders()
        if not folders:
            return "analyze a folder first (helios analyze FOLDER)"
        shown = ", ".join(_shown(f) for f in folders[:5])
        more = f" and {len(folders) - 5} more" if len(folders) > 5 else ""
        return f"it holds runs of {shown}{more}"

    def unfinished_run(self, folder: bytes) -> int | None:
        """The run of ``folder`` that was stopped or killed before it completed."""
        rows = self._all(f"SELECT max(id) FROM runs WHERE folder = ? AND status IN {UNFINISHED}",
                         (folder,))
        return rows[0][0] if rows else None

    def runs(self, folder: bytes | None = None, run_id: int | None = None) -> list[dict]:
        """Runs (newest first) with their counts by status."""
        where, params = ("WHERE r.folder = ?", (folder,)) if folder else ("", ())
        if run_id is not None:
            where, params = "WHERE r.id = ?", (run_id,)
        rows = self._all(
            f"""SELECT r.id, r.folder, r.started_at, r.finished_at, r.status, r.model, r.provider,
                       r.excluded, r.reused,
                       sum(f.status = 'done'), sum(f.status = 'failed'), sum(f.status = 'skipped'),
                       sum(f.status IN ('pending', 'leased'))
                FROM runs r LEFT JOIN files f ON f.run_id = r.id {where}
                GROUP BY r.id ORDER BY r.id DESC""", params)
        keys = ("id", "folder", "started_at", "finished_at", "status", "model", "provider",
                "excluded", "reused", "done", "failed", "skipped", "pending")
        out = []
        for row in rows:
            run = dict(zip(keys, row))
            run["folder"] = bytes(run["folder"])
            for k in ("done", "failed", "skipped", "pending"):
                run[k] = run[k] or 0
            out.append(run)
        return out

    def counts(self, run_id: int) -> dict[str, int]:
        return dict(self._all("SELECT status, count(*) FROM files WHERE run_id = ? GROUP BY status",
                              (run_id,)))

    # -- results ---------------------------------------------------------------------------

    def columns(self, run_id: int | None = None) -> list[Column]:
        """The table's columns for a run: the built-in fields, or a custom schema's."""
        fields = self._result_fields(run_id)
        if fields is None or set(BUILTIN_FIELDS) <= set(fields):
            middle = [c for c in _BUILTIN_COLUMNS if c is not _FORMAT or self._has_format()]
        else:
            middle = [Column(f"field:{name}", name.replace("_", " ").capitalize(),
                             f"json_extract(a.result, '$.\"{_quote(name)}\"')") for name in fields]
        return [*_FILE_COLUMNS, *middle, *_TAIL_COLUMNS]

    def _result_fields(self, run_id: int | None) -> list[str] | None:
        run = run_id or self.latest_run()
        rows = self._all("SELECT a.result FROM files f JOIN analysis_results a ON a.file_id = f.id "
                         "WHERE f.run_id = ? AND a.result IS NOT NULL LIMIT 1", (run,))
        if not rows:
            return None
        try:
            data = json.loads(rows[0][0])
        except ValueError:
            return None
        return list(data) if isinstance(data, dict) else None

    def _has_quality(self) -> bool:
        return any(r[1] == "quality" for r in self._all("PRAGMA table_info(analysis_results)"))

    def _has_format(self) -> bool:
        """Whether results have a format column (schema 6 on; a database the window only
        reads may still be older)."""
        return any(r[1] == "format" for r in self._all("PRAGMA table_info(analysis_results)"))

    def _has_metadata(self) -> bool:
        return any(r[1] == "metadata" for r in self._all("PRAGMA table_info(analysis_results)"))

    def metadata(self, file_id: int) -> dict | None:
        """A document's metadata as its extractor read it (title, authors, created,
        modified, pages/slides/sheets, producer, language, format, notes, and the family's
        own: camera, gps, members, ...); None for a text file or a database before schema 5."""
        if not self._has_metadata():
            return None
        rows = self._all("SELECT metadata FROM analysis_results WHERE file_id = ?", (file_id,))
        return _loads(rows[0][0]) if rows else None

    def _where(self, query: ResultQuery) -> tuple[str, list]:
        run = query.run_id or self.latest_run()
        clauses, params = ["f.run_id = ?"], [run]
        if query.status:
            clauses.append("f.status = ?")
            params.append(query.status)
        if query.category:
            clauses.append("a.category = ?")
            params.append(query.category)
        if query.language:
            clauses.append("a.language = ?")
            params.append(query.language)
        if query.format:
            clauses.append("a.format = ?" if self._has_format() else "0")
            if self._has_format():
                params.append(query.format)
        if query.extension:
            clauses.append("CAST(f.path AS TEXT) LIKE ? ESCAPE '\\'")
            params.append("%" + _like_escape(query.extension))
        if query.quality in QUALITY_FILTERS:
            clauses.append(QUALITY_FILTERS[query.quality] if self._has_quality() else
                           ("0" if query.quality != "unchecked" else "a.result IS NOT NULL"))
        if query.text:
            # Every row is found by its path relative to the folder (skipped, failed and
            # pending rows too: they have no result to index), each word anywhere in it;
            # the results by full-text search of their summary, keywords and category.
            words = _SEARCH_TOKEN.findall(query.text) or [query.text]
            start = len(self._folder_of_run(run)) + 2  # 1-based, past the folder's "/"
            rel = "CAST(substr(f.path, ?) AS TEXT)"
            by_path = " AND ".join(f"{rel} LIKE ? ESCAPE '\\'" for _ in words)
            path_params = []
            for word in words:
                path_params += [start, "%" + _like_escape(word) + "%"]
            match = fts_query(query.text)
            if match and self._has_search():
                clauses.append(f"(({by_path}) OR f.id IN "
                               "(SELECT rowid FROM results_fts WHERE results_fts MATCH ?))")
                params += [*path_params, match]
            else:
                like = f"%{query.text}%"
                clauses.append(f"(({by_path}) OR a.summary LIKE ? "
                               "OR a.keywords LIKE ? OR a.result LIKE ?)")
                params += [*path_params, like, like, like]
        return "WHERE " + " AND ".join(clauses), params

    def count(self, query: ResultQuery) -> int:
        where, params = self._where(query)
        rows = self._all("SELECT count(*) FROM files f LEFT JOIN analysis_results a "
                         f"ON a.file_id = f.id {where}", params)
        return rows[0][0] if rows else 0

    def paths(self, query: ResultQuery) -> list[bytes]:
        """The paths of every row ``query`` selects (for exporting a filtered view)."""
        where, params = self._where(query)
        return [bytes(p) for (p,) in self._all(
            "SELECT f.path FROM files f LEFT JOIN analysis_results a ON a.file_id = f.id "
            f"{where}", params)]

    def run(self, run_id: int) -> dict | None:
        """One run with its counts (see ``runs``)."""
        return next((r for r in self.runs(run_id=run_id)), None)

    def overview(self, run_id: int, folder: str | bytes | None = None, top: int = 10) -> dict:
        """A run at a glance: counts by status, category, natural language, format and kind
        (extension), the largest and the failed files, the files flagged for personal data with the
        evidence that flagged them, and how many files hold public contacts only."""
        def grouped(sql: str) -> dict[str, int]:
            return {str(k): n for k, n in self._all(sql, (run_id,))}

        join = "FROM files f LEFT JOIN analysis_results a ON a.file_id = f.id WHERE f.run_id = ?"
        out = {
            "total": sum(grouped("SELECT status, count(*) FROM files WHERE run_id = ? "
                                 "GROUP BY status").values()),
            "status": grouped("SELECT status, count(*) FROM files WHERE run_id = ? "
                              "GROUP BY status ORDER BY count(*) DESC"),
            "category": grouped(f"SELECT a.category, count(*) {join} AND a.category IS NOT NULL "
                                f"GROUP BY a.category ORDER BY count(*) DESC LIMIT {top}"),
            "language": grouped(f"SELECT a.language, count(*) {join} AND a.language != '' "
                                f"GROUP BY a.language ORDER BY count(*) DESC LIMIT {top}"),
        }
        # One notion of format for every file (Python, INI, PDF, JPEG, ...): the column. A
        # database the window only reads may predate it (schema 5): there the documents'
        # metadata names theirs and text files count apart.
        if self._has_format():
            out["format"] = grouped(f"SELECT a.format, count(*) {join} AND a.format != '' "
                                    f"GROUP BY a.format ORDER BY count(*) DESC LIMIT {top}")
        elif self._has_metadata():
            out["format"] = grouped(
                f"SELECT coalesce(json_extract(a.metadata, '$.format'), 'text'), count(*) "
                f"{join} AND a.file_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT {top}")
        else:
            out["format"] = {}
        kinds: dict[str, int] = {}
        for (path,) in self._all("SELECT path FROM files WHERE run_id = ?", (run_id,)):
            ext = os.path.splitext(os.path.basename(bytes(path)))[1].lower()
            key = ext.decode("utf-8", "replace") or "(none)"
            kinds[key] = kinds.get(key, 0) + 1
        out["kind"] = dict(sorted(kinds.items(), key=lambda kv: -kv[1])[:top])
        out["largest"] = [(bytes(p), size) for p, size in self._all(
            "SELECT path, size FROM files WHERE run_id = ? AND size >= 0 "
            f"ORDER BY size DESC LIMIT {top}", (run_id,))]
        out["failed"] = [(bytes(p), reason or "", message or "") for p, reason, message in
                         self._all("SELECT path, reason, message FROM files WHERE run_id = ? "
                                   "AND status = 'failed' ORDER BY id LIMIT 200", (run_id,))]
        personal = []
        for p, evidence, decided in self._all(
                f"SELECT f.path, {self._evidence_expr()}, a.decided_by {join} "
                "AND a.contains_personal_data = 1 ORDER BY f.id LIMIT 500", (run_id,)):
            personal.append((bytes(p), personal_evidence(_loads(evidence), _loads(decided))))
        out["personal"] = personal
        # Files whose findings are all contacts in public notices (maintainers in a
        # copyright file): counted, not listed, so the list above shows what needs review.
        counted = self._all(
            f"SELECT count(*) {join} AND a.contains_personal_data = 0 "
            f"AND {self._evidence_expr()} IS NOT NULL", (run_id,))
        out["public_contacts"] = counted[0][0] if counted else 0  # none while not created
        return out

    def page(self, query: ResultQuery, columns: list[Column], offset: int,
             limit: int) -> list[dict]:
        """Rows ``offset`` to ``offset + limit`` as dicts: each column's name, plus ``message``,
        ``result``, ``raw_output``, ``decided_by`` (parsed) and ``file_id``."""
        where, params = self._where(query)
        order = "f.id"
        by_name = {c.name: c for c in columns}
        if query.order_by in by_name:
            direction = "DESC" if query.descending else "ASC"
            expr = by_name[query.order_by].expr
            if query.order_by not in _NUMERIC:
                # Text sorts as a person expects: without regard to case.
                expr = f"CAST({expr} AS TEXT) COLLATE NOCASE"
            order = f"{expr} {direction}, f.id"
        select = ", ".join(c.expr for c in columns)
        quality = "a.quality" if self._has_quality() else "NULL"
        metadata = "a.metadata" if self._has_metadata() else "NULL"
        rows = self._all(f"SELECT {select}, {_DETAIL}, {self._evidence_expr()}, {quality}, {metadata} "
                         "FROM files f LEFT JOIN analysis_results a "
                         f"ON a.file_id = f.id {where} ORDER BY {order} LIMIT ? OFFSET ?",
                         [*params, limit, offset])
        names = [c.name for c in columns] + ["message", "result", "raw_output", "decided_by",
                                             "file_id", "evidence", "quality", "metadata"]
        out = []
        for values in rows:
            row = dict(zip(names, values))
            row["path"] = bytes(row["path"])
            for key in ("result", "decided_by", "evidence", "quality", "metadata"):
                row[key] = _loads(row[key])
            out.append(row)
        return out


def personal_evidence(evidence: list | None, decided_by: dict | None = None) -> str:
    """What flagged a file for personal data, as stored with its result."""
    if evidence:
        return "; ".join(_evidence_item(e) for e in evidence)
    who = (decided_by or {}).get("contains_personal_data") or "model"
    return f"{who} answer, no stored evidence"


def _evidence_item(item) -> str:
    if isinstance(item, dict):
        where = f" (line {item['line']})" if item.get("line") else ""
        public = " (public contact)" if item.get("public_contact") else ""
        return f"{item.get('kind', 'match')}{where}: {item.get('sample', '')}{public}"
    return str(item)


def fts_query(text: str) -> str:
    """A person's words as an FTS5 query: every word must match, each as a prefix."""
    words = _SEARCH_TOKEN.findall(text)
    return " ".join(f'"{w}"*' for w in words)


def search(db, text: str, run_id: int | None = None,
           folder: bytes | None = None) -> tuple[dict, int, list[dict]]:
    """`helios search`: the run searched (see ``choose_run``; RunNotFound when none), the
    match count and the matching rows."""
    reader = LedgerReader(db)
    try:
        run = reader.choose_run(folder, run_id)
        query = ResultQuery(run_id=run["id"], text=text)
        columns = reader.columns(query.run_id)
        return run, reader.count(query), reader.page(query, columns, 0, 10_000)
    finally:
        reader.close()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _shown(folder: bytes) -> str:
    return os.fsdecode(folder)


def _loads(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _quote(name: str) -> str:
    return name.replace('"', '""').replace("'", "''")
