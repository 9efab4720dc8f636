"""The supervisor with real worker processes: kills, poison files, hangs, metrics."""

import json
import os
import signal
import sqlite3
import urllib.request

import psutil

from helios_desktop.backend.events import parse_event
from helios_desktop.engines.devices import gpu_count

from conftest import analyze_args, db_rows
from support.runs import _corpus, _finish, _metrics, _start


def test_sigkill_of_a_worker_mid_batch_loses_nothing(tmp_path, tiny_model):
    folder = tmp_path / "c"
    _corpus(folder, 300)
    db = tmp_path / "h.db"
    proc = _start(folder, db, tiny_model, "--workers", "2", "--batch-size", "4")
    events, victim, port, scraped = [], None, None, None
    for line in proc.stdout:
        event = parse_event(line)
        events.append(event)
        if event["event"] == "run_started":
            port = event["metrics_port"]
        if event["event"] == "worker" and event["state"] == "busy" and victim is None:
            victim = event["pid"]
            os.kill(victim, signal.SIGKILL)
        # The supervisor counts the restart before it says "restarting": scrape then (a
        # "ready" from the other worker can come before the death is noticed).
        if victim and event["event"] == "worker" and event["state"] == "restarting" \
                and scraped is None:
            scraped = _metrics(port)
    assert _finish(proc, events) == 0, proc.stderr.read()
    assert victim is not None
    finished = events[-1]
    assert finished["event"] == "run_finished" and finished["status"] == "completed"
    assert finished["restarts"] >= 1
    assert any(e["event"] == "worker" and e["state"] == "restarting" for e in events)
    rows = db_rows(db)
    assert len(rows) == 300 and {r["status"] for r in rows} <= {"done", "failed"}
    assert all(r["reason"] in (None, "bad_output") for r in rows)
    assert any(r["attempts"] >= 1 for r in rows)  # the files it held were retried
    assert scraped is not None and scraped[("helios_worker_restarts_total", ())] >= 1


def test_poison_file_fails_as_worker_lost_and_the_run_completes(tmp_path, tiny_model):
    folder = tmp_path / "c"
    _corpus(folder, 40, marker="POISON-PILL-7", marker_at={13})
    db = tmp_path / "h.db"
    proc = _start(folder, db, tiny_model, "--workers", "1", "--batch-size", "4",
                  hooks={"exit_on": "POISON-PILL-7"})
    events = []
    assert _finish(proc, events) == 0, proc.stderr.read()
    rows = {os.path.basename(os.fsdecode(bytes(r["path"]))): r for r in db_rows(db)}
    poison = rows["r0013.txt"]
    assert (poison["status"], poison["reason"], poison["attempts"]) == ("failed", "worker_lost", 3)
    others = [r for name, r in rows.items() if name != "r0013.txt"]
    assert all(r["status"] in ("done", "failed") and r["reason"] != "worker_lost" for r in others)
    assert events[-1]["restarts"] == 3
    assert any(e["event"] == "file_failed" and e["reason"] == "worker_lost" for e in events)


def test_a_frozen_worker_is_killed_and_replaced(tmp_path, tiny_model):
    folder = tmp_path / "c"
    _corpus(folder, 30, marker="FREEZE-NOW", marker_at={5})
    db = tmp_path / "h.db"
    proc = _start(folder, db, tiny_model, "--workers", "1", "--batch-size", "2",
                  "--set", "worker_heartbeat_timeout=3", hooks={"hang_on": "FREEZE-NOW"})
    events = []
    assert _finish(proc, events) == 0, proc.stderr.read()
    assert events[-1]["restarts"] >= 1
    rows = {os.path.basename(os.fsdecode(bytes(r["path"]))): r for r in db_rows(db)}
    assert rows["r0005.txt"]["reason"] == "worker_lost"
    assert sum(r["status"] == "done" for r in rows.values()) >= 20


def test_metrics_during_a_run_match_the_ledger(tmp_path, tiny_model):
    folder = tmp_path / "c"
    _corpus(folder, 200)
    (folder / "zero.bin").write_bytes(b"\x00\x00")
    db = tmp_path / "h.db"
    proc = _start(folder, db, tiny_model, "--workers", "2", "--batch-size", "2",
                  "--set", "metrics_port=0")
    events, mid, health, port = [], None, None, None
    for line in proc.stdout:
        event = parse_event(line)
        events.append(event)
        if event["event"] == "run_started":
            port = event["metrics_port"]
            conns = [c for c in psutil.Process(proc.pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
            assert conns and all(c.laddr.ip == "127.0.0.1" for c in conns)
        if event["event"] == "progress" and event["done"] >= 20 and mid is None:
            mid = _metrics(port)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                assert resp.status == 200
                health = json.loads(resp.read())
        if event["event"] == "run_finished":
            final = _metrics(port)  # the exporter is still up until the summary is written
    assert _finish(proc, events) == 0, proc.stderr.read()
    assert health["status"] == "running" and health["workers_alive"] == 2
    processed = lambda m, s: m[("helios_files_processed_total", (("status", s),))]
    assert 0 < processed(mid, "done") < processed(final, "done")
    conn = sqlite3.connect(db)
    counts = dict(conn.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall())
    tokens = conn.execute("SELECT sum(generated_tokens), sum(prompt_tokens) FROM files").fetchone()
    conn.close()
    for status in ("done", "failed", "skipped"):
        assert processed(final, status) == counts.get(status, 0)
    assert final[("helios_files_discovered_total", ())] == 201
    assert final[("helios_tokens_total", (("kind", "generated"),))] == tokens[0]
    assert final[("helios_tokens_total", (("kind", "prompt"),))] == tokens[1]
    assert final[("helios_workers_alive", ())] >= 0
    assert final[("helios_queue_depth", ())] == 0
    assert ("helios_inference_duration_seconds_count", ()) in final
    # GPU series exactly when NVML sees a GPU (tests/engines/test_cuda.py checks their values)
    assert any(name.startswith("helios_gpu_") for name, _ in final) == (gpu_count() > 0)


def test_exporter_refuses_a_public_address_unless_allowed(tmp_path, tiny_model):
    from conftest import helios

    result = helios(*analyze_args(tmp_path, tmp_path / "h.db", tiny_model,
                                  "--set", "metrics_host=0.0.0.0"))
    assert result.returncode == 1 and "metrics_allow_remote" in result.stderr


def test_a_worker_busy_in_one_long_call_is_not_killed_as_frozen(tmp_path, tiny_model):
    # onnxruntime-genai holds the GIL in native calls (a model load, a long prefill), so
    # the heartbeat thread is silent meanwhile. Here the worker holds it for 6 s while
    # loading and 6 s in one batch, with a 2 s heartbeat timeout: it is busy (its CPU time
    # grows), not frozen, and must be neither killed nor charge its files an attempt.
    folder = tmp_path / "c"
    _corpus(folder, 6, marker="LONG-CALL", marker_at={2})
    db = tmp_path / "h.db"
    proc = _start(folder, db, tiny_model, "--workers", "1", "--batch-size", "2",
                  "--set", "worker_heartbeat_timeout=2",
                  hooks={"hold_gil_at_load": 6, "hold_gil_on": "LONG-CALL", "hold_gil_seconds": 6})
    events = []
    assert _finish(proc, events) == 0, proc.stderr.read()
    assert events[-1]["event"] == "run_finished" and events[-1]["restarts"] == 0
    states = [e["state"] for e in events if e["event"] == "worker"]
    assert states[:3] == ["starting", "loading_model", "ready"]
    rows = db_rows(db)
    assert all(r["status"] == "done" and r["attempts"] == 0 for r in rows), rows


def test_a_user_stop_while_busy_releases_files_without_an_attempt(tmp_path, tiny_model):
    # The worker is still on its batch when the stop deadline passes and is killed: a stop
    # the user asked for is not a crash, so its files go back to pending as they were.
    import asyncio
    import io

    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.backend.events import EventWriter
    from helios_desktop.backend.messages import EngineSpec
    from helios_desktop.backend.supervisor import HeliosOrchestrator
    from helios_desktop.config import load_settings
    from helios_desktop.engines.model_folder import ModelFolder
    from helios_desktop.store.ledger import Ledger

    folder = tmp_path / "c"
    _corpus(folder, 8, marker="FREEZE-NOW", marker_at={0})
    settings = load_settings(None,
                             {"workers": 1, "worker_heartbeat_timeout": 3600,
                              "max_batch_size": 4, "max_output_tokens": 64})
    spec = EngineSpec(model=ModelFolder.read(tiny_model), provider="cpu", requested_provider="cpu",
                      schema=load_schema(None).schema, max_batch_size=4, max_input_tokens=64,
                      max_output_tokens=64, max_file_size=1 << 20,
                      test_hooks={"hang_on": "FREEZE-NOW"})
    ledger = Ledger(tmp_path / "h.db")
    run = None

    class Stream(io.StringIO):
        def write(self, text):
            for line in text.splitlines():
                event = parse_event(line)
                if event["event"] == "worker" and event["state"] == "busy":
                    run.request_stop()
            return len(text)

    run = HeliosOrchestrator(settings, str(folder), ledger, spec, events=EventWriter(Stream()),
                             stop_timeout=0.5)
    summary = asyncio.run(run.execute())
    assert summary.status == "interrupted"
    rows = db_rows(tmp_path / "h.db")
    assert rows and all(r["attempts"] == 0 for r in rows), rows
    assert not [r for r in rows if r["status"] == "leased"]
    frozen = next(r for r in rows if bytes(r["path"]).endswith(b"r0000.txt"))
    assert frozen["status"] == "pending" and frozen["attempts"] == 0
    ledger.close()
