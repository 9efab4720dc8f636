"""The embedded default model (Gemma 3 270M, int4, CPU), when it is built."""

import json
from pathlib import Path

import jsonschema
import pytest

from helios_desktop.paths import default_model
from helios_desktop.analysis.schema import DEFAULT_SCHEMA

from conftest import REPO, helios

# Resolved at import, before the per-test fixture points the user folders elsewhere.
DEFAULT = default_model()
SAMPLES = REPO / "resources" / "samples"
FIVE = ["code/inventory.py", "letters/thank_you.txt", "finance/invoice_2026_031.txt",
        "config/docker-compose.yml", "logs/app.log"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DEFAULT / "genai_config.json").exists(),
                       reason=f"default model not built at {DEFAULT} (run: helios models build-default)"),
]


def test_default_model_analyzes_five_samples(tmp_path):
    folder = tmp_path / "five"
    for rel in FIVE:
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((SAMPLES / rel).read_bytes())
    db = tmp_path / "h.db"
    result = helios("analyze", folder, "--db", db, "--model", DEFAULT, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "demonstration model" in result.stdout
    rows = [json.loads(line) for line in
            helios("export", "--db", db, "--format", "jsonl", check=True).stdout.splitlines()]
    assert len(rows) == 5
    for row in rows:
        assert row["status"] == "done", row
        jsonschema.validate(row["result"], DEFAULT_SCHEMA)
    by_name = {Path(r["path"]).name: r["result"] for r in rows}
    assert by_name["inventory.py"]["category"] == "source_code"
    assert by_name["inventory.py"]["language"] == "Python"
    assert by_name["invoice_2026_031.txt"]["category"] == "financial"
