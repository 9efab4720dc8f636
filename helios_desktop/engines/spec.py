"""What a worker needs to build its engine: picklable specs, free of any engine's code."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import endpoint_label
from ..extract.base import ExtractOptions
from .model_folder import ModelFolder


@dataclass(frozen=True)
class EndpointsSpec:
    """What a worker needs to reach the servers (picklable; holds no key)."""

    urls: tuple[str, ...]
    api_model: str
    api_key_env: str | None = None
    max_concurrency: int = 4
    request_timeout: float = 120.0
    down_timeout: float = 60.0
    max_attempts: int = 4          # charged failures before a file fails as engine_error

    @property
    def label(self) -> str:
        return ", ".join(endpoint_label(u) for u in self.urls)


@dataclass(slots=True)
class EngineSpec:
    """What a worker needs to build its engine (picklable, sent at spawn).

    ``engine`` onnx: ``model`` is the folder. ``engine`` openai: ``model`` is None and
    ``endpoints`` says which servers to use. ``engine`` evidence: ``model`` is the folder
    the settings name, which is asked nothing and so never loaded.
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
    # og.Engine's dynamic batching settings set by the config (genai_config.json keys)
    engine_options: dict = field(default_factory=dict)
    extract: ExtractOptions | None = None       # how documents are read (None: the defaults)

    @property
    def model_name(self) -> str:
        if self.endpoints is not None:
            return self.endpoints.api_model
        return self.model.name

    @property
    def demonstration(self) -> bool:
        return bool(self.model and self.model.demonstration)

    @property
    def loads_model(self) -> bool:
        """Whether a worker loads a model into its own memory (sizing measures only those)."""
        return self.engine == "onnx" and self.model is not None
