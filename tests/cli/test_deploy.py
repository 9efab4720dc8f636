"""deploy/: the alert rules under the real promtool, and the dashboard's queries against
the metric names Helios exports."""

import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from helios_desktop.backend.metrics import Metrics

from conftest import REPO

PROM = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "helios-dashboard.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (scripts/system-deps.sh installs Debian's "
                             "prometheus package when run as root)")
# Written by the endpoint engine (issue 12); the alert is ready for them.
ENDPOINT_METRICS = {"helios_endpoint_up", "helios_endpoint_requests_total"}
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"],
            "gauge": [""], "info": ["_info"], "summary": ["", "_sum", "_count"]}


def exported_names() -> set[str]:
    """Every sample name the supervisor's registry serves on /metrics."""
    text = generate_latest(Metrics().registry).decode()
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + s for s in SUFFIXES.get(family.type, [""])}
        names |= {sample.name for sample in family.samples}
    return names


def names_in(expr: str) -> set[str]:
    return set(re.findall(r"\bhelios_[a-z0-9_]+", expr))


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p["targets"]]


def alert_rules() -> list[dict]:
    doc = yaml.safe_load((PROM / "helios-alerts.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


@needs_promtool
def test_alert_rules_unit_tests():
    result = subprocess.run([PROMTOOL, "test", "rules", "tests/helios-alerts-test.yml"],
                            cwd=PROM, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_every_alert_has_a_unit_test():
    tests = yaml.safe_load((PROM / "tests" / "helios-alerts-test.yml").read_text())["tests"]
    tested = {a["alertname"] for t in tests for a in t["alert_rule_test"] if a["exp_alerts"]}
    assert {r["alert"] for r in alert_rules()} == tested


@needs_promtool
def test_scrape_config_is_valid():
    result = subprocess.run([PROMTOOL, "check", "config", "prometheus.yml"], cwd=PROM,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_use_exported_metric_names():
    exported = exported_names() | ENDPOINT_METRICS
    for rule in alert_rules():
        used = names_in(rule["expr"])
        assert used and used <= exported, f"{rule['alert']}: {used - exported} not exported"


def test_dashboard_queries_use_exported_metric_names():
    exported = exported_names()
    queries = dashboard_queries()
    assert len(queries) >= 10
    for expr in queries:
        used = names_in(expr)
        assert used and used <= exported, f"{expr}: {used - exported} not exported"
    # The core metrics of the design all have a panel.
    shown = set().union(*map(names_in, queries))
    for name in ("helios_files_processed_total", "helios_queue_depth", "helios_tokens_total",
                 "helios_workers_alive", "helios_worker_restarts_total",
                 "helios_gpu_memory_used_bytes", "helios_gpu_utilization_ratio"):
        assert name in shown


@needs_promtool
def test_dashboard_queries_are_valid_promql(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(dashboard_queries())]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_runbook_covers_every_alert():
    runbook = (REPO / "docs" / "OPERATIONS.md").read_text()
    for rule in alert_rules():
        assert f"### {rule['alert']}" in runbook
        assert rule["annotations"]["description"].split("#")[1].rstrip(".") == rule["alert"].lower()
