"""``python -m bench prompt-size`` runs, and asking a model fewer fields shortens every prompt."""

import json
import subprocess
import sys

from conftest import REPO


def test_asking_fewer_fields_shortens_the_fixed_part_of_every_prompt():
    result = subprocess.run([sys.executable, "-m", "bench", "prompt-size", "--fields",
                             "summary,keywords"], capture_output=True, text=True, timeout=300,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("JSON "))
    data = json.loads(line[5:])
    every, asked = data["every field"], data["asked: keywords, summary"]
    assert data["files"] >= 40
    assert 0 < asked["max"] < every["min"]  # fewer words for every file, not on average
