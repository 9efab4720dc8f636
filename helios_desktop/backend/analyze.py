"""The analyze use-case: one folder analyzed end to end, for the command line and the window alike.

``analyze_folder`` checks the folder, chooses the engine, takes the database's lock, opens
the ledger, reopens failed files when asked, builds the worker's ``EngineSpec`` and runs
the supervisor. What a person reads comes back through ``notify``; presenting the
summary is the caller's.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("helios")


class AnalyzeError(Exception):
    """The analysis cannot start or failed; the message says why and what to do.
    ``reported``: already sent as an ``error`` event."""

    def __init__(self, message: str, *, reported: bool = False):
        super().__init__(message)
        self.reported = reported


@dataclass
class AnalyzeOptions:
    fresh: bool = False            # a new run: every file again
    retry_failed: bool = False     # only the failed files of the last run
    reuse_any_model: bool = False  # keep earlier results whatever model made them
    test_hooks: dict = field(default_factory=dict)


@dataclass
class AnalyzeOutcome:
    database: Path
    summary: object | None = None  # supervisor.RunSummary; None when nothing ran
    nothing_to_retry: str = ""     # why nothing ran (--retry-failed found no failed file)


def test_hooks_from_environment() -> dict:
    """Fault injection for the test suite only (HELIOS_TEST_HOOKS='{"exit_on": "MARKER"}')."""
    raw = os.environ.get("HELIOS_TEST_HOOKS")
    return json.loads(raw) if raw else {}


def lock_database(db: Path, holder: str):
    """The database's lock, held; or AnalyzeError naming the holder's pid."""
    from ..store.lock import DatabaseInUse, DatabaseLock

    try:
        return DatabaseLock(db, holder).acquire()
    except DatabaseInUse as exc:
        raise AnalyzeError(str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            from ..store.ledger import DiskFull

            raise AnalyzeError(str(DiskFull(db))) from None
        raise AnalyzeError(f"cannot lock database {db}: {exc.strerror or exc}") from None


def analyze_folder(folder, settings, options: AnalyzeOptions, *, events=None, on_progress=None,
                   stop_on_stdin: bool = False,
                   notify: Callable[[str], None] = lambda text: None) -> AnalyzeOutcome:
    """Analyze ``folder`` with ``settings``; raises AnalyzeError with what to do."""
    from ..analysis.schema import SchemaError, load_schema
    from ..engines.base import EngineError
    from ..engines.devices import ProviderError
    from ..engines.registry import choose_engine, engine_options
    from ..extract.base import ExtractOptions
    from ..folders import FolderError, check_folder, database_path
    from ..store.ledger import Ledger, LedgerError
    from .messages import EngineSpec

    try:
        folder = check_folder(folder)
    except FolderError as exc:
        raise AnalyzeError(str(exc)) from None
    try:
        schema = load_schema(settings.schema)
        choice = choose_engine(settings, schema=schema)
    except (SchemaError, EngineError, ProviderError) as exc:
        raise AnalyzeError(str(exc)) from None
    db = database_path(settings)
    db_lock = lock_database(db, "analysis")
    try:
        ledger = Ledger(db)
    except LedgerError as exc:
        db_lock.release()
        raise AnalyzeError(str(exc)) from None
    if options.retry_failed and options.fresh:
        ledger.close()
        db_lock.release()
        raise AnalyzeError("--retry-failed and --fresh contradict each other: --fresh re-analyzes "
                           "every file, --retry-failed only the failed ones; choose one")
    if options.retry_failed:
        from ..store.upkeep import RetryError, open_upkeep, reopen_failed

        try:
            conn = open_upkeep(db)  # upkeep writes through a connection of its own
            try:
                run_id, reopened = reopen_failed(conn, os.fsencode(os.path.abspath(folder)))
            finally:
                conn.close()
        except (RetryError, LedgerError) as exc:
            ledger.close()
            db_lock.release()
            raise AnalyzeError(str(exc)) from None
        if not reopened:
            ledger.close()
            db_lock.release()
            return AnalyzeOutcome(db, nothing_to_retry=f"run {run_id} of {folder} has no failed "
                                                       "files; nothing to retry")
        log.info("retrying %d failed files of run %d", reopened, run_id)
        notify(f"retrying the {reopened} failed files of run {run_id}")
    spec = EngineSpec(model=choice.model, provider=choice.provider,
                      requested_provider=settings.provider,
                      batching=settings.batching, schema=schema.schema, root=str(folder),
                      max_batch_size=settings.max_batch_size,
                      max_input_tokens=settings.max_input_tokens,
                      max_output_tokens=settings.max_output_tokens,
                      max_file_size=settings.max_file_size, test_hooks=options.test_hooks,
                      engine=choice.engine, endpoints=choice.endpoints,
                      model_fields=choice.model_fields,
                      engine_options=engine_options(settings),
                      extract=ExtractOptions.from_settings(settings.values))
    _log_choice(spec, settings, events, notify)
    return AnalyzeOutcome(db, summary=_run(settings, folder, ledger, db_lock, spec, options,
                                           events, on_progress, stop_on_stdin))


def _log_choice(spec, settings, events, notify) -> None:
    from .sizing import will_calibrate

    log.info("the model decides %s (model_fields %s)",
             "every field" if spec.model_fields is None else
             ", ".join(sorted(spec.model_fields)) or "no field", settings.model_fields)
    if spec.engine == "evidence":
        log.info("model_fields resolves to no field for %s: the model is not loaded, the "
                 "files' evidence decides every field", spec.model.name)
    if spec.endpoints is not None:
        log.info("files are sent to %s (model %s)", spec.endpoints.label, settings.api_model)
        if events is None:
            notify(f"Sending files to {spec.endpoints.label} (model {settings.api_model})")
    if will_calibrate(settings, spec):
        log.info("workers auto: calibrating %s on this machine", spec.model.name)
        notify(f"helios: workers auto: measuring the fastest workers x threads for "
               f"{spec.model.name} on this machine (once; up to a minute)")


def _run(settings, folder, ledger, db_lock, spec, options, events, on_progress, stop_on_stdin):
    from .supervisor import HeliosOrchestrator, RunError, run_backend

    try:
        run = HeliosOrchestrator(settings, str(folder), ledger, spec, events=events,
                                 on_progress=on_progress, fresh=options.fresh,
                                 reuse_any_model=options.reuse_any_model,
                                 rescan=not options.retry_failed)
    except ValueError as exc:
        raise AnalyzeError(str(exc)) from None
    try:
        return run_backend(run, stop_on_stdin=stop_on_stdin)
    except RunError as exc:  # the backend has sent it as an ``error`` event
        raise AnalyzeError(str(exc), reported=True) from None
    except OSError as exc:
        raise AnalyzeError(str(exc)) from None
    except Exception as exc:  # a dying backend says so before it exits
        log.exception("the backend failed")
        raise AnalyzeError(f"internal error: {exc.__class__.__name__}: {exc} "
                           "(details in the log file; please report it)") from None
    finally:
        ledger.close()
        db_lock.release()
