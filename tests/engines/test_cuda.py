"""The CUDA paths, on a machine with onnxruntime-genai-cuda and an NVIDIA GPU.

Skipped elsewhere (``-m cuda`` selects them). They use the tiny model (fp32, no paged
attention: og.Generator on CUDA); the 3B-shaped paged-attention model (og.Engine) and
a real out-of-memory are measured by ``python -m bench gpu`` (docs/PERFORMANCE.md).
"""

import json
import logging

import pytest

from helios_desktop.analysis.schema import DEFAULT_SCHEMA, load_schema
from helios_desktop.backend.events import parse_event
from helios_desktop.engines.devices import GpuSampler, cuda_usable, resolve_provider
from helios_desktop.engines.onnx import ONNXInferenceEngine
from helios_desktop.records import Status

from conftest import helios
from test_engine import docs, text_docs
from support.runs import _corpus, _finish, _metrics, _start

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not cuda_usable()[0], reason="needs onnxruntime-genai-cuda "
                                 f"and an NVIDIA GPU ({cuda_usable()[1]})")]


def test_auto_resolves_to_cuda(caplog):
    with caplog.at_level(logging.WARNING, logger="helios.gpu"):
        assert resolve_provider("auto") == "cuda"
    assert not caplog.records


def test_guided_batch_on_cuda_matches_the_cpu(tiny_model):
    import jsonschema

    kw = dict(max_batch_size=8, max_input_tokens=64, max_output_tokens=1024)
    gpu = ONNXInferenceEngine(tiny_model, load_schema(None), provider="cuda", **kw)
    assert gpu.provider == "cuda" and not gpu.paged
    on_gpu = gpu.analyze(docs())
    for r in on_gpu:
        assert r.status == Status.DONE, (r.path, r.message, r.raw_output[:200])
        jsonschema.validate(r.data, DEFAULT_SCHEMA)
    on_cpu = ONNXInferenceEngine(tiny_model, load_schema(None), provider="cpu", **kw).analyze(docs())
    # Greedy decoding of the same weights: the same answers, up to float rounding on a
    # few near-ties; most rows must agree exactly.
    same = sum(a.raw_output == b.raw_output for a, b in zip(on_gpu, on_cpu))
    assert same >= len(on_cpu) // 2, [(a.raw_output[:60], b.raw_output[:60])
                                      for a, b in zip(on_gpu, on_cpu)]


def test_models_verify_uses_cuda(tiny_model):
    result = helios("models", "verify", tiny_model, "--provider", "cuda")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["provider_used"] == "cuda" and report["valid_json"] is True


def test_nvml_sampler_reads_the_gpu():
    from helios_desktop.backend.metrics import Metrics

    metrics = Metrics()
    sampler = GpuSampler(metrics)
    assert sampler.available
    sampler.sample()
    sampler.stop()
    first = sampler.last[0]
    assert 0 <= first["utilization"] <= 1
    assert 0 < first["memory_used"] <= first["memory_total"]


def test_run_on_cuda_exports_gpu_series(tmp_path, tiny_model):
    folder = tmp_path / "c"
    _corpus(folder, 120)
    db = tmp_path / "h.db"
    proc = _start(folder, db, tiny_model, "--provider", "cuda", "--batch-size", "16")
    events, final, port = [], None, None
    for line in proc.stdout:
        event = parse_event(line)
        events.append(event)
        if event["event"] == "run_started":
            port = event["metrics_port"]
            assert event["provider"] == "cuda" and event["gpu"] is True
            # a scraper seen during the run makes the exporter wait for its final scrape
            assert ("helios_gpu_memory_total_bytes", (("gpu", "0"),)) in _metrics(port)
        if event["event"] == "run_finished":
            final = _metrics(port)
    assert _finish(proc, events) == 0, proc.stderr.read()
    ready = [e for e in events if e["event"] == "worker" and e["state"] == "ready"]
    assert ready and all(e["device"] == "cuda" for e in ready)
    assert events[-1]["counts"]["done"] == 120
    util = final[("helios_gpu_utilization_ratio", (("gpu", "0"),))]
    used = final[("helios_gpu_memory_used_bytes", (("gpu", "0"),))]
    total = final[("helios_gpu_memory_total_bytes", (("gpu", "0"),))]
    assert 0 <= util <= 1 and 0 < used <= total


def test_cuda_oom_from_the_runtime_halves_the_batch(tiny_model):
    """The allocator's own error text, raised by og on CUDA, is recognised as an OOM."""

    class Capped(ONNXInferenceEngine):
        def generate(self, batch, kind="file"):
            if len(batch) > 2:
                # what onnxruntime raises when the CUDA arena cannot grow
                raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero "
                                   "status code returned while running MatMul node. Status "
                                   "Message: Failed to allocate memory for requested buffer "
                                   "of size 1073741824")
            return super().generate(batch, kind)

    resized = []
    eng = Capped(tiny_model, load_schema(None), provider="cuda", max_batch_size=8,
                 max_input_tokens=64, max_output_tokens=1024,
                 on_batch_resized=lambda old, new, why: resized.append((old, new)))
    results = eng.analyze(text_docs())
    assert resized[:2] == [(8, 4), (4, 2)]
    assert all(r.status == Status.DONE for r in results)
