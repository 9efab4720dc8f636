"""``python -m bench gpu --diagnose`` ends on any machine: on the CPU with the tiny model
every stage runs, is bounded by --stage-seconds, and prints its figures."""

import json
import subprocess
import sys

from conftest import REPO, TINY_MODEL


def _diagnose(tmp_path, stage_seconds: str, files: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "gpu", "--diagnose", "--provider", "cpu",
         "--model-dir", str(TINY_MODEL), "--sweep-files", str(files), "--stage-seconds",
         stage_seconds, "--batch-size", "4", "--max-input-tokens", "64",
         "--max-output-tokens", "24", "--tmp", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("JSON ")]
    assert len(lines) == 1, result.stdout[-2000:]
    return json.loads(lines[0][5:])


def test_every_stage_runs_and_prints_its_figures(tmp_path):
    out = _diagnose(tmp_path, "120", 12)
    assert out["provider"] == "cpu" and out["batching"].startswith("og.Generator")
    assert out["prepare"]["files"] == 12 and out["prepare"]["prompt_mean"] > 0
    for stage in ("guided", "unguided", "prefill"):
        point = out[stage]
        assert point["files"] == 12 and not point["cut_short"]
        assert point["files_per_s"] > 0 and point["generated_tokens"] > 0
        assert 0 < point["native_s"] <= point["wall_s"] + 1e-6
        assert point["gpu_util_mean"] is None  # no GPU here: said, not invented
    assert out["prefill"]["generated_mean"] == 1
    # the unguided stage is forced to the guided stage's mean length
    assert round(out["unguided"]["generated_mean"]) == max(1, round(out["guided"]["generated_mean"]))
    assert out["guidance_cost"] > 0


def test_a_stage_stops_at_its_deadline(tmp_path):
    out = _diagnose(tmp_path, "0.01", 40)
    for stage in ("guided", "unguided", "prefill"):
        # one chunk starts before the deadline is checked, then the stage stops
        assert out[stage]["cut_short"] and 0 < out[stage]["files"] < 40
