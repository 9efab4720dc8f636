"""Machine facts the sizing reads: cores, CPU model, runtime version, free memory."""

from __future__ import annotations

import os
import platform
from pathlib import Path

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
