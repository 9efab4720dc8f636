"""The OpenAI-compatible engine against real servers: llama.cpp's (llama-cpp-python) with
SmolLM2-135M-Instruct, and a small faulty proxy (tests/endpoint_proxy.py) in front of it.

The tests marked ``server`` need llama-cpp-python[server] and the SmolLM2 GGUF, which
``make test`` installs (``make server``); without them they are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
import subprocess
import sys
import threading

import pytest

from conftest import REPO, db_rows, events_of, helios

from helios_desktop.config import ConfigError, load_settings
from helios_desktop.config import check_endpoint_url, endpoint_label

from servers import LlamaServer, Proxy, free_port, needs_server, wait_for


@pytest.fixture
def servers():
    started: list = []
    yield started
    for s in started:
        s.kill()


class Run:
    """``helios analyze`` as a subprocess whose events are read as they come."""

    def __init__(self, folder, db, urls, *extra, env=None):
        args = [sys.executable, "-m", "helios_desktop", "analyze", str(folder), "--db", str(db),
                "--api-model", "smollm2", "--events", "jsonl", "--set", "max_output_tokens=96",
                "--set", "max_input_tokens=128", "--set", "max_concurrency=2",
                "--set", "request_timeout=900"]  # a busy 2-core machine: minutes per request
        for url in urls:
            args += ["--endpoint", url]
        self.proc = subprocess.Popen([*args, *map(str, extra)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.strip():
                self.events.append(json.loads(line))

    def done_count(self) -> int:
        progress = [e for e in self.events if e["event"] == "progress"]
        return progress[-1]["done"] if progress else 0

    def wait(self, timeout: float = 1500) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        self.stderr = self.proc.stderr.read()
        return code

    def answered(self) -> int:
        """Files answered so far (endpoint events come during a batch; progress after it)."""
        return self.endpoint_outcomes().get("ok", 0)

    def endpoint_outcomes(self, endpoint: str | None = None) -> dict[str, int]:
        total: dict[str, int] = {}
        for e in self.events:
            if e["event"] == "endpoint" and (endpoint is None or e["endpoint"] == endpoint):
                for k, v in e["outcomes"].items():
                    total[k] = total.get(k, 0) + v
        return total


def _corpus(root: Path, n: int) -> Path:
    folder = root / "corpus"
    folder.mkdir()
    kinds = [("py", "def add(a, b):\n    return a + b\n"), ("md", "# Notes\n\nMeeting on {i}.\n"),
             ("txt", "Invoice {i}: 3 chairs, 120 EUR.\n"), ("json", '{{"id": {i}, "ok": true}}\n')]
    for i in range(n):
        ext, text = kinds[i % len(kinds)]
        (folder / f"file_{i:03d}.{ext}").write_text(text.format(i=i))
    return folder


def _assert_each_once(db, n: int, statuses=("done",)) -> list[dict]:
    rows = db_rows(db)
    last_run = max(r["run_id"] for r in rows)
    rows = [r for r in rows if r["run_id"] == last_run]
    assert len(rows) == n
    assert len({r["path"] for r in rows}) == n
    assert {r["status"] for r in rows} <= set(statuses), {r["status"] for r in rows}
    return rows


# -- without a model server ----------------------------------------------------------------------

def test_settings_name_what_is_wrong(tmp_path):
    with pytest.raises(ConfigError, match="needs endpoints"):
        load_settings(None, {"engine": "openai"})
    with pytest.raises(ConfigError, match="needs api_model"):
        load_settings(None, {"engine": "openai", "endpoints": ["http://127.0.0.1:1/v1"]})
    with pytest.raises(ConfigError, match="allow_insecure_remote"):
        load_settings(None, {"engine": "openai", "endpoints": ["http://10.1.2.3:8000/v1"],
                             "api_model": "m"})
    ok = load_settings(None, {"engine": "openai", "endpoints": ["http://10.1.2.3:8000/v1"],
                              "api_model": "m", "allow_insecure_remote": True})
    assert ok.endpoints == ["http://10.1.2.3:8000/v1"]
    load_settings(None, {"engine": "openai", "endpoints": ["https://gpu.example.org/v1"],
                         "api_model": "m"})
    with pytest.raises(ConfigError) as info:
        load_settings(None, {"api_key_env": "sk-secret-123"})
    assert "sk-secret-123" not in str(info.value) and "api_key_env" in str(info.value)
    with pytest.raises(ConfigError, match="credentials"):
        load_settings(None, {"engine": "openai", "endpoints": ["https://u:pw@h.example/v1"],
                             "api_model": "m"})


def test_endpoint_urls_and_labels():
    assert check_endpoint_url("http://localhost:11434/v1/", False) == "http://localhost:11434/v1"
    assert check_endpoint_url("http://[::1]:8000/v1/chat/completions", False) == "http://[::1]:8000/v1"
    with pytest.raises(ValueError, match="http"):
        check_endpoint_url("ftp://x/v1", True)
    assert endpoint_label("https://h.example:8443/v1/") == "https://h.example:8443/v1"


def test_no_server_answers_is_a_clear_error(tmp_path):
    folder = _corpus(tmp_path, 2)
    port = free_port()
    result = helios("analyze", folder, "--db", tmp_path / "r.db", "--endpoint",
                    f"http://127.0.0.1:{port}/v1", "--api-model", "m", timeout=120)
    assert result.returncode == 1
    assert "no model server answers" in result.stderr and str(port) in result.stderr


def test_missing_key_variable_is_named(tmp_path):
    folder = _corpus(tmp_path, 1)
    env = {k: v for k, v in os.environ.items() if k != "HELIOS_TEST_KEY"}
    result = helios("analyze", folder, "--db", tmp_path / "r.db", "--endpoint",
                    "http://127.0.0.1:9/v1", "--api-model", "m", "--set",
                    "api_key_env=HELIOS_TEST_KEY", env=env, timeout=120)
    assert result.returncode == 1 and "HELIOS_TEST_KEY" in result.stderr


def _results(db) -> dict[str, dict]:
    """{file name: decided_by, quality, result, raw_output} of the last run."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT f.path, a.decided_by, a.quality, a.result, a.raw_output "
                        "FROM files f JOIN analysis_results a ON a.file_id = f.id "
                        "WHERE f.run_id = (SELECT max(id) FROM runs)").fetchall()
    conn.close()
    return {os.path.basename(os.fsdecode(bytes(p))): {
        "decided_by": json.loads(d), "quality": json.loads(q), "result": json.loads(r),
        "raw_output": raw} for p, d, q, r, raw in rows}


def test_server_that_ignores_the_schema_cannot_store_bad_data(tmp_path):
    """A real HTTP server that answers JSON of the wrong shape: nothing of it is stored;
    every file gets the evidence's result and the verdict says the model failed."""
    folder = _corpus(tmp_path, 4)
    proxy = Proxy("--ignore-schema", "--garbage-first", "2")
    try:
        run = Run(folder, tmp_path / "r.db", [proxy.url])
        assert run.wait() == 0, run.stderr
    finally:
        proxy.kill()
    _assert_each_once(tmp_path / "r.db", 4, statuses=("done",))
    for name, r in _results(tmp_path / "r.db").items():
        assert set(r["decided_by"].values()) == {"evidence"}, name
        assert r["quality"]["summary"]["verdict"] == "bad_output"
        assert r["quality"]["summary"]["detail"].startswith("schema:")
        assert r["result"]["category"] != "poetry" and isinstance(r["result"]["summary"], str)
        assert json.loads(r["raw_output"])["summary"] == 42  # the model's answer is kept
    assert run.endpoint_outcomes().get("malformed") == 2  # garbage bodies were retried


def test_model_fields_reach_the_server_engine(tmp_path):
    """model_fields decides which answers of a real HTTP server count, and the category
    gate replaces an implausible category (source_code for an invoice in a .txt file)."""
    folder = _corpus(tmp_path, 4)
    answer = {"summary": "Invoice for chairs in EUR.", "category": "source_code",
              "language": "English", "keywords": ["chairs", "invoice"],
              "contains_personal_data": False}
    proxy = Proxy("--answer", json.dumps(answer))
    try:
        for db, fields in (("all.db", "all"), ("none.db", "[]")):
            run = Run(folder, tmp_path / db, [proxy.url], "--set", f"model_fields={fields}")
            assert run.wait() == 0, run.stderr
    finally:
        proxy.kill()
    asked = _results(tmp_path / "all.db")
    invoice = asked["file_002.txt"]
    assert invoice["decided_by"]["summary"] == "model"
    assert invoice["result"]["summary"] == answer["summary"]
    assert invoice["quality"]["category"]["verdict"] == "implausible"
    assert invoice["decided_by"]["category"] == "evidence"
    assert invoice["result"]["category"] == "financial"
    code = asked["file_000.py"]  # the answer names nothing of this file: the gate refuses it
    assert code["decided_by"]["summary"] == "evidence"
    assert code["quality"]["summary"]["verdict"] == "ungrounded"
    assert code["result"]["category"] == "source_code"
    not_asked = _results(tmp_path / "none.db")
    assert len(not_asked) == 4
    for name, r in not_asked.items():
        assert set(r["decided_by"].values()) == {"evidence"}, name
        assert r["quality"]["gate"] == "not_asked"
        assert r["quality"]["summary"] == {"verdict": "not_asked"}
    assert not_asked["file_002.txt"]["result"]["category"] == "financial"


# -- against llama.cpp's server ------------------------------------------------------------------

@pytest.mark.server
@pytest.mark.timeout(1800)  # minutes per request when the 2 cores are shared
@needs_server
def test_run_over_samples(tmp_path, servers):
    server = servers.append(LlamaServer(threads=2).start()) or servers[-1]
    db = tmp_path / "r.db"
    result = helios("analyze", REPO / "resources" / "samples", "--db", db, "--endpoint", server.url,
                    "--api-model", "smollm2", "--events", "jsonl", "--set", "max_output_tokens=96",
                    "--set", "max_input_tokens=128", "--set", "max_concurrency=2",
                    "--set", "request_timeout=900", timeout=1700)
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    started = next(e for e in events if e["event"] == "run_started")
    assert started["provider"] == "server" and started["model"] == "smollm2"
    rows = db_rows(db)
    assert len(rows) == sum(p.is_file() for p in (REPO / "resources" / "samples").rglob("*"))
    assert all(r["status"] in ("done", "failed", "skipped") for r in rows)
    done = [r for r in rows if r["status"] == "done"]
    assert done, "no file was analyzed"
    import sqlite3

    conn = sqlite3.connect(db)
    results = [json.loads(r[0]) for r in conn.execute(
        "SELECT result FROM analysis_results WHERE result IS NOT NULL")]
    decided = [json.loads(r[0]) for r in conn.execute(
        "SELECT decided_by FROM analysis_results WHERE decided_by IS NOT NULL")]
    conn.close()
    assert results and all({"summary", "category", "keywords"} <= set(r) for r in results)
    assert any("evidence" in d.values() for d in decided)
    eps = [e for e in events if e["event"] == "endpoint"]
    assert eps and eps[-1]["endpoint"] == server.url and eps[-1]["up"]


@pytest.mark.server
@pytest.mark.timeout(1800)  # minutes per request when the 2 cores are shared
@needs_server
def test_two_servers_one_killed_mid_run(tmp_path, servers):
    a = LlamaServer().start()
    b = LlamaServer().start()
    servers += [a, b]
    n = 12
    folder = _corpus(tmp_path, n)
    run = Run(folder, tmp_path / "r.db", [a.url, b.url])
    wait_for(lambda: run.answered() >= 2 or run.proc.poll() is not None, "2 files answered", 900)
    b.kill()
    assert run.wait() == 0, run.stderr
    _assert_each_once(tmp_path / "r.db", n, statuses=("done", "failed"))
    rows = db_rows(tmp_path / "r.db")
    # the kill loses nothing: a file fails only for the model's own answer (bad_output)
    assert any(r["status"] == "done" for r in rows)
    assert all(r["reason"] in (None, "bad_output") for r in rows), [r["reason"] for r in rows]
    assert run.endpoint_outcomes(b.url).get("refused", 0) + run.endpoint_outcomes(b.url).get(
        "error", 0) >= 1
    assert run.endpoint_outcomes(a.url)["ok"] > run.endpoint_outcomes(b.url).get("ok", 0)


@pytest.mark.server
@pytest.mark.timeout(1800)  # minutes per request when the 2 cores are shared
@needs_server
def test_server_restarted_mid_run(tmp_path, servers):
    server = LlamaServer(threads=2).start()
    servers.append(server)
    n = 6
    folder = _corpus(tmp_path, n)
    run = Run(folder, tmp_path / "r.db", [server.url])
    wait_for(lambda: run.answered() >= 2 or run.proc.poll() is not None, "2 files answered", 900)
    server.kill()
    wait_for(lambda: any(e["event"] == "endpoint" and not e["up"] for e in run.events),
              "the endpoint reported down", 120)
    server.start()
    assert run.wait() == 0, run.stderr
    rows = _assert_each_once(tmp_path / "r.db", n, statuses=("done", "failed"))
    assert all(r["reason"] in (None, "bad_output") for r in rows)


@pytest.mark.server
@pytest.mark.timeout(1800)  # minutes per request when the 2 cores are shared
@needs_server
def test_503_for_a_while(tmp_path, servers):
    server = LlamaServer(threads=2).start()
    servers.append(server)
    proxy = Proxy("--upstream", server.url.removesuffix("/v1"), "--fail-first", "6",
                  "--retry-after", "0.2")
    servers.append(proxy)
    n = 3
    run = Run(_corpus(tmp_path, n), tmp_path / "r.db", [proxy.url])
    assert run.wait() == 0, run.stderr
    _assert_each_once(tmp_path / "r.db", n, statuses=("done", "failed"))
    outcomes = run.endpoint_outcomes()
    assert outcomes["throttled"] == 6 and outcomes["ok"] == n


@pytest.mark.server
@pytest.mark.timeout(1800)  # minutes per request when the 2 cores are shared
@needs_server
def test_every_server_down_stops_resumably(tmp_path, servers):
    server = LlamaServer(threads=2).start()
    servers.append(server)
    n = 6
    folder = _corpus(tmp_path, n)
    db = tmp_path / "r.db"
    run = Run(folder, db, [server.url], "--set", "endpoint_down_timeout=2")
    wait_for(lambda: run.answered() >= 2 or run.proc.poll() is not None, "2 files answered", 900)
    server.kill()
    assert run.wait() == 1
    assert "every model server has failed" in run.stderr
    rows = db_rows(db)
    assert {r["status"] for r in rows} <= {"done", "failed", "pending"}
    assert any(r["status"] == "pending" for r in rows)
    assert all(r["attempts"] == 0 for r in rows if r["status"] == "pending")
    server.start()
    again = Run(folder, db, [server.url])
    assert again.wait() == 0, again.stderr
    _assert_each_once(db, n, statuses=("done", "failed"))


# -- configuration errors stop at once; a text over the server's context is cut, not failed -----

def _stops_on_configuration(run: Run, db, n: int, words: tuple[str, ...]) -> None:
    """The run stopped non-zero without waiting endpoint_down_timeout (set to 900 s by the
    caller), named what to fix, failed no file, and left every file pending to resume."""
    assert run.wait(timeout=600) == 1, run.stderr
    for word in words:
        assert word in run.stderr, (word, run.stderr)
    rows = db_rows(db)
    assert len(rows) == n
    assert {r["status"] for r in rows} == {"pending"}
    assert all(r["attempts"] == 0 for r in rows)


@pytest.mark.server
@pytest.mark.timeout(900)
@needs_server
def test_wrong_api_key_stops_at_once(tmp_path, servers):
    server = LlamaServer(api_key="right-key").start()
    servers.append(server)
    n = 3
    folder = _corpus(tmp_path, n)
    db = tmp_path / "r.db"
    env = {**os.environ, "HELIOS_TEST_KEY": "wrong-key"}
    run = Run(folder, db, [server.url], "--set", "api_key_env=HELIOS_TEST_KEY",
              "--set", "endpoint_down_timeout=900", env=env)
    _stops_on_configuration(run, db, n, (server.url, "HTTP 401", "api_key_env",
                                         "HELIOS_TEST_KEY"))
    assert "wrong-key" not in run.stderr and "right-key" not in run.stderr
    # the same run with the right key resumes and finishes
    again = Run(folder, db, [server.url], "--set", "api_key_env=HELIOS_TEST_KEY",
                env={**os.environ, "HELIOS_TEST_KEY": "right-key"})
    assert again.wait() == 0, again.stderr
    _assert_each_once(db, n, statuses=("done", "failed"))


@pytest.mark.server
@pytest.mark.timeout(900)
@needs_server
def test_wrong_base_url_stops_at_once(tmp_path, servers):
    server = LlamaServer().start()
    servers.append(server)
    n = 3
    db = tmp_path / "r.db"
    wrong = server.url.removesuffix("/v1") + "/v2"  # the server answers 404 there
    run = Run(_corpus(tmp_path, n), db, [wrong], "--set", "endpoint_down_timeout=900")
    _stops_on_configuration(run, db, n, (wrong, "HTTP 404", "endpoints"))


@pytest.mark.timeout(900)
def test_unknown_model_stops_at_once(tmp_path):
    """A server that answers the chat request 404 "model not found" (vLLM's and Ollama's
    answer; llama-cpp-python serves its one model whatever the name): a real HTTP server."""
    proxy = Proxy("--ignore-schema", "--only-model", "smollm2")
    try:
        n = 3
        db = tmp_path / "r.db"
        run = Run(_corpus(tmp_path, n), db, [proxy.url], "--api-model", "llama9:70b",
                  "--set", "endpoint_down_timeout=900")
        _stops_on_configuration(run, db, n, (proxy.url, "api_model", "llama9:70b"))
    finally:
        proxy.kill()
    assert run.endpoint_outcomes().get("misconfigured", 0) >= 1


@pytest.mark.server
@pytest.mark.timeout(1800)
@needs_server
def test_misconfigured_endpoint_leaves_rotation_others_go_on(tmp_path, servers):
    keyed = LlamaServer(api_key="right-key").start()
    good = LlamaServer(threads=2).start()
    servers += [keyed, good]
    n = 4
    db = tmp_path / "r.db"
    env = {**os.environ, "HELIOS_TEST_KEY": "wrong-key"}
    # the keyed server refuses the key; the good one needs none and ignores it
    run = Run(_corpus(tmp_path, n), db, [good.url, keyed.url], "--set",
              "api_key_env=HELIOS_TEST_KEY", "--set", "endpoint_down_timeout=900", env=env)
    assert run.wait() == 0, run.stderr
    _assert_each_once(db, n, statuses=("done", "failed"))
    assert all(r["reason"] in (None, "bad_output") for r in db_rows(db))
    assert "taken out of rotation for this run" in run.stderr and keyed.url in run.stderr
    down = [e for e in run.events if e["event"] == "endpoint" and e["endpoint"] == keyed.url]
    assert down and not down[-1]["up"] and "api_key_env" in down[-1]["error"]
    assert run.endpoint_outcomes(keyed.url).get("ok", 0) == 0
    assert run.endpoint_outcomes(good.url)["ok"] >= n


@pytest.mark.server
@pytest.mark.timeout(1800)
@needs_server
def test_text_is_cut_by_the_servers_tokens(tmp_path, servers):
    """max_input_tokens counts the server's tokens: the prompt the server saw holds the
    cut text (close to the cap, not a quarter of it) and no more."""
    server = LlamaServer(threads=2).start()
    servers.append(server)
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "long.txt").write_text(" ".join(f"item{i} costs {i * 7 % 100} EUR;"
                                              for i in range(3000)))
    (folder / "short.txt").write_text("Invoice 7: 3 chairs, 120 EUR.\n")
    db = tmp_path / "r.db"
    cap = 300
    run = Run(folder, db, [server.url], "--set", f"max_input_tokens={cap}")
    assert run.wait() == 0, run.stderr
    rows = {os.fsdecode(r["path"]).rsplit("/", 1)[-1]: r for r in db_rows(db)}
    assert {r["status"] for r in rows.values()} <= {"done", "failed"}
    long_prompt = rows["long.txt"]["prompt_tokens"]  # as the server counted them (usage)
    overhead = rows["short.txt"]["prompt_tokens"]  # the template, instructions, a short line
    # the long text fills the cap (cut by the server's count, so at most 3 % short of it,
    # less the short line's own tokens); cut by 4 characters a token it would be ~480 tokens
    assert 0.85 * cap <= long_prompt - overhead <= cap, (long_prompt, overhead)


@pytest.mark.server
@pytest.mark.timeout(1800)
@needs_server
def test_file_over_the_servers_context_is_cut_and_done(tmp_path, servers):
    """A server with a 512-token context and max_input_tokens 2048: the server answers 400
    (context length); the file is cut shorter, leaving room for max_output_tokens (160: at
    96 SmolLM2's answer to this file is cut, a bad_output of the model's own), sent again,
    and ends done."""
    server = LlamaServer(threads=2, n_ctx=512).start()
    servers.append(server)
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "long.md").write_text("# Minutes\n\n" + "\n".join(
        f"- Item {i}: the committee approved budget line {i} for {i * 13 % 97} EUR."
        for i in range(600)))
    db = tmp_path / "r.db"
    run = Run(folder, db, [server.url], "--set", "max_input_tokens=2048",
              "--set", "max_output_tokens=160")
    assert run.wait() == 0, run.stderr
    rows = db_rows(db)
    assert [r["status"] for r in rows] == ["done"], rows
    assert rows[0]["prompt_tokens"] + 160 <= 512
    assert run.endpoint_outcomes().get("too_long", 0) >= 1
    assert run.endpoint_outcomes()["ok"] == 1



def test_a_context_too_small_for_the_answer_stops_the_run_naming_the_setting(tmp_path, servers):
    """A server that refuses over its context (vLLM's 400) whose context max_output_tokens
    alone fills: no cut of the text can help, so it is a setting, not the file. The run
    stops at once naming max_output_tokens, and the files stay pending (not failed after
    seven tries each)."""
    answer = {"summary": "Notes on the pump.", "category": "documentation",
              "language": "English", "keywords": ["pump"], "contains_personal_data": False}
    proxy = Proxy("--answer", json.dumps(answer), "--context", "512")
    servers.append(proxy)
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(3):
        (folder / f"notes{i}.md").write_text("# Notes\n\n" + "The pump was serviced. " * 40)
    db = tmp_path / "r.db"
    run = Run(folder, db, [proxy.url], "--set", "max_output_tokens=600")
    assert run.wait() == 1
    assert "max_output_tokens (600)" in run.stderr and "lower max_output_tokens" in run.stderr
    assert {r["status"] for r in db_rows(db)} == {"pending"}
    # with room for an answer the same server analyzes them
    again = Run(folder, db, [proxy.url], "--set", "max_output_tokens=160")
    assert again.wait() == 0, again.stderr
    assert {r["status"] for r in db_rows(db)} == {"done"}



def test_one_refused_request_after_answers_fails_that_file_not_the_endpoint(tmp_path, servers):
    """A 403 for one file from an endpoint that answered others with the same key (a filter
    in front of the server): that file fails with the reason, the run goes on."""
    answer = {"summary": "Notes on the pump.", "category": "documentation",
              "language": "English", "keywords": ["pump"], "contains_personal_data": False}
    proxy = Proxy("--answer", json.dumps(answer), "--forbid-nth", "3")
    servers.append(proxy)
    folder = _corpus(tmp_path, 6)
    db = tmp_path / "r.db"
    run = Run(folder, db, [proxy.url], "--set", "max_concurrency=1")
    assert run.wait() == 0, run.stderr
    rows = db_rows(db)
    assert sorted(r["status"] for r in rows) == ["done"] * 5 + ["failed"]
    failed = next(r for r in rows if r["status"] == "failed")
    assert failed["reason"] == "engine_error" and "refused this file's request" in failed["message"]


# -- the per-endpoint metrics, scraped over HTTP ---------------------------------------------------

def _scrape(port: int) -> dict[tuple[str, tuple], float] | None:
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.server
@pytest.mark.timeout(1800)  # minutes per request when the 2 cores are shared
@needs_server
def test_endpoint_metrics_scraped_over_http(tmp_path, servers):
    """A real run over two servers, one killed mid-run, scraped by HTTP all along: the last
    scrape (after the run finished) has each endpoint's requests by outcome, the latency
    histogram and helios_endpoint_up as the run's events and ledger say."""
    a = LlamaServer().start()
    b = LlamaServer().start()
    servers += [a, b]
    n = 8
    db = tmp_path / "r.db"
    run = Run(_corpus(tmp_path, n), db, [a.url, b.url])
    port = wait_for(lambda: next((e["metrics_port"] for e in run.events
                                  if e["event"] == "run_started"), None), "run_started", 300)
    scrapes: list[dict] = []

    def scrape_all_along() -> None:
        while run.proc.poll() is None:
            sample = _scrape(port)
            if sample is not None:
                scrapes.append(sample)
            threading.Event().wait(0.2)

    scraper = threading.Thread(target=scrape_all_along, daemon=True)
    scraper.start()
    wait_for(lambda: run.endpoint_outcomes(b.url).get("ok", 0) >= 1 or run.proc.poll() is not None,
             "a file answered by the server to kill", 900)
    b.kill()
    assert run.wait() == 0, run.stderr
    scraper.join(timeout=30)
    finished = next(e for e in run.events if e["event"] == "run_finished")
    assert finished["status"] == "completed"
    assert len(scrapes) >= 2
    last = scrapes[-1]  # the backend waits for one scrape after the run ends: final values

    def value(name: str, **labels) -> float:
        return last.get((name, tuple(sorted(labels.items()))), 0.0)

    _assert_each_once(db, n, statuses=("done", "failed"))
    for url in (a.url, b.url):
        outcomes = run.endpoint_outcomes(url)
        for outcome, count in outcomes.items():  # the counter says what the events said
            assert value("helios_endpoint_requests_total", endpoint=url, outcome=outcome) == count
        ok = outcomes.get("ok", 0)
        assert value("helios_endpoint_request_duration_seconds_count", endpoint=url) == ok
        assert (value("helios_endpoint_request_duration_seconds_sum", endpoint=url) > 0) == (ok > 0)
        assert value("helios_endpoint_request_duration_seconds_bucket", endpoint=url,
                     le="+Inf") == ok
    # every file was answered once, by one server or the other
    assert sum(value("helios_endpoint_requests_total", endpoint=u, outcome="ok")
               for u in (a.url, b.url)) == n
    assert value("helios_endpoint_requests_total", endpoint=b.url, outcome="ok") >= 1
    assert value("helios_endpoint_requests_total", endpoint=b.url, outcome="refused") + value(
        "helios_endpoint_requests_total", endpoint=b.url, outcome="error") >= 1
    assert value("helios_endpoint_up", endpoint=a.url) == 1
    assert value("helios_endpoint_up", endpoint=b.url) == 0
    # while b still answered, an earlier scrape saw it up
    assert any(s.get(("helios_endpoint_up", (("endpoint", b.url),))) == 1 for s in scrapes)


def test_a_servers_answer_never_carries_the_key_into_messages():
    """OpenAI-style servers echo part of a refused key; what Helios repeats of an answer
    (logs, events, errors) has the key and key-like words blanked."""
    from helios_desktop.engines import openai as engine

    engine._SECRETS.add("hx-test-secret-0001")
    try:
        said = engine._snippet(b'{"error": "Incorrect API key provided: sk-ab12\xe2\x80\xa6yz89. '
                               b'Sent: hx-test-secret-0001; header Bearer hx-test-secret-0001"}')
    finally:
        engine._SECRETS.discard("hx-test-secret-0001")
    assert "hx-test-secret-0001" not in said and "sk-ab12" not in said
    assert "Incorrect API key provided" in said  # the rest of the answer stays readable
