"""The hardware, in one place: how many NVIDIA GPUs NVML sees, which execution provider
to use, and the NVML sampler that exports GPU utilisation and memory once a second."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("helios.gpu")


class ProviderError(RuntimeError):
    """``provider: cuda`` was asked for and cannot be had; the message says why."""


def gpu_count() -> int:
    """NVIDIA GPUs the driver reports (0 without a driver or NVML)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return pynvml.nvmlDeviceGetCount()
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        return 0


def gpu_memory() -> list[tuple[int, int]]:
    """(total, free) bytes of each NVIDIA GPU NVML sees ([] without a driver or NVML)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            out = []
            for i in range(pynvml.nvmlDeviceGetCount()):
                mem = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(i))
                out.append((int(mem.total), int(mem.free)))
            return out
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        return []


def cuda_usable() -> tuple[bool, str]:
    """Whether this onnxruntime-genai build can use CUDA here, and why not when it cannot."""
    try:
        import onnxruntime_genai as og
    except ImportError:
        return False, ("onnxruntime-genai is not installed "
                       "(install the gpu extra: pip install 'helios-desktop[gpu]')")
    # The GPU first: advice to swap ONNX Runtime builds means something only where there
    # is a GPU to use; a machine without one hears just that.
    if gpu_count() == 0:
        return False, "no NVIDIA GPU or driver found (NVML)"
    if not og.is_cuda_available():
        return False, ("this onnxruntime-genai build has no CUDA support "
                       "(replace onnxruntime-genai and onnxruntime with onnxruntime-genai-cuda and "
                       "onnxruntime-gpu: README, 'On an NVIDIA GPU')")
    return True, ""


def resolve_provider(requested: str) -> str:
    """``auto`` -> cuda or cpu (one log line says why); ``cuda`` fails clearly without CUDA."""
    if requested == "cpu":
        return "cpu"
    ok, why = cuda_usable()
    if ok:
        return "cuda"
    if requested == "cuda":
        raise ProviderError(f"provider 'cuda' was asked for, but {why}; use provider auto or cpu")
    log.warning("provider auto: using the CPU because %s", why)
    return "cpu"


class GpuSampler:
    """Samples into the metrics; with no NVIDIA driver it logs once and exports nothing."""

    def __init__(self, metrics, gpus: list[int] | None = None, interval: float = 1.0):
        self.metrics = metrics
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.available = False
        self.handles: dict[int, object] = {}
        self.last: dict[int, dict] = {}
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            wanted = range(count) if gpus is None else [g for g in gpus if g < count]
            self.handles = {i: pynvml.nvmlDeviceGetHandleByIndex(i) for i in wanted}
            self._nvml = pynvml
            self.available = bool(self.handles)
            if not self.available:
                log.info("NVML found no GPU: no GPU metrics")
        except Exception as exc:
            log.info("no NVIDIA driver (%s): no GPU metrics", exc.__class__.__name__)

    def start(self) -> None:
        if self.available:
            self.sample()
            self._thread = threading.Thread(target=self._run, name="helios-nvml", daemon=True)
            self._thread.start()

    def sample(self) -> None:
        nvml = self._nvml
        for index, handle in self.handles.items():
            try:
                util = nvml.nvmlDeviceGetUtilizationRates(handle)
                mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception as exc:  # a GPU that falls off the bus must not stop the run
                log.warning("NVML sample of GPU %d failed: %s", index, exc)
                continue
            gpu = str(index)
            self.metrics.gpu_utilization.labels(gpu).set(util.gpu / 100.0)
            self.metrics.gpu_memory_used.labels(gpu).set(mem.used)
            self.metrics.gpu_memory_total.labels(gpu).set(mem.total)
            self.last[index] = {"utilization": util.gpu / 100.0, "memory_used": mem.used,
                                "memory_total": mem.total}

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        if self.available:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
