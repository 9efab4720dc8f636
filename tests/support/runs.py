"""Builders for whole runs: a corpus of reports, `helios analyze` as a child with events,
a scrape of its metrics, the events to its end."""

import json
import os
import subprocess
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO, analyze_args
from helios_desktop.backend.events import parse_event


def _corpus(root, n, marker=None, marker_at=()):
    root.mkdir()
    for i in range(n):
        text = f"Report {i}: shipments for depot {i % 11} were on time.\n" * 4
        if i in marker_at:
            text += marker + "\n"
        (root / f"r{i:04}.txt").write_text(text)


def _start(folder, db, model, *extra, hooks=None):
    env = os.environ.copy()
    if hooks:
        env["HELIOS_TEST_HOOKS"] = json.dumps(hooks)
    return subprocess.Popen([sys.executable, "-m", "helios_desktop",
                             *map(str, analyze_args(folder, db, model, "--events", "jsonl", *extra))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=env)


def _metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _finish(proc, events):
    for line in proc.stdout:
        events.append(parse_event(line))
    proc.wait(timeout=120)
    return proc.returncode
