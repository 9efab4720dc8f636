"""Engines in one place: which engine the settings choose, and the one function that builds it.

``choose_engine`` is the only place that reads ``engine``, ``endpoints``, ``model_path``,
``provider`` and ``model_fields`` together; the command line, the window's readiness
check and sizing follow its answer. ``build_engine`` is the only place an engine object
is constructed: the worker, the calibration and ``helios models verify`` call it, so
they cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .base import EngineError
from .model_folder import ModelFolder
from .spec import EndpointsSpec, EngineSpec

ONNX, OPENAI, EVIDENCE = "onnx", "openai", "evidence"
EVIDENCE_ONLY = "evidence only"  # the model name of results no model was asked for


@dataclass(frozen=True)
class EngineChoice:
    """What runs the files: ``engine`` onnx (a local model), openai (model servers) or
    evidence (a model asked nothing: no engine is loaded)."""

    engine: str
    model: ModelFolder | None = None
    provider: str = "cpu"           # server, cuda or cpu; the setting as is when not resolved
    endpoints: EndpointsSpec | None = None
    model_fields: frozenset[str] | None = None

    @property
    def target(self) -> str:
        """Where the files go, as a person reads it: the servers and the model they run."""
        if self.endpoints is not None:
            return f"{self.endpoints.label} (model {self.endpoints.api_model})"
        if self.model is not None:
            return self.model.name
        return EVIDENCE_ONLY if self.engine == EVIDENCE else ""


# Helios settings -> og.Engine's dynamic_batching keys in genai_config.json (0.18).
ENGINE_SETTINGS = {"kv_cache_share": "gpu_utilization_factor", "kv_block_size": "block_size",
                   "max_scheduled_tokens": "max_scheduled_tokens"}


def engine_options(settings) -> dict:
    """The dynamic-batching keys the config sets (those left null keep the folder's)."""
    return {key: getattr(settings, name) for name, key in ENGINE_SETTINGS.items()
            if getattr(settings, name, None) is not None}


def choose_engine(settings, *, schema=None, resolve: bool = True) -> EngineChoice:
    """The engine the settings choose. ``schema``: the run's ``AnalysisSchema`` (None: the
    built-in one). ``resolve`` False only reads the settings (no model folder, no CUDA probe,
    no environment): the window's question "model server or local model?".

    Raises ``EngineError`` (or ``devices.ProviderError``) with what to fix."""
    from ..config import check_endpoint_url

    if settings.engine == OPENAI:
        if resolve and settings.api_key_env and not os.environ.get(settings.api_key_env):
            raise EngineError(f"api_key_env names {settings.api_key_env}, but that environment "
                              "variable is not set")
        endpoints = EndpointsSpec(
            urls=tuple(check_endpoint_url(u, settings.allow_insecure_remote)
                       for u in settings.endpoints),
            api_model=settings.api_model, api_key_env=settings.api_key_env,
            max_concurrency=settings.max_concurrency, request_timeout=settings.request_timeout,
            down_timeout=settings.endpoint_down_timeout)
        from .catalog import resolve_model_fields

        return EngineChoice(OPENAI, provider="server", endpoints=endpoints,
                            model_fields=resolve_model_fields(settings.model_fields, None))
    if not resolve:
        return EngineChoice(ONNX, provider=settings.provider)
    from .catalog import resolve_model_fields
    from .devices import resolve_provider
    from .model_folder import ModelFolderError, resolve_model_folder

    default_schema = schema is None or schema.is_default
    try:
        model = resolve_model_folder(settings.model_path)
    except ModelFolderError:
        # The embedded default, not built: a run that asks it no field needs no model (it
        # is built when a person chooses it). A folder named in model_path must be there.
        if settings.model_path or not default_schema or \
                not _asks_the_default_nothing(settings.model_fields):
            raise
        return EngineChoice(EVIDENCE, model=None, provider="cpu", model_fields=frozenset())
    fields = resolve_model_fields(settings.model_fields, model)
    if fields == frozenset() and default_schema:
        # asked nothing: the evidence decides every field, and no model is loaded
        return EngineChoice(EVIDENCE, model=model, provider="cpu", model_fields=fields)
    return EngineChoice(ONNX, model=model, provider=resolve_provider(settings.provider),
                        model_fields=fields)


def _asks_the_default_nothing(setting) -> bool:
    """Whether ``model_fields`` leaves the embedded default model no field: ``[]``, or
    ``auto`` (by measurement it decides none, docs/QUALITY.md)."""
    from ..paths import DEFAULT_MODEL_NAME
    from .catalog import MEASURED_FIELDS

    return setting == [] or (setting == "auto" and not MEASURED_FIELDS.get(DEFAULT_MODEL_NAME))


def build_engine(spec: EngineSpec, on_resized=None, on_report=None):
    """The engine ``spec`` describes, loaded and ready (``EngineError`` says why not).
    ``on_resized(old, new, why)``: the ONNX engine halved its batch; ``on_report(endpoints)``:
    the HTTP engine's per-endpoint counts."""
    from ..analysis.schema import AnalysisSchema

    schema = AnalysisSchema(spec.schema)
    if spec.engine == OPENAI:
        from .openai import OpenAIEngine

        return OpenAIEngine(spec.endpoints, schema,
                            max_input_tokens=spec.max_input_tokens,
                            max_output_tokens=spec.max_output_tokens, on_report=on_report,
                            model_fields=spec.model_fields)
    if spec.engine == EVIDENCE:
        from .evidence_only import EvidenceOnlyEngine

        return EvidenceOnlyEngine(spec.model_name, schema, batch_size=spec.max_batch_size,
                                  demonstration=spec.demonstration)
    from .onnx import ONNXInferenceEngine

    return ONNXInferenceEngine(spec.model, schema, provider=spec.provider,
                               requested_provider=spec.requested_provider,
                               batching=spec.batching,
                               max_batch_size=spec.max_batch_size,
                               max_input_tokens=spec.max_input_tokens,
                               max_output_tokens=spec.max_output_tokens,
                               model_fields=spec.model_fields,
                               intra_op_threads=spec.intra_op_threads,
                               engine_options=spec.engine_options,
                               on_batch_resized=on_resized)


__all__ = ["EngineChoice", "EngineError", "build_engine", "choose_engine"]
