"""`helios search`: find a run's files by path, summary, keywords or category."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..records import display_path
from .common import EXIT_OK, CliError, chosen_run, settings_from


def run(args) -> int:
    """Search one run: every file by its relative path, results also by summary, keywords
    and category. Says which run of which folder it searched."""
    from ..folders import database_path
    from ..store.reader import RunNotFound, search

    db = Path(args.db) if args.db else database_path(settings_from(args))
    if not db.exists():
        raise CliError(f"database {db} does not exist; analyze a folder first or give --db")
    try:
        run_, count, rows = search(db, args.query, args.run, folder_arg(args.folder))
    except RunNotFound as exc:
        raise CliError(str(exc)) from None
    for row in rows:
        summary = (row.get("summary") or "").replace("\n", " ")
        detail = summary[:100] if row["status"] == "done" else (row.get("reason") or "")
        print(f"{display_path(row['path'])}\t{row['status']}\t{row.get('category') or ''}\t"
              f"{detail}")
    print(f"{count} match{'es' if count != 1 else ''} for {args.query!r} in "
          f"{chosen_run(run_, args)}", file=sys.stderr)
    return EXIT_OK


def folder_arg(folder: str | None) -> bytes | None:
    """A folder named on the command line, as the ledger stores it (absolute, resolved)."""
    return None if folder is None else os.fsencode(Path(folder).expanduser().resolve())


def register(sub, common) -> None:
    p = sub.add_parser("search", help="find files of a run by path, summary, keywords or "
                                      "category")
    p.add_argument("query")
    p.add_argument("folder", nargs="?",
                   help="the analyzed folder to search (default: the newest run in the database)")
    p.add_argument("--db", help="results database (default: the configured one)")
    p.add_argument("--run", type=int, help="run id (default: the folder's newest run)")
    common(p)
    p.set_defaults(func=run)
