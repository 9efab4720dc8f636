"""What every command shares: the error that ends it, exit codes, settings from flags, the lock."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings, load_settings, parse_override

EXIT_OK, EXIT_FAIL, EXIT_INTERRUPTED = 0, 1, 130
EXIT_PROBLEMS = 2  # helios db check found problems


class CliError(Exception):
    """Ends the command with one clear line and exit code 1."""

    def __init__(self, message: str, *, reported: bool = False):
        super().__init__(message)
        self.reported = reported  # already sent as an ``error`` event


def settings_from(args) -> Settings:
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


def workers_arg(text: str):
    """--workers N or auto (validated with the setting)."""
    return int(text) if text.strip().lstrip("-").isdigit() else text


def database(settings: Settings) -> Path:
    from ..folders import database_path

    return database_path(settings)


def lock(db: Path, holder: str):
    """Take the database's lock, or end with the holder's pid."""
    from ..backend.analyze import AnalyzeError, lock_database

    try:
        return lock_database(db, holder)
    except AnalyzeError as exc:
        raise CliError(str(exc)) from None


def chosen_run(run: dict, args) -> str:
    """Which run a command used, for its last line: 'run 7 of /etc (completed 2026-12-07
    09:14)', and, when no folder was named, that it was the database's newest."""
    import os
    import time

    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started_at"]))
    text = f"run {run['id']} of {os.fsdecode(run['folder'])} ({run['status']}, started {when})"
    if getattr(args, "folder", None) is None and getattr(args, "run", None) is None:
        text += "; the newest in the database: name a folder to choose another"
    return text


def model_and_provider(settings: Settings):
    """The configured model folder and provider for sizing notes, without side effects
    (None, None when they cannot be known yet)."""
    from ..engines.base import EngineError
    from ..engines.devices import cuda_usable
    from ..engines.model_folder import resolve_model_folder
    from ..engines.registry import OPENAI, choose_engine

    if choose_engine(settings, resolve=False).engine == OPENAI:
        return None, None
    try:
        model = resolve_model_folder(settings.model_path)
    except EngineError:
        return None, None
    provider = settings.provider
    if provider == "auto":
        provider = "cuda" if cuda_usable()[0] else "cpu"
    return model, provider
