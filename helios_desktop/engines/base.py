"""What the pipeline needs from an inference engine, whatever runs the model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from ..records import AnalysisResult, Document

_OOM = re.compile(r"out of memory|failed to allocate|cudaErrorMemoryAllocation|"
                  r"CUDA_ERROR_OUT_OF_MEMORY|CUBLAS_STATUS_ALLOC_FAILED|bad_alloc", re.I)


class EngineError(RuntimeError):
    """The engine cannot be created; the message says why and what to do."""


class EngineUnavailable(EngineError):
    """The engine cannot analyze anything for now (every model server is down).

    ``results`` maps positions in the batch to the results that did finish; the
    worker returns those and the run stops with the other files still pending.
    """

    def __init__(self, message: str, results: dict | None = None):
        super().__init__(message)
        self.results = results or {}
        self.outcomes: list = []


class InferenceEngine(Protocol):
    """One engine per worker process: documents in, one result per document out, in order."""

    model_name: str
    provider: str
    batch_size: int          # how many files the engine wants per lease (it owns this number)
    demonstration: bool

    def analyze(self, docs: list[Document]) -> list[AnalysisResult]: ...

    def close(self) -> None: ...


def import_genai():
    """The onnxruntime_genai module, or an EngineError that says how to install it."""
    try:
        import onnxruntime_genai
    except ImportError as exc:
        raise EngineError(f"onnxruntime-genai is not installed ({exc}); install the runtime with "
                          "pip install 'helios-desktop[cpu]', or 'helios-desktop[gpu]' for "
                          "NVIDIA GPUs (never both)") from None
    return onnxruntime_genai


def is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and bool(_OOM.search(str(exc))))


@dataclass
class Generation:
    """One prompt's raw output from a model."""

    text: str
    prompt_tokens: int
    generated_tokens: int
    complete: bool
    error: str | None = None  # this prompt alone failed in the runtime (the others stand)
    seconds: float | None = None  # engine time spent on it, where the engine measures it
