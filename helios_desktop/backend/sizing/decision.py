"""The decision: workers and threads for a run, from the settings, the cache and the rules."""

from __future__ import annotations

import logging
import threading

from ...engines.model_folder import ModelFolder
from .cache import cache_file, cached, failed_text
from .calibration import CalibrationInterrupted, calibrate
from .machine import cpu_cores
from .rules import Sizing, _measured_text, candidates, fallback, gpu_plan, gpu_workers

log = logging.getLogger("helios.sizing")

def decide(settings, spec, *, calibrate_now: bool = True, cancel: threading.Event | None = None,
           progress=None) -> Sizing:
    """Workers and intra-op threads for this run (see the module's docstring)."""
    workers, threads = settings.workers, settings.intra_op_threads
    threads = None if threads == "auto" else threads
    src = settings.sources
    if not spec.loads_model:
        if spec.engine == "openai":  # one worker's requests keep the servers busy
            n, why = (1 if workers == "auto" else workers), "model servers do the computing"
        else:  # reading documents and the evidence are the work: one worker per core
            n = min(cpu_cores(), 8) if workers == "auto" else workers
            why = "no model is loaded: the evidence decides every field, one worker a core"
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


def _decide_cuda(workers, threads, spec, src) -> Sizing:
    from ...engines.devices import gpu_memory

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
