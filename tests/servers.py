"""Real model servers for tests: llama.cpp's (llama-cpp-python) with SmolLM2-135M-Instruct,
and the faulty proxy of tests/endpoint_proxy.py. ``make server`` installs both."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO

GGUF = Path(os.environ.get("HELIOS_TEST_GGUF",
                           REPO / "models" / "smollm2-gguf" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
PROXY = REPO / "tests" / "endpoint_proxy.py"


def _server_missing() -> str | None:
    try:
        import llama_cpp.server  # noqa: F401
    except Exception as exc:  # not installed, or built without the server extra
        return f"llama-cpp-python[server] is not installed ({exc}); run make server"
    if not GGUF.exists():
        return f"{GGUF} is missing; run make server"
    return None


_MISSING = _server_missing()
needs_server = pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, deadline: float = 120.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /v1/models HTTP/1.0\r\nHost: x\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server, started for real on 127.0.0.1."""

    def __init__(self, port: int | None = None, threads: int = 1, n_ctx: int = 2048,
                 api_key: str | None = None):
        self.port = port or free_port()
        self.threads = threads
        self.n_ctx = n_ctx
        self.api_key = api_key
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--model_alias",
             "smollm2", "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
             "--n_threads", str(self.threads), "--verbose", "False",
             *(["--api_key", self.api_key] if self.api_key else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _answers(self.port) or self.proc.poll() is not None, "llama server")
        assert self.proc.poll() is None, "the llama server exited at start"
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Proxy:
    def __init__(self, *args: str):
        self.proc = subprocess.Popen([sys.executable, str(PROXY), *args], stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY"), line
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/v1"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


