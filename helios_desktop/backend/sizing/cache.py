"""The calibration cache: keyed by model, machine and limits, one file per user, guarded by a lock."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

from ...engines.model_folder import ModelFolder
from .machine import cpu_cores, cpu_model, genai_version

log = logging.getLogger("helios.sizing")

CACHE_VERSION = 2         # 2: batching and max_batch_size in the key; failures cached
CACHE_NAME = "calibration.json"


class CalibrationError(RuntimeError):
    """The calibration could not measure; the message says why (the run falls back)."""


class CalibrationInterrupted(CalibrationError):
    """Stopped, or out of time waiting for another calibration: nothing was learnt
    about this machine, so nothing is cached."""

def model_identity(folder: ModelFolder) -> str:
    """Changes when the model's files do: names, sizes, modification times and the
    runtime configuration's content."""
    digest = hashlib.sha256()
    root = Path(folder.path)
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        st = path.stat()
        digest.update(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    digest.update(json.dumps(folder.config, sort_keys=True).encode())
    return digest.hexdigest()[:32]


def calibration_key(folder: ModelFolder, provider: str, batching: str = "auto",
                    max_batch_size: int = 8) -> dict:
    return {"model": model_identity(folder), "provider": provider, "cpu": cpu_model(),
            "cores": cpu_cores(), "onnxruntime_genai": genai_version(),
            "batching": batching, "max_batch_size": max_batch_size}


def _key_id(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]


def cache_file() -> Path:
    from ...paths import cache_dir

    return cache_dir() / CACHE_NAME


_warned: set[tuple[str, str]] = set()  # (cache, problem) already logged by this process


def _warn_once(path: Path, problem: str) -> None:
    if (str(path), problem) not in _warned:
        _warned.add((str(path), problem))
        log.warning("calibration cache %s %s: it will be measured again", path, problem)


def _read_cache(path: Path) -> dict:
    """The cache's entries; a missing, unreadable, corrupt or older cache counts as empty
    (logged once per process: it is measured again and rewritten)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _warn_once(path, f"cannot be read ({exc.__class__.__name__})")
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION \
            or not isinstance(data.get("entries"), dict):
        _warn_once(path, "is of another version or shape")
        return {}
    return data["entries"]


def _valid_entry(entry) -> bool:
    if isinstance(entry, dict) and "failed" in entry:  # a failure: one worker, its reason
        return isinstance(entry["failed"], str) and isinstance(entry.get("at"), (int, float))
    return (isinstance(entry, dict) and isinstance(entry.get("workers"), int)
            and not isinstance(entry.get("workers"), bool) and entry["workers"] >= 1
            and (entry.get("intra_op_threads") is None
                 or (isinstance(entry["intra_op_threads"], int)
                     and entry["intra_op_threads"] >= 1)))


def cached(folder: ModelFolder, provider: str, path: Path | None = None, *,
           batching: str = "auto", max_batch_size: int = 8) -> dict | None:
    """The cached calibration of this model on this machine, or None. An entry with
    ``failed`` records a calibration that could not measure (one worker)."""
    path = path or cache_file()
    key = calibration_key(folder, provider, batching, max_batch_size)
    entry = _read_cache(path).get(_key_id(key))
    if entry is None:
        return None
    if not _valid_entry(entry):
        log.warning("calibration cache %s holds a malformed entry for %s: it will be measured "
                    "again", path, folder.name)
        return None
    return entry


def _write_cache(path: Path, key: dict, entry: dict) -> None:
    entries = _read_cache(path)
    entries[_key_id(key)] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"version": CACHE_VERSION, "entries": entries}, indent=2) + "\n",
                   "utf-8")
    os.replace(tmp, path)


class _CacheLock:
    """One calibration at a time per user: two at once would measure each other. Waiting
    for it honours ``cancel`` and ``deadline`` (CalibrationInterrupted)."""

    def __init__(self, path: Path, deadline: float | None = None,
                 cancel: threading.Event | None = None, progress=None):
        self.path = path.with_name(path.name + ".lock")
        self.deadline, self.cancel, self.progress = deadline, cancel, progress
        self.handle = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # not on POSIX: no lock
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = open(self.path, "w")
        except OSError as exc:  # an unwritable cache folder costs the lock, not the run
            log.warning("calibration lock %s cannot be created (%s): measuring without it",
                        self.path, exc)
            return self
        told = False
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                pass
            if not told:
                told = True
                log.info("another calibration holds %s: waiting for it", self.path)
                if self.progress:
                    self.progress("calibrating: waiting for another calibration on this machine...")
            if self.cancel is not None and self.cancel.is_set():
                self._close()
                raise CalibrationInterrupted("stopped")
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self._close()
                raise CalibrationInterrupted(
                    f"another calibration held {self.path} for the whole time allowed")
            time.sleep(0.1)

    def _close(self):
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def __exit__(self, *exc):
        self._close()


def _store(path: Path, key: dict, entry: dict) -> None:
    """Cache ``entry``; a cache that cannot be written costs the memory, not the result."""
    try:
        _write_cache(path, key, entry)
    except OSError as exc:
        log.warning("calibration cache %s cannot be written (%s): the result is used for this "
                    "run only", path, exc)


def failed_text(entry: dict) -> str:
    """What a cached failure says: when, why, and how to measure again."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry["at"]))
    return (f"calibration failed on {when}: {entry['failed']}; one worker; "
            "`helios config calibrate` measures again")
