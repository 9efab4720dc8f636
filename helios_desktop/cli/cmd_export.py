"""`helios export`: a run's results as CSV or JSONL."""

from __future__ import annotations

import sys
from pathlib import Path

from .cmd_search import folder_arg
from .common import EXIT_OK, CliError, chosen_run, database, settings_from


def run(args) -> int:
    from ..store.export import export
    from ..store.ledger import LedgerError, open_readonly
    from ..store.reader import LedgerReader, RunNotFound

    db = Path(args.db) if args.db else database(settings_from(args))
    try:
        conn = open_readonly(db)
    except LedgerError as exc:
        raise CliError(str(exc)) from None
    try:
        # The run exported is said, and chosen the way `helios search` chooses it.
        run_ = LedgerReader.on(conn, db).choose_run(folder_arg(args.folder), args.run)
        n = export(conn, args.format, args.out, run_["id"], stdout=sys.stdout)
    except (ValueError, RunNotFound) as exc:
        raise CliError(str(exc)) from None
    except BrokenPipeError:
        raise  # the reader closed the pipe: main() ends quietly
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        conn.close()
    where = f" to {args.out}" if args.out else ""
    print(f"{n} rows of {chosen_run(run_, args)} written{where}", file=sys.stderr)
    return EXIT_OK


def register(sub, common) -> None:
    p = sub.add_parser("export", help="export results as CSV or JSONL")
    p.add_argument("folder", nargs="?",
                   help="the analyzed folder to export (default: the newest run in the database)")
    p.add_argument("--db", help="results database (default: the configured one)")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    p.add_argument("--run", type=int, help="run id (default: the folder's newest run)")
    p.add_argument("--out", help="output file (default: stdout)")
    common(p)
    p.set_defaults(func=run)
