"""Typed messages between the supervisor and its worker processes (defined once, versioned).

Each worker has its own duplex pipe; nothing is shared between processes that
can be killed. Files cross the pipe as ledger ids and paths, never as text: the
worker reads them itself, so no large text is pickled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engines.model_folder import ModelFolder
from ..extract.base import ExtractOptions
from ..engines.openai import EndpointsSpec
from ..records import AnalysisResult, FileTask

VERSION = 1


# supervisor -> worker

@dataclass(slots=True)
class Batch:
    batch_id: int
    items: list[FileTask]   # leased: each carries its ledger file_id
    v: int = VERSION


@dataclass(slots=True)
class Shutdown:
    v: int = VERSION


# worker -> supervisor

@dataclass(slots=True)
class WorkerState:
    worker: int
    pid: int
    state: str  # starting | loading_model | ready | busy | stopped
    device: str = ""
    batch_size: int = 0
    model: str = ""
    demonstration: bool = False
    v: int = VERSION


@dataclass(slots=True)
class Heartbeat:
    worker: int
    busy_since: float | None  # monotonic time the current batch started, None when idle
    v: int = VERSION


@dataclass(slots=True)
class BatchDone:
    worker: int
    batch_id: int
    outcomes: list[tuple[int, AnalysisResult]]
    seconds: float
    batch_size: int
    v: int = VERSION


@dataclass(slots=True)
class BatchResized:
    worker: int
    old: int
    new: int
    reason: str
    v: int = VERSION


@dataclass(slots=True)
class WorkerFailed:
    """Sent by a worker that cannot go on (the model does not load, say) before it exits.

    ``stop_run``: the run cannot go on at all (every model server is down); the
    worker stays alive until told to shut down, and its unfinished files stay pending.
    """

    worker: int
    message: str
    traceback: str = ""
    fatal: bool = True
    stop_run: bool = False
    v: int = VERSION


@dataclass(slots=True)
class EndpointReport:
    """Per-endpoint counts since the last report (engine openai): one dict per endpoint
    with endpoint, up, in_flight, latency_seconds, outcomes {outcome: n}, latencies, error."""

    worker: int
    endpoints: list[dict]
    v: int = VERSION


@dataclass(slots=True)
class EngineSpec:
    """What a worker needs to build its engine (picklable, sent at spawn).

    ``engine`` onnx: ``model`` is the folder. ``engine`` openai: ``model`` is None and
    ``endpoints`` says which servers to use.
    """

    model: ModelFolder | None
    provider: str            # resolved: cuda or cpu
    schema: dict
    max_batch_size: int
    max_input_tokens: int
    max_output_tokens: int
    max_file_size: int
    requested_provider: str = "auto"   # auto may fall back to the CPU if CUDA fails to load
    batching: str = "auto"             # auto | static | continuous (see engines/onnx.py)
    root: str = ""                     # the analyzed folder (prompts name files relative to it)
    gpu: int | None = None
    intra_op_threads: int | None = None   # None: ONNX Runtime's own choice
    test_hooks: dict = field(default_factory=dict)
    engine: str = "onnx"
    endpoints: EndpointsSpec | None = None
    model_fields: frozenset[str] | None = None  # what the model may decide (None: every field)
    extract: ExtractOptions | None = None       # how documents are read (None: the defaults)

    @property
    def model_name(self) -> str:
        if self.endpoints is not None:
            return self.endpoints.api_model
        return self.model.name

    @property
    def demonstration(self) -> bool:
        return bool(self.model and self.model.demonstration)
