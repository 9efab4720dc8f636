"""Providers and installs: CUDA falls back to the CPU under auto, one GPU per worker, and
the extras never put two onnxruntime builds side by side."""

import logging
import os
import tomllib

import pytest

from helios_desktop.analysis.schema import load_schema
from helios_desktop.backend.messages import EngineSpec
from helios_desktop.backend.worker import pin_gpu
from helios_desktop.engines.registry import build_engine
from helios_desktop.engines.base import EngineError
from helios_desktop.engines.model_folder import ModelFolder
from helios_desktop.engines.onnx import ONNXInferenceEngine

from conftest import REPO


def _spec(model, provider, requested):
    return EngineSpec(model=ModelFolder.read(model), provider=provider,
                      requested_provider=requested, schema=load_schema(None).schema,
                      max_batch_size=2, max_input_tokens=64, max_output_tokens=64,
                      max_file_size=1 << 20)


def test_worker_falls_back_to_the_cpu_when_cuda_fails_at_load_under_auto(tiny_model, caplog):
    # The supervisor resolved auto to cuda (NVML saw a GPU); then CUDA fails to load the
    # model (here: this onnxruntime-genai has no CUDA library). Under auto, the worker's
    # engine loads on the CPU instead, with one log line.
    with caplog.at_level(logging.WARNING, logger="helios.engine"):
        engine = build_engine(_spec(tiny_model, "cuda", "auto"), lambda *a: None)
    assert engine.provider == "cpu"
    lines = [r.message for r in caplog.records if "CUDA failed to load" in r.message]
    assert len(lines) == 1 and "using the CPU" in lines[0]
    engine.close()


def test_cuda_asked_for_by_name_does_not_fall_back(tiny_model):
    with pytest.raises(EngineError, match="cannot be loaded"):
        build_engine(_spec(tiny_model, "cuda", "cuda"), lambda *a: None)


def test_engine_refuses_an_unknown_batching(tiny_model):
    with pytest.raises(EngineError, match="batching 'waves'"):
        ONNXInferenceEngine(tiny_model, load_schema(None), provider="cpu", batching="waves")


def test_each_worker_is_pinned_to_its_gpu_even_when_one_is_inherited(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    pin_gpu(1)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
    pin_gpu(None)  # CPU workers leave it alone
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"


def _names(requirements):
    return {r.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
            for r in requirements}


def test_extras_never_install_two_onnxruntime_builds():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = _names(project["dependencies"])
    extras = project["optional-dependencies"]
    runtimes = {"onnxruntime", "onnxruntime-gpu", "onnxruntime-genai", "onnxruntime-genai-cuda"}
    assert not base & runtimes, "the runtime must be an extra, not a base dependency"
    assert _names(extras["cpu"]) & runtimes == {"onnxruntime-genai"}
    assert _names(extras["gpu"]) & runtimes == {"onnxruntime-genai-cuda", "onnxruntime-gpu"}
    # the CUDA 13 and cuDNN libraries come with onnxruntime-gpu's own extras
    gpu_line = next(r for r in extras["gpu"] if r.startswith("onnxruntime-gpu"))
    assert "[cuda,cudnn]" in gpu_line.replace(" ", "")
    for name, reqs in extras.items():
        if name not in ("cpu", "gpu"):  # no other extra may bring a runtime along
            assert not _names(reqs) & runtimes, name
            assert not any(r.startswith("helios-desktop[") and ("cpu" in r or "gpu" in r)
                           for r in reqs), name


def test_a_missing_runtime_is_a_clear_error(monkeypatch):
    import builtins

    from helios_desktop.engines.base import import_genai

    real = builtins.__import__

    def no_genai(name, *args, **kw):
        if name == "onnxruntime_genai":
            raise ImportError("No module named 'onnxruntime_genai'")
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_genai)
    with pytest.raises(EngineError, match=r"helios-desktop\[cpu\]"):
        import_genai()
