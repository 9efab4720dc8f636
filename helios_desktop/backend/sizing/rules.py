"""The pure rules of sizing: candidates, GPU memory plans, the fallback, and how a decision reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...engines.model_folder import ModelFolder

MAX_CANDIDATES = 4
MAX_GPU_WORKERS = 4       # copies of one model per GPU, at most
GPU_HEADROOM = 0.9        # share of a GPU's free memory the workers may plan on

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


def memory_workers(folder: ModelFolder, available: int) -> int:
    """How many copies of the model the free memory holds (weights twice over: the
    session's copy and its working memory), keeping a third of it for everything else."""
    need = max(1, 2 * folder.size_bytes())
    return max(1, int(available * 2 / 3 // need))


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


def fallback(spec, why: str) -> Sizing:
    """The rule from before calibration: one worker on the CPU, threads left to ONNX Runtime."""
    return Sizing(1, None, "fallback", f"{why}; one worker on the CPU")


def _measured_text(entry: dict) -> str:
    parts = [f"{m['workers']}x{m['intra_op_threads']} {m['files_per_second']:.3g} files/s"
             for m in entry.get("measured", [])]
    return "measured " + (", ".join(parts) if parts else "(no figures)")
