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

Configuration errors are not transient and are not retried: 401/403 (the key), 404 (the
URL) or "model not found" (the model name) take that endpoint out of rotation for the
run; when none is left, ``EndpointsMisconfigured`` stops the run at once, naming the
setting to fix. The text of a file is cut to ``max_input_tokens`` of the server's own
tokens (its tokenize endpoint, probed once per endpoint; else a conservative estimate),
and a prompt the server finds over its context is cut shorter and sent again.

The HTTP client is aiohttp: measured against httpx on this machine it sent about
7x the requests per second from one event loop (docs/SERVERS.md). API keys are read from the
environment variable named by ``api_key_env`` in the worker; they are never in the
spec, the config, the database, logs or events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
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
from .spec import EndpointsSpec  # noqa: F401  (re-exported)

log = logging.getLogger("helios.endpoints")

ASCII_CHARS_PER_TOKEN = 2.5  # the estimate when a server offers no tokenizer (conservative:
#                              English prose runs about 4 a token, code 3, digits and JSON less)
MAX_REFUSALS = 3          # 401/403/404 in a row, after answers, that take an endpoint out
MIN_INPUT_TOKENS = 16     # a file cut shorter than this for a server's context fails instead
MAX_SHRINKS = 6           # context-length answers per file before it fails
BACKOFF_BASE = 0.25       # seconds, doubled per consecutive failure of an endpoint
BACKOFF_CAP = 15.0
REPORT_EVERY = 1.0        # seconds between endpoint reports during a batch
# Outcomes of one request, the values of the ``outcome`` label.
OUTCOMES = ("ok", "timeout", "refused", "throttled", "server_error", "client_error",
            "malformed", "error", "dialect", "misconfigured", "too_long")
_CHARGED = {"timeout", "server_error", "malformed", "error"}  # count against the file


class EndpointsDown(EngineUnavailable):
    """Every endpoint has been failing for ``endpoint_down_timeout`` seconds."""


class EndpointsMisconfigured(EndpointsDown):
    """No endpoint is usable because of the configuration (API key, model name, URL): not
    transient, so the run stops at once instead of waiting ``endpoint_down_timeout``."""

    def __init__(self, message: str, results: dict | None = None):
        super().__init__(message, results or {})


# A server's answer that the model name is wrong (vLLM, Ollama, LM Studio, llama-cpp-python
# with several models), and one that the prompt is over its context.
_MODEL_MISSING = re.compile(rb"model_not_found|model\W[^\n]{0,160}?(not found|does not exist|"
                            rb"not exist|no such|not loaded|try pulling)", re.I)
_TOO_LONG = re.compile(rb"context_length_exceeded|exceed[^\n]{0,40}context|context (length|window|"
                       rb"size)[^\n]{0,80}(exceed|is \d+)|maximum context length|prompt is too long|"
                       rb"too many tokens", re.I)
_CONTEXT_SIZE = re.compile(rb"(?:maximum context length is|context window of|n_ctx[=: ]+)\s*(\d+)", re.I)
_PROMPT_SIZE = re.compile(rb"(\d+) in the messages|(\d+) in your prompt|Requested tokens \((\d+)\)|"
                          rb"n_prompt_tokens\W+(\d+)", re.I)


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
        self.misconfigured = ""    # why the endpoint is out of rotation for the whole run
        self.refusals = 0          # consecutive 401/403/404 after it answered with these settings
        self.counter: str | None = None   # how it counts tokens: "path field", "" for none,
        #                                   None not known yet
        self.counter_lock: asyncio.Lock | None = None
        self.last_error = ""
        self.latency_ewma = 0.0
        self.outcomes: Counter[str] = Counter()
        self.latencies: list[float] = []

    @property
    def up(self) -> bool:
        return self.failures == 0 and not self.misconfigured

    def available(self, now: float) -> bool:
        if self.misconfigured:
            return False
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
               "misconfigured": bool(self.misconfigured),
               "error": "" if self.up else (self.misconfigured or self.last_error)[:300]}
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
    cap: int = 0          # max tokens of the file's text; lowered by context-length answers
    sent_tokens: int | None = None   # tokens of the text last sent, when a server counted them
    shrinks: int = 0


class _Failure(Exception):
    def __init__(self, outcome: str, message: str, retry_after: float | None = None,
                 raw: bytes = b""):
        super().__init__(message)
        self.outcome = outcome
        self.retry_after = retry_after
        self.raw = raw


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
            _SECRETS.add(key)
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
        """Fail fast, with a clear message, when no endpoint answers at all or every one is
        misconfigured; a misconfigured one among working ones is taken out for the run.
        The endpoints are asked at once (``GET /models``), so a slow one delays no other."""
        answers = await asyncio.gather(*(self._check_one(ep) for ep in self.endpoints))
        if any(ok for ok, _ in answers):
            return  # one endpoint answers: the scheduler handles the rest
        if all(ep.misconfigured for ep in self.endpoints):
            raise EndpointsMisconfigured(self._misconfigured_message())
        raise EngineError("no model server answers: " + "; ".join(why for _, why in answers))

    async def _check_one(self, ep: _Endpoint) -> tuple[bool, str]:
        aiohttp = self._aiohttp
        try:
            async with self._session.get(f"{ep.url}/models",
                                         timeout=aiohttp.ClientTimeout(total=10)) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return False, f"{ep.label}: {exc.__class__.__name__}: {exc}".rstrip(": ")
        if status in (401, 403, 404):
            self._misconfigured(ep, self._config_advice(ep, status, raw, "models"))
            return False, ep.misconfigured
        if status == 200:
            try:
                names = [m.get("id") for m in json.loads(raw)["data"]]
            except Exception:
                names = []
            if names and self.spec.api_model not in names:
                log.warning("%s serves %s, not %r; sending requests for %r anyway",
                            ep.label, ", ".join(map(str, names[:5])),
                            self.spec.api_model, self.spec.api_model)
        return True, ""

    def _config_advice(self, ep: _Endpoint, status: int, raw: bytes, path: str) -> str:
        """What is wrong with an endpoint that refused a request for its configuration, and
        the setting to fix (never the key itself)."""
        said = _snippet(raw)
        if status in (401, 403):
            said = "the answer is not shown: it may repeat the key"
            if self.spec.api_key_env:
                fix = (f"the server refused the key in ${self.spec.api_key_env}: set api_key_env "
                       "to the variable that holds this server's key")
            else:
                fix = ("the server wants an API key: put it in an environment variable and set "
                       "api_key_env to that variable's name")
        elif status == 404 and not _MODEL_MISSING.search(raw):
            fix = (f"no OpenAI-compatible API at {ep.url}/{path}: check this URL in endpoints "
                   "(the base URL usually ends in /v1)")
        else:
            fix = (f"the server does not know the model {self.spec.api_model!r}: set api_model "
                   "to a name it serves (GET /v1/models lists them)")
        return f"{ep.label}: HTTP {status} ({said}); {fix}"

    def _misconfigured(self, ep: _Endpoint, why: str) -> None:
        if ep.misconfigured:
            return
        ep.misconfigured = why
        ep.last_error = why
        others = [e for e in self.endpoints if not e.misconfigured]
        log.error("%s taken out of rotation for this run: %s%s", ep.label, why,
                  "" if not others else f"; going on with {len(others)} other endpoint(s)",
                  extra={"endpoint": ep.label, "outcome": "misconfigured"})

    def _misconfigured_message(self) -> str:
        return ("no model server can be used, each is misconfigured: "
                + "; ".join(ep.misconfigured for ep in self.endpoints)
                + ". Fix the setting and run the same analyze again: the files not analyzed "
                  "stay pending")

    # -- the public step ------------------------------------------------------------------

    def analyze(self, docs: list[Document]) -> list[AnalysisResult]:
        """One result per document, in order; raises ``EndpointsDown`` (with partial results)."""
        if not docs:
            return []
        results = self._call(self._analyze(docs))
        return [results[i] for i in range(len(docs))]

    async def _analyze(self, docs: list[Document]) -> dict[int, AnalysisResult]:
        results: dict[int, AnalysisResult] = {}
        queue: deque[_Job] = deque(_Job(i, d, cap=self.max_input_tokens)
                                   for i, d in enumerate(docs))
        running: dict[asyncio.Task, tuple[_Endpoint, _Job]] = {}
        down_since: float | None = None
        try:
            while len(results) < len(docs):
                now = time.monotonic()
                if all(ep.misconfigured for ep in self.endpoints):
                    raise EndpointsMisconfigured(self._misconfigured_message(), results)
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
            self._maybe_report(time.monotonic(), force=True)  # also when the run must stop
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
            running[asyncio.ensure_future(self._request(ep, job))] = (ep, job)

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
            ep.refusals = 0
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
        if exc.outcome == "misconfigured":  # not the file's fault, nor a passing one
            if ep.confirmed and ep.refusals < MAX_REFUSALS:
                # It answered files with these very settings: a filter in front of the
                # server refusing this content, more likely than a wrong key. This file
                # fails (--retry-failed sends it again); refusals in a row mean the settings.
                ep.refusals += 1
                results[job.index] = AnalysisResult(
                    job.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                    message=(f"{ep.label} refused this file's request after answering others "
                             f"with the same settings: {exc}")[:500])
                return
            self._misconfigured(ep, str(exc))
            queue.appendleft(job)
            return
        if exc.outcome == "too_long":  # the server is fine: cut the text shorter, try again
            self._shrink(ep, job, exc, queue, results)
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

    def _shrink(self, ep: _Endpoint, job: _Job, exc: _Failure, queue: deque,
                results: dict) -> None:
        """The prompt was over the server's context: lower the file's token cap so that the
        prompt and max_output_tokens fit, and send it again."""
        sent = job.sent_tokens or min(job.cap, len(job.doc.text.encode("utf-8")))
        cap = sent // 2
        context = _first_int(_CONTEXT_SIZE, exc.raw)
        prompt = _first_int(_PROMPT_SIZE, exc.raw)
        if context and context <= self.max_output_tokens + MIN_INPUT_TOKENS:
            # No text can fit beside the answer: a setting, not this file. Every file
            # would fail the same way, so the endpoint leaves the rotation.
            self._misconfigured(ep, (f"{ep.label}: its context holds {context} tokens, not "
                                     f"enough for max_output_tokens ({self.max_output_tokens}) "
                                     "and a prompt: lower max_output_tokens or start the "
                                     "server with a larger context"))
            queue.appendleft(job)
            return
        if context and prompt:
            over = prompt - (context - self.max_output_tokens - 8)
            cap = min(int(sent * 0.9), sent - over)
        job.shrinks += 1
        if cap < MIN_INPUT_TOKENS or job.shrinks > MAX_SHRINKS:
            results[job.index] = AnalysisResult(
                job.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                message=(f"the prompt does not fit {ep.label}'s context even with the text cut "
                         f"to {sent} tokens; raise the server's context size or lower "
                         f"max_output_tokens ({exc})")[:500])
            return
        log.info("%s: the prompt for %s is over the server's context (%s); cutting the text "
                 "from %d to %d tokens", ep.label, job.doc.path, exc, sent, cap,
                 extra={"endpoint": ep.label, "outcome": "too_long"})
        job.cap = cap
        queue.appendleft(job)

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

    # -- the request body ---------------------------------------------------------------------

    def payload(self, doc: Document, dialect: str, text: str | None = None) -> dict:
        """The request body for ``doc``; ``text`` is its text already cut to fit (by default
        cut by the conservative estimate)."""
        if text is None:
            text = estimate_cut(doc.text, self.max_input_tokens)
        messages = json.loads(prompts.chat_messages(doc, text, self.schema))
        if dialect == "json_schema":
            fmt = {"type": "json_schema",
                   "json_schema": {"name": "file_analysis", "strict": True,
                                   "schema": self._response_schema}}
        else:
            fmt = {"type": "json_object", "schema": self._response_schema}
        return {"model": self.spec.api_model, "messages": messages, "temperature": 0,
                "max_tokens": self.max_output_tokens, "response_format": fmt, "stream": False}

    def request_bodies(self, docs: list[Document], dialect: str = "json_object") -> list[dict]:
        """The bodies this engine sends for ``docs`` to its first endpoint, texts cut the
        same way (the benchmark's bare client sends exactly these)."""
        async def bodies() -> list[dict]:
            ep = self.endpoints[0]
            out = []
            for doc in docs:
                text, _ = await self.fit(ep, doc.text, self.max_input_tokens)
                out.append(self.payload(doc, dialect, text))
            return out

        return self._call(bodies())

    # -- cutting the text by the server's tokens ---------------------------------------------

    async def fit(self, ep: _Endpoint, text: str, cap: int) -> tuple[str, int | None]:
        """``text`` cut to at most ``cap`` tokens of ``ep``'s model, and its token count when
        the server counted it. The server's tokenizer when it offers one (probed once per
        endpoint), else the conservative estimate."""
        if len(text.encode("utf-8")) <= cap:  # no token is shorter than one byte
            return text, None
        head = text[: cap * 8]
        if ep.counter is None:
            await self._probe_counter(ep)
        if not ep.counter:
            return estimate_cut(head, cap), None
        try:
            n = await self._count(ep, head)
            for _ in range(6):
                if n <= cap:
                    return head, n
                head = head[: max(1, int(len(head) * cap / n * 0.97))]
                n = await self._count(ep, head)
            if n <= cap:
                return head, n
        except _Failure:
            pass  # the count failed this time: the estimate will do
        return estimate_cut(head, cap), None

    def _root(self, ep: _Endpoint) -> str:
        return ep.url[: -len("/v1")] if ep.url.endswith("/v1") else ep.url

    async def _probe_counter(self, ep: _Endpoint) -> None:
        """Find out once how ``ep`` counts tokens: llama-cpp-python's /extras/tokenize/count,
        llama.cpp's and vLLM's /tokenize, or none."""
        if ep.counter_lock is None:
            ep.counter_lock = asyncio.Lock()
        async with ep.counter_lock:
            if ep.counter is not None:
                return
            reached = False
            # llama-cpp-python reads input, vLLM prompt, llama.cpp's server content
            for path in ("/extras/tokenize/count input", "/tokenize prompt", "/tokenize content"):
                try:
                    n = await self._count_at(ep, path, "Helios counts tokens")
                    reached = True
                except _Failure as exc:
                    reached = reached or exc.outcome != "refused"
                    continue
                if n > 0:
                    ep.counter = path
                    log.info("%s: texts are cut by the server's tokenizer (%s)", ep.label, path,
                             extra={"endpoint": ep.label})
                    return
            if reached:  # it answered, with no tokenizer: estimate from now on
                ep.counter = ""
                log.info("%s offers no tokenizer; texts are cut by an estimate of %g characters "
                         "a token", ep.label, ASCII_CHARS_PER_TOKEN, extra={"endpoint": ep.label})

    async def _count(self, ep: _Endpoint, text: str) -> int:
        return await self._count_at(ep, ep.counter, text)

    async def _count_at(self, ep: _Endpoint, path: str, text: str) -> int:
        aiohttp = self._aiohttp
        path, field = path.split()
        body = {"model": self.spec.api_model, field: text}
        if field != "input":
            body["add_special_tokens"] = False
        try:
            async with self._session.post(
                    self._root(ep) + path, json=body,
                    timeout=aiohttp.ClientTimeout(total=self.spec.request_timeout)) as resp:
                raw = await resp.read()
                status = resp.status
        except asyncio.TimeoutError:
            raise _Failure("timeout", "tokenize timed out") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _Failure("refused", f"{exc.__class__.__name__}: {exc}") from None
        if status != 200:
            raise _Failure("client_error", f"HTTP {status}")
        try:
            data = json.loads(raw)
            if isinstance(data.get("count"), int):
                return data["count"]
            return len(data["tokens"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise _Failure("malformed", f"not a tokenize answer: {_snippet(raw)}") from None

    # -- one request --------------------------------------------------------------------------

    async def _request(self, ep: _Endpoint, job: _Job) -> tuple[Generation, float]:
        aiohttp = self._aiohttp
        text, job.sent_tokens = await self.fit(ep, job.doc.text, job.cap)
        body = self.payload(job.doc, ep.dialect, text)
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
        if status in (401, 403, 404) or (status in (400, 422) and _MODEL_MISSING.search(raw)):
            # the endpoint's configuration is wrong (key, URL, model), not the file
            raise _Failure("misconfigured",
                           self._config_advice(ep, status, raw, "chat/completions"))
        if status in (400, 413, 422) and _TOO_LONG.search(raw):
            raise _Failure("too_long", f"HTTP {status}: {_snippet(raw)}", raw=raw)
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
        completion = int(usage.get("completion_tokens") or 0)
        if finish_reason == "length" and 0 < completion < self.max_output_tokens:
            # llama-cpp-python lowers max_tokens to what is left of its context: the answer
            # was cut for room, not by max_output_tokens
            prompt = int(usage.get("prompt_tokens") or 0)
            raise _Failure("too_long", f"the answer was cut after {completion} tokens, short of "
                                       f"max_output_tokens {self.max_output_tokens}: the prompt "
                                       "leaves too little of the server's context",
                           raw=f"n_ctx={prompt + completion} Requested tokens ({prompt})".encode())
        gen = Generation(text.strip(), int(usage.get("prompt_tokens") or 0), completion,
                         finish_reason != "length")
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


def estimate_cut(text: str, cap: int) -> str:
    """``text`` cut to about ``cap`` tokens without a tokenizer, erring short: an ASCII
    character counts as 1/ASCII_CHARS_PER_TOKEN of a token, any other as a whole token."""
    budget = cap * ASCII_CHARS_PER_TOKEN
    for i, ch in enumerate(text):
        budget -= 1 if ch < "\x80" else ASCII_CHARS_PER_TOKEN
        if budget < 0:
            return text[:i]
    return text


def _first_int(pattern: re.Pattern, raw: bytes) -> int | None:
    match = pattern.search(raw)
    if not match:
        return None
    return int(next(g for g in match.groups() if g))


# Keys this process sends, and key-like words: never repeated from a server's answer into
# logs, events or errors (OpenAI-style servers echo part of a refused key).
_SECRETS: set[str] = set()
_KEYLIKE = re.compile(r"(?i)\bbearer\s+\S+|\bsk-[\w\-.*\u2026]{3,}")


def _snippet(raw: bytes) -> str:
    text = raw[:400].decode("utf-8", "replace")
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    return _KEYLIKE.sub("***", text)[:200].replace("\n", " ")
