"""How many worker processes, and how many ONNX Runtime threads each: ``workers`` and
``intra_op_threads``, sized to the machine.

A number in the configuration is used as given. ``auto``:

- On the CPU, a short calibration runs the real engine on a few of Helios's own sample
  files with each candidate pair (workers x threads) that fits the cores (on 2 cores:
  1x2 and 2x1), measures files/s and keeps the fastest. The result is cached per model
  folder identity, provider, CPU model, core count, onnxruntime-genai version, batching
  and max_batch_size in the per-user cache folder, so it runs once per machine and model. It is bounded in time
  and never stops a run: when it fails, the old rule (one worker, the runtime's own
  thread count) is used and the log says why. A failure is cached too, so later runs
  start at once with one worker; ``helios config calibrate`` measures again.
- On CUDA, one worker per GPU, or more when every GPU's free memory holds more copies
  of the model (``gpu_workers`` and ``gpu_plan``, plain functions of the numbers NVML
  reports). Workers go to the GPUs round-robin, so each GPU gets the count the
  fullest one holds.
- With the ``openai`` engine, one worker (it keeps ``max_concurrency`` requests in flight).

``Sizing`` carries the numbers and one sentence saying why; the supervisor logs it, puts
it in the ``run_started`` event and the run summary, and ``helios config show`` prints it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..engines.model_folder import ModelFolder

log = logging.getLogger("helios.sizing")

CACHE_VERSION = 2         # 2: batching and max_batch_size in the key; failures cached
CACHE_NAME = "calibration.json"
BUDGET_S = 60.0           # the whole calibration, loads included
MIN_SECONDS = 3.0         # each candidate analyzes the sample files again until this long
MAX_CANDIDATES = 4
MAX_GPU_WORKERS = 4       # copies of one model per GPU, at most
GPU_HEADROOM = 0.9        # share of a GPU's free memory the workers may plan on
# Files of resources/samples the calibration analyzes: ordinary files of several kinds
# and lengths, like the folders Helios is pointed at.
SAMPLE_FILES = ("code/inventory.py", "docs/onboarding.md", "logs/app.log", "data/sales.csv",
                "reports/incident_report.txt", "letters", "code/server.js", "finance")


class CalibrationError(RuntimeError):
    """The calibration could not measure; the message says why (the run falls back)."""


class CalibrationInterrupted(CalibrationError):
    """Stopped, or out of time waiting for another calibration: nothing was learnt
    about this machine, so nothing is cached."""


@dataclass
class Sizing:
    workers: int
    intra_op_threads: int | None   # None: ONNX Runtime's own choice
    source: str                    # configured | calibrated | cached | gpu memory | rule | fallback
    why: str
    cache: str | None = None       # the cache file that holds the calibration, when one does
    measured: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        threads = (f"{self.intra_op_threads} intra-op thread"
                   f"{'s' if self.intra_op_threads != 1 else ''}" if self.intra_op_threads
                   else "the runtime's default threads")
        return (f"{self.workers} worker{'s' if self.workers != 1 else ''} x {threads} "
                f"({self.source}: {self.why})")

    def event_fields(self) -> dict:
        return {"workers": self.workers, "intra_op_threads": self.intra_op_threads,
                "sizing": self.source, "sizing_why": self.why}


# -- the machine -----------------------------------------------------------------------------

def cpu_cores() -> int:
    """The cores this process may run on (affinity and cgroup CPU sets included)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text("utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def genai_version() -> str:
    try:
        from importlib.metadata import version

        return version("onnxruntime-genai")
    except Exception:
        try:
            import onnxruntime_genai as og

            return str(getattr(og, "__version__", "unknown"))
        except ImportError:
            return "not installed"


def available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


# -- the cache ---------------------------------------------------------------------------------

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
    from ..paths import cache_dir

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


def failed_text(entry: dict) -> str:
    """What a cached failure says: when, why, and how to measure again."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry["at"]))
    return (f"calibration failed on {when}: {entry['failed']}; one worker; "
            "`helios config calibrate` measures again")


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


# -- candidates and the measurement ----------------------------------------------------------

def candidates(cores: int, threads: int | None = None, max_workers: int | None = None,
               limit: int = MAX_CANDIDATES) -> list[tuple[int, int]]:
    """(workers, threads) pairs that fill ``cores`` without oversubscribing them: on 2
    cores [(1, 2), (2, 1)]. ``threads``: the configured thread count (only the worker
    count is chosen). ``max_workers``: what memory allows. At most ``limit`` pairs, those
    with the most workers (small models on many cores gain most from processes)."""
    cores = max(1, cores)
    counts = sorted({w for w in (1, 2, 4, 8, 16, 32, 64) if w <= cores} | {min(cores, 64)})
    if threads:
        counts = [w for w in counts if w * threads <= cores] or [1]
    if max_workers is not None:
        counts = [w for w in counts if w <= max(1, max_workers)] or [1]
    counts = counts[-limit:]
    return [(w, threads or max(1, cores // w)) for w in counts]


def sample_paths() -> list[Path]:
    from ..resources import resource_path

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
    from .worker import die_with_parent

    die_with_parent()
    try:
        from ..analysis.schema import load_schema
        from ..engines.model_folder import ModelFolder
        from ..engines.registry import build_engine
        from ..engines.spec import EngineSpec
        from ..records import FileTask
        from ..scan.reader import read_document

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


def memory_workers(folder: ModelFolder, available: int) -> int:
    """How many copies of the model the free memory holds (weights twice over: the
    session's copy and its working memory), keeping a third of it for everything else."""
    need = max(1, 2 * folder.size_bytes())
    return max(1, int(available * 2 / 3 // need))


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


def _store(path: Path, key: dict, entry: dict) -> None:
    """Cache ``entry``; a cache that cannot be written costs the memory, not the result."""
    try:
        _write_cache(path, key, entry)
    except OSError as exc:
        log.warning("calibration cache %s cannot be written (%s): the result is used for this "
                    "run only", path, exc)


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


# -- GPUs --------------------------------------------------------------------------------------

def gpu_workers(total: int, free: int, model_bytes: int, *, paged: bool = False,
                kv_bytes: int | None = None, cap: int = MAX_GPU_WORKERS) -> tuple[int, str]:
    """Workers for one GPU with ``free`` of ``total`` bytes free, for a model whose files
    take ``model_bytes``. Each worker needs the weights plus room for its KV cache and
    activations (``kv_bytes``, by default the weights' size again, at least 512 MiB).
    A model with paged attention runs on og.Engine, which takes its KV cache as a share
    of the free memory and keeps the GPU busy alone: one worker."""
    if paged:
        return 1, "paged attention: og.Engine batches continuously and sizes its cache to the GPU"
    if total <= 0 or free <= 0 or model_bytes <= 0:
        return 1, "GPU memory unknown"
    kv = kv_bytes if kv_bytes is not None else max(model_bytes, 512 * 2**20)
    per_worker = model_bytes + kv
    fits = int(free * GPU_HEADROOM // per_worker)
    n = max(1, min(cap, fits))
    return n, (f"{free / 2**30:.1f} of {total / 2**30:.1f} GiB free holds {fits} cop"
               f"{'y' if fits == 1 else 'ies'} of {model_bytes / 2**30:.2f} GiB weights "
               f"+ {kv / 2**30:.2f} GiB cache" + (f" (at most {cap})" if fits > cap else ""))


# -- the decision ------------------------------------------------------------------------------

def decide(settings, spec, *, calibrate_now: bool = True, cancel: threading.Event | None = None,
           progress=None) -> Sizing:
    """Workers and intra-op threads for this run (see the module's docstring)."""
    workers, threads = settings.workers, settings.intra_op_threads
    threads = None if threads == "auto" else threads
    src = settings.sources
    if not spec.loads_model:
        n = 1 if workers == "auto" else workers
        why = ("model servers do the computing" if spec.engine == "openai"
               else "no model is loaded: the evidence decides every field")
        return Sizing(n, None, "configured" if workers != "auto" else "rule",
                      f"workers {workers} ({src['workers']}); {why}")
    if spec.provider == "cuda":
        return _decide_cuda(workers, threads, spec, src)
    cores = cpu_cores()
    if workers != "auto":
        t = threads or max(1, cores // workers)
        return Sizing(workers, t, "configured",
                      f"workers {workers} ({src['workers']}), intra_op_threads "
                      + (f"{threads} ({src['intra_op_threads']})" if threads
                         else f"auto: {cores} cores / {workers} workers"))
    entry = cached(spec.model, spec.provider, batching=spec.batching,
                   max_batch_size=spec.max_batch_size)
    if entry is not None and "failed" in entry:
        return Sizing(1, None, "fallback", failed_text(entry), str(cache_file()))
    if entry is not None and (threads is None or entry["intra_op_threads"] == threads):
        return Sizing(entry["workers"], entry["intra_op_threads"], "cached",
                      _measured_text(entry), str(cache_file()), entry.get("measured", []))
    if len(candidates(cores, threads)) == 1:
        w, t = candidates(cores, threads)[0]
        return Sizing(w, t, "rule", f"{cores} core{'s' if cores != 1 else ''}: one candidate")
    if not calibrate_now:
        return fallback(spec, "not calibrated yet")
    try:
        entry = calibrate(spec.model, spec.provider, threads=threads, cancel=cancel,
                          progress=progress, limits={
                              "max_batch_size": spec.max_batch_size,
                              "batching": spec.batching,
                              "max_input_tokens": spec.max_input_tokens,
                              "max_output_tokens": spec.max_output_tokens,
                              "max_file_size": spec.max_file_size,
                              "model_fields": None if spec.model_fields is None
                              else sorted(spec.model_fields)})
    except CalibrationInterrupted as exc:
        log.warning("workers auto: calibration not finished (%s); using one worker", exc)
        return fallback(spec, f"calibration not finished: {exc}")
    except Exception as exc:  # never break a run over a measurement
        log.warning("workers auto: calibration failed (%s); using one worker", exc)
        return fallback(spec, f"calibration failed: {exc}")
    return Sizing(entry["workers"], entry["intra_op_threads"], "calibrated",
                  _measured_text(entry), str(cache_file()), entry["measured"])


def will_calibrate(settings, spec) -> bool:
    """Whether ``decide`` will measure (nothing cached yet for this model on this machine;
    a cached failure counts: it is not measured again until ``helios config calibrate``)."""
    if not spec.loads_model or spec.provider == "cuda":
        return False
    if settings.workers != "auto":
        return False
    threads = None if settings.intra_op_threads == "auto" else settings.intra_op_threads
    if len(candidates(cpu_cores(), threads)) == 1:
        return False
    entry = cached(spec.model, spec.provider, batching=spec.batching,
                   max_batch_size=spec.max_batch_size)
    if entry is not None and "failed" in entry:
        return False
    return entry is None or (threads is not None and entry["intra_op_threads"] != threads)


def fallback(spec, why: str) -> Sizing:
    """The rule from before calibration: one worker on the CPU, threads left to ONNX Runtime."""
    return Sizing(1, None, "fallback", f"{why}; one worker on the CPU")


def _measured_text(entry: dict) -> str:
    parts = [f"{m['workers']}x{m['intra_op_threads']} {m['files_per_second']:.3g} files/s"
             for m in entry.get("measured", [])]
    return "measured " + (", ".join(parts) if parts else "(no figures)")


def _decide_cuda(workers, threads, spec, src) -> Sizing:
    from ..engines.devices import gpu_memory

    if workers != "auto":
        return Sizing(workers, threads, "configured", f"workers {workers} ({src['workers']})")
    memory = gpu_memory()
    if not memory:
        return Sizing(1, threads, "rule", "one worker: NVML reports no GPU memory")
    model_bytes = spec.model.size_bytes()
    workers, why = gpu_plan([gpu_workers(total, free, model_bytes,
                                         paged=spec.model.paged_attention)
                             for total, free in memory])
    return Sizing(workers, threads, "gpu memory", why)


def gpu_plan(per_gpu: list[tuple[int, str]]) -> tuple[int, str]:
    """All workers from each GPU's (count, why): the supervisor hands worker ``i`` to GPU
    ``i % GPUs``, so every GPU gets as many as the one with the least room holds."""
    if not per_gpu:
        return 1, "no GPU"
    each = min(n for n, _ in per_gpu)
    reasons = "; ".join(f"GPU {i}: {n} ({why})" for i, (n, why) in enumerate(per_gpu))
    if len(per_gpu) == 1:
        return each, reasons
    return each * len(per_gpu), (
        f"{reasons}; {each} per GPU x {len(per_gpu)} GPUs (workers go to the GPUs in turn, "
        "so each gets what the fullest one holds)")


def note_for_show(settings, model: ModelFolder | None, provider: str | None) -> dict[str, str]:
    """What ``helios config show`` adds to workers and intra_op_threads when they are auto."""
    if settings.workers != "auto" and settings.intra_op_threads != "auto":
        return {}
    if model is None or provider is None:
        text = "auto: decided at run start"
    elif provider == "cuda":
        text = "auto: one worker per GPU unless its memory holds more copies (decided at run start)"
    else:
        entry = cached(model, provider, batching=settings.batching,
                       max_batch_size=settings.max_batch_size)
        if entry is not None and "failed" in entry:
            text = f"auto: {failed_text(entry)} (for {model.name}; cached in {cache_file()})"
        elif entry is None:
            text = (f"auto: not calibrated yet for {model.name} on this machine "
                    "(the first run measures; or `helios config calibrate`)")
        else:
            text = (f"auto: calibrated {entry['workers']} worker"
                    f"{'s' if entry['workers'] != 1 else ''} x {entry['intra_op_threads']} "
                    f"thread{'s' if entry['intra_op_threads'] != 1 else ''} for {model.name}, "
                    f"{_measured_text(entry)}; cached in {cache_file()}")
    return {k: text for k in ("workers", "intra_op_threads") if settings.values[k] == "auto"}
