"""The HTTP side of the OpenAI-compatible engine: one aiohttp session, one request at a time.

Each call sends one request and turns the answer into a ``Generation``, a token count, or a
``Failure`` with its outcome; what to do about a failure is the scheduler's decision. aiohttp:
measured against httpx on this machine it sent about 7x the requests per second from one
event loop (docs/SERVERS.md).
"""

from __future__ import annotations

import asyncio
import json
import time

from ..base import Generation
from ..spec import EndpointsSpec
from .errors import MODEL_MISSING, TOO_LONG, Failure, config_advice, retry_after, snippet
from .scheduler import Endpoint


class ServerClient:
    """Requests to OpenAI-compatible servers, in the engine's event loop."""

    def __init__(self, spec: EndpointsSpec, headers: dict[str, str], max_output_tokens: int):
        self.spec = spec
        self.headers = headers
        self.max_output_tokens = max_output_tokens
        self.session = None

    async def open(self) -> None:
        import aiohttp

        self.aiohttp = aiohttp
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.spec.max_concurrency + 2)
        self.session = aiohttp.ClientSession(connector=connector, headers=self.headers)

    async def close(self) -> None:
        await self.session.close()

    def advice(self, ep: Endpoint, status: int, raw: bytes, path: str) -> str:
        return config_advice(ep.label, ep.url, status, raw, path, self.spec.api_model,
                             self.spec.api_key_env)

    async def models(self, ep: Endpoint) -> tuple[int, bytes]:
        """``GET /models``: the status and body (a connection error raises ``Failure``)."""
        aiohttp = self.aiohttp
        try:
            async with self.session.get(f"{ep.url}/models",
                                        timeout=aiohttp.ClientTimeout(total=10)) as resp:
                return resp.status, await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise Failure("refused", f"{ep.label}: {exc.__class__.__name__}: {exc}".rstrip(": ")) \
                from None

    @staticmethod
    def _root(ep: Endpoint) -> str:
        return ep.url[: -len("/v1")] if ep.url.endswith("/v1") else ep.url

    async def count_at(self, ep: Endpoint, path: str, text: str) -> int:
        """Tokens of ``text`` by the server's tokenizer at ``path`` ("path field")."""
        aiohttp = self.aiohttp
        path, field = path.split()
        body = {"model": self.spec.api_model, field: text}
        if field != "input":
            body["add_special_tokens"] = False
        try:
            async with self.session.post(
                    self._root(ep) + path, json=body,
                    timeout=aiohttp.ClientTimeout(total=self.spec.request_timeout)) as resp:
                raw = await resp.read()
                status = resp.status
        except asyncio.TimeoutError:
            raise Failure("timeout", "tokenize timed out") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise Failure("refused", f"{exc.__class__.__name__}: {exc}") from None
        if status != 200:
            raise Failure("client_error", f"HTTP {status}")
        try:
            data = json.loads(raw)
            if isinstance(data.get("count"), int):
                return data["count"]
            return len(data["tokens"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Failure("malformed", f"not a tokenize answer: {snippet(raw)}") from None

    async def chat(self, ep: Endpoint, body: dict) -> tuple[Generation, float]:
        """``POST /chat/completions`` with ``body``: the answer and the seconds it took."""
        aiohttp = self.aiohttp
        started = time.perf_counter()
        try:
            async with self.session.post(
                    f"{ep.url}/chat/completions", json=body,
                    timeout=aiohttp.ClientTimeout(total=self.spec.request_timeout)) as resp:
                raw = await resp.read()
                status = resp.status
                wait = retry_after(resp.headers.get("Retry-After"))
        except asyncio.TimeoutError:
            raise Failure("timeout", f"no answer within {self.spec.request_timeout:g}s "
                                     "(request_timeout)") from None
        except aiohttp.ClientConnectorError as exc:
            raise Failure("refused", f"cannot connect: {exc.os_error or exc}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise Failure("error", f"{exc.__class__.__name__}: {exc}") from None
        seconds = time.perf_counter() - started
        if (status >= 400 and body["response_format"]["type"] == "json_schema" and not ep.confirmed
                and (b"response_format" in raw or b"json_schema" in raw)):
            # llama-cpp-python's server answers 500 (others 400/422) to this dialect
            raise Failure("dialect", f"HTTP {status}: {snippet(raw)}")
        if status in (429, 503):
            raise Failure("throttled", f"HTTP {status}", wait)
        if status >= 500:
            raise Failure("server_error", f"HTTP {status}: {snippet(raw)}")
        if status in (401, 403, 404) or (status in (400, 422) and MODEL_MISSING.search(raw)):
            # the endpoint's configuration is wrong (key, URL, model), not the file
            raise Failure("misconfigured", self.advice(ep, status, raw, "chat/completions"))
        if status in (400, 413, 422) and TOO_LONG.search(raw):
            raise Failure("too_long", f"HTTP {status}: {snippet(raw)}", raw=raw)
        if status >= 400:
            raise Failure("client_error", f"HTTP {status}: {snippet(raw)}")
        return self._generation(raw), seconds

    def _generation(self, raw: bytes) -> Generation:
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
            usage = data.get("usage") or {}
            finish_reason = choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise Failure("malformed", f"malformed response body ({exc}): {snippet(raw)}") from None
        completion = int(usage.get("completion_tokens") or 0)
        if finish_reason == "length" and 0 < completion < self.max_output_tokens:
            # llama-cpp-python lowers max_tokens to what is left of its context: the answer
            # was cut for room, not by max_output_tokens
            prompt = int(usage.get("prompt_tokens") or 0)
            raise Failure("too_long", f"the answer was cut after {completion} tokens, short of "
                                      f"max_output_tokens {self.max_output_tokens}: the prompt "
                                      "leaves too little of the server's context",
                          raw=f"n_ctx={prompt + completion} Requested tokens ({prompt})".encode())
        return Generation(text.strip(), int(usage.get("prompt_tokens") or 0), completion,
                          finish_reason != "length")
