"""The calibration: real workers x threads measured on sample files, the fastest kept."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from pathlib import Path

from ...engines.model_folder import ModelFolder
from .cache import (CalibrationError, CalibrationInterrupted, _CacheLock, _store,  # noqa: F401
                    cache_file, cached, calibration_key)
from .machine import available_memory, cpu_cores
from .rules import candidates, memory_workers

log = logging.getLogger("helios.sizing")

BUDGET_S = 60.0           # the whole calibration, loads included
MIN_SECONDS = 3.0         # each candidate analyzes the sample files again until this long

# Files of resources/samples the calibration analyzes: ordinary files of several kinds
# and lengths, like the folders Helios is pointed at.
SAMPLE_FILES = ("code/inventory.py", "docs/onboarding.md", "logs/app.log", "data/sales.csv",
                "reports/incident_report.txt", "letters", "code/server.js", "finance")


def sample_paths() -> list[Path]:
    from ...resources import resource_path

    root = resource_path("samples")
    if root is None or not Path(root).is_dir():
        raise CalibrationError("the sample files (resources/samples) are missing; reinstall Helios")
    found = []
    for name in SAMPLE_FILES:
        p = Path(root) / name
        if p.is_dir():
            found += sorted(f for f in p.iterdir() if f.is_file())[:1]
        elif p.is_file():
            found.append(p)
    if not found:
        raise CalibrationError(f"no sample files in {root}")
    return found


def _calibration_child(conn, model_path: str, provider: str, threads: int, paths: list[bytes],
                       limits: dict) -> None:
    """One calibration worker: load the engine, say ready, wait for go, analyze, report."""
    from ..worker import die_with_parent

    die_with_parent()
    try:
        from ...analysis.schema import load_schema
        from ...engines.model_folder import ModelFolder
        from ...engines.registry import build_engine
        from ...engines.spec import EngineSpec
        from ...records import FileTask
        from ...scan.reader import read_document

        fields = limits.get("model_fields")
        engine = build_engine(EngineSpec(
            model=ModelFolder.read(model_path), provider=provider, requested_provider=provider,
            schema=load_schema(None).schema, intra_op_threads=threads,
            batching=limits["batching"], max_batch_size=limits["max_batch_size"],
            max_input_tokens=limits["max_input_tokens"],
            max_output_tokens=limits["max_output_tokens"], max_file_size=limits["max_file_size"],
            model_fields=None if fields is None else frozenset(fields)))
        docs = []
        for path in paths:
            st = os.stat(path)
            docs.append(read_document(FileTask(path, st.st_size, st.st_mtime_ns),
                                      limits["max_file_size"]))
        engine.analyze(docs[:1])  # warm up: the first call compiles the grammar
        conn.send(("ready", len(os.listdir("/proc/self/task"))
                   if os.path.isdir("/proc/self/task") else 0))
        if conn.recv() != "go":
            return
        started, files, tokens = time.monotonic(), 0, 0
        while True:  # rounds until MIN_SECONDS, so a fast model is measured on enough files
            results = engine.analyze(docs)
            files += len(results)
            tokens += sum(r.generated_tokens for r in results)
            if time.monotonic() - started >= limits["min_seconds"]:
                break
        conn.send(("done", time.monotonic(), files, tokens))
    except Exception as exc:  # the parent falls back; it logs this
        try:
            conn.send(("error", f"{exc.__class__.__name__}: {exc}"))
        except OSError:
            pass


def measure(folder: ModelFolder, provider: str, workers: int, threads: int, paths: list[Path],
            limits: dict, timeout: float, cancel: threading.Event | None = None) -> dict:
    """Files/s of ``workers`` processes of ``threads`` threads each on ``paths`` (every
    worker analyzes its share of them, all starting together once all are loaded)."""
    ctx = multiprocessing.get_context("spawn")
    shares = [[os.fsencode(p) for p in paths[i::workers]] for i in range(workers)]
    procs, conns = [], []
    deadline = time.monotonic() + timeout
    try:
        for share in shares:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_calibration_child, name="helios-calibration",
                               args=(child, folder.path, provider, threads, share, limits),
                               daemon=True)
            proc.start()
            child.close()
            procs.append(proc)
            conns.append(parent)
        tasks = [_expect(c, p, "ready", deadline, cancel) for c, p in zip(conns, procs)]
        started = time.monotonic()
        for c in conns:
            c.send("go")
        done = [_expect(c, p, "done", deadline, cancel) for c, p in zip(conns, procs)]
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)
        for c in conns:
            c.close()
    seconds = max(d[1] for d in done) - started
    files = sum(d[2] for d in done)
    return {"workers": workers, "intra_op_threads": threads, "files": files,
            "seconds": round(seconds, 3), "files_per_second": round(files / max(seconds, 1e-6), 4),
            "generated_tokens": sum(d[3] for d in done), "threads_seen": tasks}


def _expect(conn, proc, what: str, deadline: float, cancel: threading.Event | None):
    while True:
        if cancel is not None and cancel.is_set():
            raise CalibrationInterrupted("stopped")
        left = deadline - time.monotonic()
        if left <= 0:
            raise CalibrationError(f"a worker was not {what} in time")
        try:
            ready = conn.poll(min(left, 0.2))
        except (EOFError, OSError):
            ready = True
        if ready:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                proc.join(timeout=1)
                raise CalibrationError(f"a calibration worker died (exit code {proc.exitcode})") \
                    from None
            if message[0] == "error":
                raise CalibrationError(message[1])
            if message[0] == what:
                return message[1] if what == "ready" else message
        elif not proc.is_alive():
            raise CalibrationError(f"a calibration worker died (exit code {proc.exitcode})")


def calibrate(folder: ModelFolder, provider: str = "cpu", *, threads: int | None = None,
              limits: dict | None = None, budget: float = BUDGET_S,
              cancel: threading.Event | None = None, path: Path | None = None,
              progress=None, reuse: bool = True) -> dict:
    """Measure the candidates, cache the fastest and return the cache entry. When nothing
    could be measured, cache the failure and raise CalibrationError; a stop (or the budget
    spent waiting for another calibration) raises CalibrationInterrupted and caches
    nothing. ``reuse``: an entry another process cached while this one waited for the
    lock is returned as it is (``helios config calibrate`` measures anew)."""
    path = path or cache_file()
    limits = {"max_batch_size": 8, "max_input_tokens": 512, "max_output_tokens": 160,
              "max_file_size": 10 * 1024 * 1024, "min_seconds": MIN_SECONDS,
              "batching": "auto", **(limits or {})}
    key = calibration_key(folder, provider, limits["batching"], limits["max_batch_size"])
    started = time.monotonic()
    with _CacheLock(path, started + budget, cancel, progress):
        if reuse:
            entry = cached(folder, provider, path, batching=limits["batching"],
                           max_batch_size=limits["max_batch_size"])
            if entry is not None and "failed" in entry:
                raise CalibrationError(entry["failed"])
            if entry is not None and (threads is None or entry["intra_op_threads"] == threads):
                log.info("calibration: another process measured %s meanwhile", folder.name)
                return entry
        try:
            entry = _measure_candidates(folder, provider, threads, limits, key,
                                        started + budget, cancel, progress)
        except CalibrationInterrupted:
            raise
        except CalibrationError as exc:
            _store(path, key, {"workers": 1, "intra_op_threads": None, "failed": str(exc),
                               "key": key, "model_path": os.path.abspath(folder.path),
                               "at": time.time()})
            raise
        entry["seconds"] = round(time.monotonic() - started, 2)
        _store(path, key, entry)
    return entry


def _measure_candidates(folder, provider, threads, limits, key, deadline, cancel,
                        progress) -> dict:
    cores = cpu_cores()
    pairs = candidates(cores, threads, memory_workers(folder, available_memory()))
    paths = sample_paths()
    # enough files that every worker of the largest candidate gets two
    need = max(4, 2 * max(w for w, _ in pairs))
    paths = (paths * math.ceil(need / len(paths)))[:need] if len(paths) < need else paths[:need]
    measured, problems = [], []
    for i, (w, t) in enumerate(pairs):
        share = (deadline - time.monotonic()) / (len(pairs) - i)
        if share < 1:
            problems.append(f"{w}x{t}: no time left")
            continue
        if progress:
            progress(f"calibrating: {w} worker{'s' if w != 1 else ''} x {t} thread"
                     f"{'s' if t != 1 else ''} on {len(paths)} sample files...")
        try:
            m = measure(folder, provider, w, t, paths, limits, share, cancel)
        except CalibrationInterrupted:
            raise
        except CalibrationError as exc:
            problems.append(f"{w}x{t}: {exc}")
            log.warning("calibration of %d workers x %d threads failed: %s", w, t, exc)
            continue
        log.info("calibration: %d workers x %d threads: %.3f files/s (%d files in %.2fs)",
                 w, t, m["files_per_second"], m["files"], m["seconds"])
        measured.append(m)
    if not measured:
        raise CalibrationError("no candidate could be measured: " + "; ".join(problems))
    best = max(measured, key=lambda m: m["files_per_second"])
    return {"workers": best["workers"], "intra_op_threads": best["intra_op_threads"],
            "key": key, "model_path": os.path.abspath(folder.path), "measured": measured,
            "problems": problems, "limits": limits, "files": len(paths), "at": time.time()}
