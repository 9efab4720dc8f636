"""`helios export`: a run's results as CSV or JSONL."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import EXIT_OK, CliError, database, settings_from


def run(args) -> int:
    from ..store.export import export
    from ..store.ledger import LedgerError, open_readonly

    db = Path(args.db) if args.db else database(settings_from(args))
    try:
        conn = open_readonly(db)
    except LedgerError as exc:
        raise CliError(str(exc)) from None
    try:
        n = export(conn, args.format, args.out, args.run, stdout=sys.stdout)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except BrokenPipeError:
        raise  # the reader closed the pipe: main() ends quietly
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        conn.close()
    if args.out:
        print(f"{n} rows written to {args.out}", file=sys.stderr)
    return EXIT_OK



def register(sub, common) -> None:
    p = sub.add_parser("export", help="export results as CSV or JSONL")
    p.add_argument("--db", help="results database (default: the configured one)")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    p.add_argument("--run", type=int, help="run id (default: the latest)")
    p.add_argument("--out", help="output file (default: stdout)")
    common(p)
    p.set_defaults(func=run)
