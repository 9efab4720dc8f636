"""The catalog's loader and its fit rules, on machines described as data."""

from __future__ import annotations

import pytest
import yaml

from helios_desktop.engines.hub_catalog import (GiB, CatalogError, Machine, find_entry, fit,
                                                load_catalog, this_machine)


def _machine(**kw) -> Machine:
    base = dict(ram_bytes=16 * GiB, gpu_memory=(), runtime="cpu", runtime_note="", disk_free=100 * GiB)
    return Machine(**{**base, **kw})


def test_fit_follows_runtime_memory_and_disk():
    cpu = find_entry("llama-3.2-3b-instruct-int4-cpu")
    cuda = find_entry("llama-3.2-3b-instruct-fp16-cuda")
    assert fit(cpu, _machine()).ok
    assert not fit(cpu, _machine(ram_bytes=2 * GiB)).ok
    assert "free disk" in fit(cpu, _machine(disk_free=1 * GiB)).reason
    assert "no onnxruntime-genai" in fit(cpu, _machine(runtime=None)).reason
    assert "NVIDIA GPU" in fit(cuda, _machine()).reason
    assert "onnxruntime-genai-cuda" in fit(cuda, _machine(gpu_memory=(80 * GiB,))).reason
    assert "GPU memory" in fit(cuda, _machine(gpu_memory=(4 * GiB,), runtime="cuda")).reason
    assert fit(cuda, _machine(gpu_memory=(4 * GiB, 80 * GiB), runtime="cuda")).ok


def test_this_machine_reads_ram_and_disk():
    m = this_machine()
    assert m.ram_bytes > 0 and m.disk_free > 0


def test_a_site_catalog_adds_entries_and_a_moving_revision_is_refused(tmp_path, monkeypatch):
    good = {"name": "site-model", "repo": "org/m", "subfolder": "cpu", "revision": "a" * 40,
            "onnx_file": "model.onnx", "size_bytes": 10, "runtime": "cpu", "licence": "MIT"}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"models": [good]}))
    monkeypatch.setenv("HELIOS_CATALOG", str(path))
    names = [e.name for e in load_catalog()]
    assert "site-model" in names and "phi-3.5-mini-instruct-int4-cpu" in names
    path.write_text(yaml.safe_dump({"models": [{**good, "revision": "main"}]}))
    with pytest.raises(CatalogError, match="40-hex"):
        load_catalog()
    with pytest.raises(CatalogError, match="no catalog entry named"):
        find_entry("nope", [])
