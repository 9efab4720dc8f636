"""`helios analyze`: one folder analyzed, with a progress bar or JSON events."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from ..backend.events import ErrorEvent, EventWriter
from ..config import ConfigError
from .common import EXIT_INTERRUPTED, EXIT_OK, CliError, settings_from, workers_arg

log = logging.getLogger("helios")


class _TerminalProgress:
    def __init__(self, stream):
        self.stream = stream

    def __call__(self, info: dict) -> None:
        from ..folders import Progress

        p = Progress.from_event(info)
        width = 24
        filled = int(width * p.finished / p.total) if p.total else 0
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {p.finished}/{p.total}  done {p.done}  failed {p.failed}  "
                          f"skipped {p.skipped}  {p.files_per_second:.1f} files/s  "
                          f"{p.eta_text() or 'ETA --'}   ")
        self.stream.flush()


def run(args) -> int:
    events = EventWriter(sys.stdout) if args.events == "jsonl" else None
    try:
        return _analyze(args, events)
    except (CliError, ConfigError) as exc:
        # the window reads why from the event stream: every refusal goes there too
        if events and not getattr(exc, "reported", False):
            events.emit(ErrorEvent(message=str(exc)))
        raise



def _analyze(args, events: EventWriter | None) -> int:
    from ..backend.analyze import (AnalyzeError, AnalyzeOptions, analyze_folder,
                                   test_hooks_from_environment)
    from ..folders import FolderError, check_folder

    try:  # the folder is checked before the settings: its error comes first
        check_folder(args.folder)
    except FolderError as exc:
        raise CliError(str(exc)) from None
    settings = settings_from(args)
    progress = _TerminalProgress(sys.stderr) if events is None and sys.stderr.isatty() else None
    options = AnalyzeOptions(fresh=args.fresh, retry_failed=args.retry_failed,
                             reuse_any_model=args.reuse_any_model,
                             test_hooks=test_hooks_from_environment())
    try:
        outcome = analyze_folder(args.folder, settings, options, events=events,
                                 on_progress=progress, stop_on_stdin=events is not None,
                                 notify=lambda text: print(text, file=sys.stderr))
    except AnalyzeError as exc:
        raise CliError(str(exc), reported=exc.reported) from None
    if outcome.summary is None:
        print(outcome.nothing_to_retry, file=sys.stderr if args.events else sys.stdout)
        return EXIT_OK
    if progress:
        sys.stderr.write("\n")
    _print_summary(outcome.summary, sys.stderr if events else sys.stdout, outcome.database)
    return EXIT_INTERRUPTED if outcome.summary.status == "interrupted" else EXIT_OK


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



def register(sub, common) -> None:
    p = sub.add_parser("analyze", help="analyze every file in FOLDER")
    p.add_argument("folder")
    p.add_argument("--db", help="results database (default: per-user data directory)")
    p.add_argument("--model", help="model folder (overrides model_path)")
    p.add_argument("--workers", type=workers_arg, metavar="N|auto")
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
    p.set_defaults(func=run)
