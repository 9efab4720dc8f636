"""`helios db`: runs, check, prune and vacuum of the results database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .common import EXIT_OK, EXIT_PROBLEMS, CliError, database, lock, settings_from


def run(args) -> int:
    from datetime import datetime

    from ..store import upkeep
    from ..store.ledger import LedgerError, open_readonly
    from ..store.lock import holder_of

    db = Path(args.db) if args.db else database(settings_from(args))
    if not db.exists():
        raise CliError(f"database {db} does not exist (give it with --db FILE)")
    if args.db_cmd == "runs":
        # Read-only: allowed while an analysis runs, and says so.
        try:
            conn = open_readonly(db)
        except LedgerError as exc:
            raise CliError(str(exc)) from None
        try:
            rows = upkeep.list_runs(conn)
        finally:
            conn.close()
        pid = holder_of(db)
        if pid:
            print(f"# in use by a running analysis (pid {pid})")
        print(f"{'run':>5}  {'started':<16}  {'status':<11}  {'files':>7}  {'done':>7}  "
              f"{'failed':>6}  {'skipped':>7}  {'pending':>7}  folder")
        for r in rows:
            c = r.counts
            started = datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M")
            print(f"{r.id:>5}  {started:<16}  {r.status:<11}  {r.total:>7}  {c['done']:>7}  "
                  f"{c['failed']:>6}  {c['skipped']:>7}  {c['pending'] + c['leased']:>7}  "
                  f"{os.fsdecode(r.folder)}")
        return EXIT_OK
    with lock(db, f"helios db {args.db_cmd}"):
        if args.db_cmd == "check":
            try:
                conn = open_readonly(db)
            except LedgerError as exc:
                print(f"{db}: {exc}")
                return EXIT_PROBLEMS
            try:
                problems = upkeep.check(conn)
            finally:
                conn.close()
            for line in problems:
                print(f"{db}: {line}")
            if not problems:
                print(f"{db}: ok", file=sys.stderr)
            return EXIT_PROBLEMS if problems else EXIT_OK
        try:
            conn = upkeep.open_upkeep(db)
        except LedgerError as exc:
            raise CliError(str(exc)) from None
        try:
            if args.db_cmd == "prune":
                try:
                    doomed = upkeep.runs_to_prune(conn, args.keep)
                except ValueError as exc:
                    raise CliError(str(exc)) from None
                if args.dry_run:
                    print(f"would delete {len(doomed)} runs: {' '.join(map(str, doomed)) or '-'}")
                    return EXIT_OK
                n = upkeep.prune(conn, doomed)
                print(f"deleted {n['runs']} runs ({n['files']} files, {n['results']} results)"
                      + (f": {' '.join(map(str, doomed))}" if doomed else "")
                      + "; `helios db vacuum` gives the space back to the disk")
            elif args.db_cmd == "vacuum":
                try:
                    before, after = upkeep.vacuum(conn, db)
                except upkeep.UpkeepError as exc:
                    raise CliError(str(exc)) from None
                print(f"{db}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
        finally:
            conn.close()
    return EXIT_OK



def register(sub, common) -> None:
    p = sub.add_parser("db", help="database upkeep: runs, check, prune, vacuum")
    dsub = p.add_subparsers(dest="db_cmd", required=True)
    for name, text in (("runs", "list runs with their file counts"),
                       ("check", "integrity and foreign keys; one line per problem, exit 2 if any"),
                       ("prune", "delete old runs and their results"),
                       ("vacuum", "give the space of deleted rows back to the disk")):
        q = dsub.add_parser(name, help=text)
        q.add_argument("--db", help="results database (default: the configured one)")
        common(q)
        if name == "prune":
            q.add_argument("--keep", type=int, required=True, metavar="N",
                           help="runs to keep per folder, newest first (at least 1)")
            q.add_argument("--dry-run", action="store_true", dest="dry_run",
                           help="print the runs that would be deleted")
    p.set_defaults(func=run)
