"""The OpenAI-compatible engine: files analyzed by model servers over HTTP.

Ollama, llama.cpp's server, LM Studio, vLLM and SGLang all answer
``POST {base}/chat/completions``. ``OpenAIEngine`` sends each file of a batch as
one request, keeps up to ``max_concurrency`` requests in flight per endpoint and
hands work to the least loaded healthy endpoint. The analysis schema goes along as
``response_format`` (``json_schema``; servers that refuse that dialect, such as
llama-cpp-python's, get ``json_object`` with the schema), and every answer is
validated again by ``analysis.outcome.finish``, as with the ONNX engine.

Faults: a request that times out, is refused, is throttled (429/503, Retry-After
honoured), gets a 5xx or a malformed body goes back to the queue for any healthy
endpoint. The endpoint that failed is taken out of rotation (circuit breaker) for a
capped exponential backoff with jitter, then probed back with one real request.
Only timeouts, 5xx and malformed bodies count against the file itself (a file that
breaks every server fails as ``engine_error``); a dead or busy server does not. When
every endpoint has failed for ``endpoint_down_timeout`` seconds, ``analyze`` raises
``EndpointsDown`` with the results it has: the worker returns those and the run stops
with the files not yet analyzed still pending, to resume later.

The HTTP client is aiohttp: measured against httpx on this machine it sent about
4x the requests per second (docs/SERVERS.md). API keys are read from the
environment variable named by ``api_key_env`` in the worker; they are never in the
spec, the config, the database, logs or events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from ..analysis import prompts
from ..analysis.outcome import finish
from ..analysis.schema import AnalysisSchema
from ..config import check_endpoint_url, endpoint_label  # noqa: F401  (re-exported)
from ..records import AnalysisResult, Document, Reason, Status
from .base import EngineError, EngineUnavailable, Generation

log = logging.getLogger("helios.endpoints")

CHARS_PER_TOKEN = 4       # the server tokenizes; the text is cut by characters before sending
BACKOFF_BASE = 0.25       # seconds, doubled per consecutive failure of an endpoint
BACKOFF_CAP = 15.0
REPORT_EVERY = 1.0        # seconds between endpoint reports during a batch
# Outcomes of one request, the values of the ``outcome`` label.
OUTCOMES = ("ok", "timeout", "refused", "throttled", "server_error", "client_error",
            "malformed", "error", "dialect")
_CHARGED = {"timeout", "server_error", "malformed", "error"}  # count against the file


class EndpointsDown(EngineUnavailable):
    """Every endpoint has been failing for ``endpoint_down_timeout`` seconds."""


@dataclass(frozen=True)
class EndpointsSpec:
    """What a worker needs to reach the servers (picklable; holds no key)."""

    urls: tuple[str, ...]
    api_model: str
    api_key_env: str | None = None
    max_concurrency: int = 4
    request_timeout: float = 120.0
    down_timeout: float = 60.0
    max_attempts: int = 4          # charged failures before a file fails as engine_error

    @property
    def label(self) -> str:
        return ", ".join(endpoint_label(u) for u in self.urls)


class _Endpoint:
    """One server as the scheduler sees it: load, breaker, dialect, and stats to report."""

    def __init__(self, url: str, capacity: int):
        self.url = url
        self.label = endpoint_label(url)
        self.capacity = capacity
        self.in_flight = 0
        self.failures = 0          # consecutive
        self.open_until = 0.0      # breaker open until this monotonic time
        self.dialect = "json_schema"
        self.confirmed = False     # a request in this dialect succeeded
        self.last_error = ""
        self.latency_ewma = 0.0
        self.outcomes: Counter[str] = Counter()
        self.latencies: list[float] = []

    @property
    def up(self) -> bool:
        return self.failures == 0

    def available(self, now: float) -> bool:
        if self.failures == 0:
            return self.in_flight < self.capacity
        return now >= self.open_until and self.in_flight == 0  # half open: one probe

    def failed(self, now: float, error: str, retry_after: float | None) -> None:
        self.last_error = error
        if self.failures and now < self.open_until:
            return  # requests sent before the breaker opened: one failure, not several
        self.failures += 1
        if retry_after is not None:  # the server said when: no sooner, no later
            backoff = min(retry_after, 4 * BACKOFF_CAP)
        else:
            backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (self.failures - 1))
            backoff *= random.uniform(0.5, 1.0)
        self.open_until = now + backoff

    def succeeded(self, seconds: float) -> None:
        self.failures = 0
        self.open_until = 0.0
        self.latency_ewma = seconds if not self.latency_ewma else 0.8 * self.latency_ewma + 0.2 * seconds

    def report(self) -> dict:
        out = {"endpoint": self.label, "up": self.up, "in_flight": self.in_flight,
               "latency_seconds": round(self.latency_ewma, 4),
               "outcomes": dict(self.outcomes), "latencies": self.latencies,
               "error": "" if self.up else self.last_error[:200]}
        self.outcomes = Counter()
        self.latencies = []
        return out


@dataclass
class _Job:
    index: int
    doc: Document
    attempts: int = 0
    not_before: float = 0.0
    last_error: str = ""


class _Failure(Exception):
    def __init__(self, outcome: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.outcome = outcome
        self.retry_after = retry_after


class OpenAIEngine:
    """Analyze documents on OpenAI-compatible servers; one result per document, in order."""

    provider = "server"
    demonstration = False

    def __init__(self, spec: EndpointsSpec, schema: AnalysisSchema, *, max_input_tokens: int = 512,
                 max_output_tokens: int = 160,
                 on_report: Callable[[list[dict]], None] | None = None, check: bool = True,
                 model_fields: frozenset[str] | None = None):
        if not spec.urls:
            raise EngineError("engine openai needs at least one URL in endpoints")
        self.spec = spec
        self.schema = schema
        self.max_input_tokens = max_input_tokens
        self.max_output_tokens = max_output_tokens
        self.model_fields = model_fields  # what the model may decide (None: every field)
        self.on_report = on_report
        self.model_name = spec.api_model
        self.batch_size = 2 * spec.max_concurrency * len(spec.urls)
        self.endpoints = [_Endpoint(u, spec.max_concurrency) for u in spec.urls]
        self._headers = {"Content-Type": "application/json"}
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise EngineError(f"api_key_env names {spec.api_key_env}, but that environment "
                                  "variable is not set")
            self._headers["Authorization"] = f"Bearer {key}"
        self._response_schema = json.loads(schema.guidance_json())
        self._response_schema.pop("x-guidance", None)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="helios-endpoints",
                                        daemon=True)
        self._thread.start()
        self._session = self._call(self._open_session())
        self._last_report = 0.0
        if check:
            self._call(self._check())

    # -- the loop thread -------------------------------------------------------------------

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _open_session(self):
        import aiohttp

        self._aiohttp = aiohttp
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.spec.max_concurrency + 2)
        return aiohttp.ClientSession(connector=connector, headers=self._headers)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self._session.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    async def _check(self) -> None:
        """Fail fast, with a clear message, when no endpoint answers at all."""
        aiohttp = self._aiohttp
        errors = []
        for ep in self.endpoints:
            try:
                async with self._session.get(f"{ep.url}/models",
                                             timeout=aiohttp.ClientTimeout(total=10)) as resp:
                    if resp.status in (401, 403):
                        errors.append(f"{ep.label}: HTTP {resp.status} (check api_key_env)")
                        continue
                    if resp.status == 200:
                        try:
                            names = [m.get("id") for m in (await resp.json(content_type=None))["data"]]
                        except Exception:
                            names = []
                        if names and self.spec.api_model not in names:
                            log.warning("%s serves %s, not %r; sending requests for %r anyway",
                                        ep.label, ", ".join(map(str, names[:5])),
                                        self.spec.api_model, self.spec.api_model)
                    return  # one endpoint answers: the scheduler handles the rest
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                errors.append(f"{ep.label}: {exc.__class__.__name__}: {exc}".rstrip(": "))
        raise EngineError("no model server answers: " + "; ".join(errors))

    # -- the public step ------------------------------------------------------------------

    def analyze(self, docs: list[Document]) -> list[AnalysisResult]:
        """One result per document, in order; raises ``EndpointsDown`` (with partial results)."""
        if not docs:
            return []
        results = self._call(self._analyze(docs))
        return [results[i] for i in range(len(docs))]

    async def _analyze(self, docs: list[Document]) -> dict[int, AnalysisResult]:
        results: dict[int, AnalysisResult] = {}
        queue: deque[_Job] = deque(_Job(i, d) for i, d in enumerate(docs))
        running: dict[asyncio.Task, tuple[_Endpoint, _Job]] = {}
        down_since: float | None = None
        try:
            while len(results) < len(docs):
                now = time.monotonic()
                self._assign(queue, running, now)
                if all(not ep.up for ep in self.endpoints):
                    down_since = down_since if down_since is not None else now
                    if now - down_since >= self.spec.down_timeout and not running:
                        raise EndpointsDown(self._down_message(), results)
                else:
                    down_since = None
                self._maybe_report(now)
                wake = [ep.open_until for ep in self.endpoints if ep.open_until > now]
                wake += [j.not_before for j in queue if j.not_before > now]
                if down_since is not None:
                    wake.append(down_since + self.spec.down_timeout)
                timeout = max(0.01, min(wake) - now) if wake else None
                if not running:
                    await asyncio.sleep(timeout if timeout is not None else 0.01)
                    continue
                done, _ = await asyncio.wait(running, timeout=timeout,
                                             return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    ep, job = running.pop(task)
                    ep.in_flight -= 1
                    self._settle(task, ep, job, queue, results)
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
                for ep, _ in running.values():
                    ep.in_flight -= 1
        self._maybe_report(time.monotonic(), force=True)
        return results

    def _assign(self, queue: deque, running: dict, now: float) -> None:
        """Give ready jobs to the least loaded endpoints that can take them."""
        while queue:
            ready = [ep for ep in self.endpoints if ep.available(now)]
            if not ready:
                return
            job = next((j for j in queue if j.not_before <= now), None)
            if job is None:
                return
            queue.remove(job)
            ep = min(ready, key=lambda e: (e.in_flight / e.capacity, e.latency_ewma))
            ep.in_flight += 1
            running[asyncio.ensure_future(self._request(ep, job.doc))] = (ep, job)

    def _settle(self, task: asyncio.Task, ep: _Endpoint, job: _Job, queue: deque,
                results: dict) -> None:
        now = time.monotonic()
        exc = task.exception()
        if exc is None:
            gen, seconds = task.result()
            ep.outcomes["ok"] += 1
            ep.latencies.append(seconds)
            ep.succeeded(seconds)
            ep.confirmed = True
            results[job.index] = finish(job.doc, gen, seconds, self.schema, self.max_output_tokens,
                                        self.model_fields)
            return
        if not isinstance(exc, _Failure):
            exc = _Failure("error", f"{exc.__class__.__name__}: {exc}")
        ep.outcomes[exc.outcome] += 1
        if exc.outcome == "dialect":
            if ep.dialect == "json_schema":
                log.info("%s refused response_format json_schema (%s); using json_object",
                         ep.label, exc)
                ep.dialect = "json_object"
            queue.appendleft(job)
            return
        if exc.outcome == "client_error":
            results[job.index] = AnalysisResult(job.doc.path, Status.FAILED,
                                                reason=Reason.ENGINE_ERROR,
                                                message=f"{ep.label} refused the request: {exc}"[:500])
            return
        if ep.up:
            log.warning("%s taken out of rotation: %s", ep.label, exc,
                        extra={"endpoint": ep.label, "outcome": exc.outcome})
        ep.failed(now, str(exc), exc.retry_after)
        job.last_error = f"{ep.label}: {exc}"
        if exc.outcome in _CHARGED:
            job.attempts += 1
            if job.attempts >= self.spec.max_attempts:
                results[job.index] = AnalysisResult(
                    job.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                    message=f"no answer after {job.attempts} attempts; last: {job.last_error}"[:500])
                return
            delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** job.attempts) * random.uniform(0.5, 1.0)
            job.not_before = now + delay
        queue.append(job)

    def _down_message(self) -> str:
        return ("every model server has failed for "
                f"{self.spec.down_timeout:g}s (endpoint_down_timeout): "
                + "; ".join(f"{ep.label}: {ep.last_error}" for ep in self.endpoints)
                + ". Files not analyzed stay pending: run the same analyze again to resume")

    def _maybe_report(self, now: float, force: bool = False) -> None:
        if self.on_report is None:
            return
        if force or now - self._last_report >= REPORT_EVERY:
            self._last_report = now
            self.on_report([ep.report() for ep in self.endpoints])

    def report_now(self) -> None:
        self._maybe_report(time.monotonic(), force=True)

    # -- one request --------------------------------------------------------------------------

    def payload(self, doc: Document, dialect: str) -> dict:
        text = doc.text[: self.max_input_tokens * CHARS_PER_TOKEN]
        messages = json.loads(prompts.chat_messages(doc, text, self.schema))
        if dialect == "json_schema":
            fmt = {"type": "json_schema",
                   "json_schema": {"name": "file_analysis", "strict": True,
                                   "schema": self._response_schema}}
        else:
            fmt = {"type": "json_object", "schema": self._response_schema}
        return {"model": self.spec.api_model, "messages": messages, "temperature": 0,
                "max_tokens": self.max_output_tokens, "response_format": fmt, "stream": False}

    async def _request(self, ep: _Endpoint, doc: Document) -> tuple[Generation, float]:
        aiohttp = self._aiohttp
        body = self.payload(doc, ep.dialect)
        started = time.perf_counter()
        try:
            async with self._session.post(
                    f"{ep.url}/chat/completions", json=body,
                    timeout=aiohttp.ClientTimeout(total=self.spec.request_timeout)) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = _retry_after(resp.headers.get("Retry-After"))
        except asyncio.TimeoutError:
            raise _Failure("timeout", f"no answer within {self.spec.request_timeout:g}s "
                                      "(request_timeout)") from None
        except aiohttp.ClientConnectorError as exc:
            raise _Failure("refused", f"cannot connect: {exc.os_error or exc}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _Failure("error", f"{exc.__class__.__name__}: {exc}") from None
        seconds = time.perf_counter() - started
        if (status >= 400 and body["response_format"]["type"] == "json_schema" and not ep.confirmed
                and (b"response_format" in raw or b"json_schema" in raw)):
            # llama-cpp-python's server answers 500 (others 400/422) to this dialect
            raise _Failure("dialect", f"HTTP {status}: {_snippet(raw)}")
        if status in (429, 503):
            raise _Failure("throttled", f"HTTP {status}", retry_after)
        if status >= 500:
            raise _Failure("server_error", f"HTTP {status}: {_snippet(raw)}")
        if status in (401, 403, 404):  # the endpoint is misconfigured, not the file
            raise _Failure("refused", f"HTTP {status}: {_snippet(raw)}"
                           + (" (check api_key_env)" if status != 404 else " (check api_model)"))
        if status >= 400:
            raise _Failure("client_error", f"HTTP {status}: {_snippet(raw)}")
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
            usage = data.get("usage") or {}
            finish_reason = choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Failure("malformed", f"malformed response body ({exc}): {_snippet(raw)}") from None
        gen = Generation(text.strip(), int(usage.get("prompt_tokens") or 0),
                         int(usage.get("completion_tokens") or 0), finish_reason != "length")
        return gen, seconds


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _snippet(raw: bytes) -> str:
    return raw[:200].decode("utf-8", "replace").replace("\n", " ")
