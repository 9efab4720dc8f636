"""`helios search`: full-text search of a run's results."""

from __future__ import annotations

import sys
from pathlib import Path

from ..records import display_path
from .common import EXIT_OK, CliError, settings_from


def run(args) -> int:
    """Full-text search of a run's results (relative path, summary, keywords, category)."""
    from ..folders import database_path
    from ..store.reader import search

    db = Path(args.db) if args.db else database_path(settings_from(args))
    if not db.exists():
        raise CliError(f"database {db} does not exist; analyze a folder first or give --db")
    count, rows = search(db, args.query, args.run)
    for row in rows:
        summary = (row.get("summary") or "").replace("\n", " ")
        print(f"{display_path(row['path'])}\t{row['status']}\t{row.get('category') or ''}\t"
              f"{summary[:100]}")
    print(f"{count} match{'es' if count != 1 else ''} for {args.query!r}", file=sys.stderr)
    return EXIT_OK



def register(sub, common) -> None:
    p = sub.add_parser("search", help="search the results (path, summary, keywords, category)")
    p.add_argument("query")
    p.add_argument("--db", help="results database (default: the configured one)")
    p.add_argument("--run", type=int, help="run id (default: the latest)")
    common(p)
    p.set_defaults(func=run)
