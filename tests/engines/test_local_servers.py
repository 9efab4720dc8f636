"""Finding the model servers on this machine: real HTTP servers on 127.0.0.1 (non-default
ports; the real llama-cpp-python server where it is installed), and nothing listening.
How long the probe takes is measured by `python -m bench servers-probe`, not asserted here."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import helios
from servers import LlamaServer, free_port, needs_server


class _Listing:
    """A real HTTP server answering one path with a JSON body (404 elsewhere); it records
    every request, so a test can check that nothing but the listing was asked for."""

    def __init__(self, path: str, payload):
        self.requests: list[tuple[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                owner.requests.append((self.command, self.path))
                body = json.dumps(payload).encode() if self.path == path else b"{}"
                self.send_response(200 if self.path == path else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def openai_like():
    server = _Listing("/v1/models", {"object": "list", "data": [{"id": "qwen2.5:3b"},
                                                                 {"id": "llama3.2:3b"}]})
    yield server
    server.stop()


@pytest.fixture
def ollama_like():
    server = _Listing("/api/tags", {"models": [{"name": "llama3.2:3b", "size": 1}]})
    yield server
    server.stop()


def test_servers_on_other_ports_are_found_with_their_models(openai_like, ollama_like):
    from helios_desktop.engines.local_servers import probe_servers

    silent = free_port()  # nothing listens there
    found = {s.port: s for s in probe_servers([openai_like.port, ollama_like.port, silent])}
    assert set(found) == {openai_like.port, ollama_like.port}
    assert found[openai_like.port].models == ("qwen2.5:3b", "llama3.2:3b")
    assert found[openai_like.port].base_url == f"http://127.0.0.1:{openai_like.port}/v1"
    assert found[ollama_like.port].models == ("llama3.2:3b",)
    assert found[ollama_like.port].listing == "/api/tags"
    # only listings were asked for: no prompt, nothing posted
    for server in (openai_like, ollama_like):
        assert server.requests and all(m == "GET" and p in ("/v1/models", "/api/tags")
                                       for m, p in server.requests)


def test_nothing_listening_finds_nothing():
    from helios_desktop.engines.local_servers import probe_servers

    assert probe_servers([free_port(), free_port(), free_port()]) == []


def test_an_http_server_that_is_no_model_server_is_not_listed():
    from helios_desktop.engines.local_servers import probe_servers

    other = _Listing("/index.html", {"hello": 1})  # 404 on both listings
    try:
        assert probe_servers([other.port]) == []
        assert {p for _, p in other.requests} == {"/v1/models", "/api/tags"}
    finally:
        other.stop()


def test_a_listener_that_never_answers_is_left_at_the_deadline():
    from helios_desktop.engines.local_servers import probe_servers

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)  # accepts (the kernel's backlog), never answers
        assert probe_servers([s.getsockname()[1]], deadline=0.3) == []


def test_servers_command_prints_a_table_and_json(openai_like):
    out = helios("models", "servers", "--port", openai_like.port, check=True).stdout
    assert f"http://127.0.0.1:{openai_like.port}/v1" in out and "qwen2.5:3b" in out
    rows = json.loads(helios("models", "servers", "--port", openai_like.port, "--json",
                             check=True).stdout)
    assert rows == [{"name": "server", "port": openai_like.port,
                     "base_url": f"http://127.0.0.1:{openai_like.port}/v1",
                     "models": ["qwen2.5:3b", "llama3.2:3b"], "listing": "/v1/models"}]
    none = helios("models", "servers", "--port", free_port(), check=True).stdout
    assert "no model server answers" in none


@needs_server
@pytest.mark.server
def test_the_real_llama_cpp_server_is_found():
    from helios_desktop.engines.local_servers import probe_servers

    server = LlamaServer().start()  # a free, non-default port
    try:
        found = probe_servers([server.port])
        assert [s.models for s in found] == [("smollm2",)]
        assert found[0].base_url == server.url
    finally:
        server.kill()


@needs_server
@pytest.mark.server
def test_the_real_llama_cpp_server_on_its_default_port_is_found():
    from helios_desktop.engines.local_servers import probe_servers

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("port 8080 is taken on this machine")
    server = LlamaServer(port=8080).start()
    try:
        found = {s.port: s for s in probe_servers()}  # the default ports
        assert found[8080].name == "llama-server" and found[8080].models == ("smollm2",)
    finally:
        server.kill()
