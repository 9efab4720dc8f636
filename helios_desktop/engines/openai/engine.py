"""``OpenAIEngine``: the scheduler's decisions carried out over HTTP, in one event-loop thread."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Callable

from ...analysis import prompts
from ...analysis.outcome import finish
from ...analysis.schema import AnalysisSchema
from ...records import AnalysisResult, Document
from ..base import EngineError
from ..spec import EndpointsSpec
from .client import ServerClient
from .errors import SECRETS, Failure
from .fitting import TextFitter, estimate_cut
from .scheduler import BatchState, Endpoint, EndpointScheduler, EndpointsMisconfigured, Job

log = logging.getLogger("helios.endpoints")

REPORT_EVERY = 1.0        # seconds between endpoint reports during a batch


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
        # the server is asked only those fields: a shorter prompt, schema and answer
        self.asked = schema.asked(model_fields)
        self.on_report = on_report
        self.model_name = spec.api_model
        self.batch_size = 2 * spec.max_concurrency * len(spec.urls)
        self.scheduler = EndpointScheduler(spec, max_input_tokens=max_input_tokens,
                                           max_output_tokens=max_output_tokens)
        self.endpoints = self.scheduler.endpoints
        headers = {"Content-Type": "application/json"}
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise EngineError(f"api_key_env names {spec.api_key_env}, but that environment "
                                  "variable is not set")
            headers["Authorization"] = f"Bearer {key}"
            SECRETS.add(key)
        self.client = ServerClient(spec, headers, max_output_tokens)
        self.fitter = TextFitter(self.client.count_at)
        self._response_schema = _response_schema(self.asked)
        # a file without prose (code, data, a log) is not asked its language: the evidence
        # stores '' there whatever the model says (built on first need)
        self._prose_free: tuple[AnalysisSchema, dict] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="helios-endpoints",
                                        daemon=True)
        self._thread.start()
        self._call(self.client.open())
        self._last_report = 0.0
        if check:
            self._call(self._check())

    # -- the loop thread -------------------------------------------------------------------

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self.client.close())
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
            raise EndpointsMisconfigured(self.scheduler.misconfigured_message())
        raise EngineError("no model server answers: " + "; ".join(why for _, why in answers))

    async def _check_one(self, ep: Endpoint) -> tuple[bool, str]:
        try:
            status, raw = await self.client.models(ep)
        except Failure as exc:
            return False, str(exc)
        if status in (401, 403, 404):
            self.scheduler.misconfigure(ep, self.client.advice(ep, status, raw, "models"))
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

    # -- the public step ------------------------------------------------------------------

    def analyze(self, docs: list[Document]) -> list[AnalysisResult]:
        """One result per document, in order; raises ``EndpointsDown`` (with partial results)."""
        if not docs:
            return []
        results = self._call(self._analyze(docs))
        return [results[i] for i in range(len(docs))]

    async def _analyze(self, docs: list[Document]) -> dict[int, AnalysisResult]:
        sched = self.scheduler
        batch: BatchState = sched.start(docs)
        running: dict[asyncio.Task, tuple[Endpoint, Job]] = {}
        try:
            while not batch.finished:
                now = time.monotonic()
                sched.check_misconfigured(batch)
                for ep, job in sched.assign(batch, now):
                    running[asyncio.ensure_future(self._request(ep, job))] = (ep, job)
                sched.check_down(batch, now, bool(running))
                self._maybe_report(now)
                timeout = sched.wake(batch, now)
                if not running:
                    await asyncio.sleep(timeout if timeout is not None else 0.01)
                    continue
                done, _ = await asyncio.wait(running, timeout=timeout,
                                             return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    ep, job = running.pop(task)
                    sched.release(ep)
                    self._settle(task, batch, ep, job)
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
                for ep, _ in running.values():
                    sched.release(ep)
            self._maybe_report(time.monotonic(), force=True)  # also when the run must stop
        return batch.results

    def _settle(self, task: asyncio.Task, batch: BatchState, ep: Endpoint, job: Job) -> None:
        now = time.monotonic()
        exc = task.exception()
        if exc is None:
            gen, seconds = task.result()
            self.scheduler.succeeded(ep, seconds)
            batch.results[job.index] = finish(job.doc, gen, seconds, self.schema,
                                              self.max_output_tokens, self.model_fields,
                                              self.asked_for(job.doc)[0])
            return
        if not isinstance(exc, Failure):
            exc = Failure("error", f"{exc.__class__.__name__}: {exc}")
        self.scheduler.failed(batch, ep, job, exc, now)

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
        asked, schema = self.asked_for(doc)
        messages = json.loads(prompts.chat_messages(doc, text, asked))
        if dialect == "json_schema":
            fmt = {"type": "json_schema",
                   "json_schema": {"name": "file_analysis", "strict": True, "schema": schema}}
        else:
            fmt = {"type": "json_object", "schema": schema}
        return {"model": self.spec.api_model, "messages": messages, "temperature": 0,
                "max_tokens": self.max_output_tokens, "response_format": fmt, "stream": False}

    def asked_for(self, doc: Document) -> tuple[AnalysisSchema, dict]:
        """The schema ``doc`` is asked and its response format: the engine's, less the
        language for a file the kind says has no prose (when another field is left)."""
        fields = set(self.asked.builtin_fields or ())
        if not doc.hints.get("no_prose") or "language" not in fields or len(fields) == 1:
            return self.asked, self._response_schema
        if self._prose_free is None:
            asked = self.schema.asked(frozenset(fields - {"language"}))
            self._prose_free = (asked, _response_schema(asked))
        return self._prose_free

    def request_bodies(self, docs: list[Document], dialect: str = "json_object") -> list[dict]:
        """The bodies this engine sends for ``docs`` to its first endpoint, texts cut the
        same way (the benchmark's bare client sends exactly these)."""
        async def bodies() -> list[dict]:
            ep = self.endpoints[0]
            out = []
            for doc in docs:
                text, _ = await self.fitter.fit(ep, doc.text, self.max_input_tokens)
                out.append(self.payload(doc, dialect, text))
            return out

        return self._call(bodies())

    async def _request(self, ep: Endpoint, job: Job) -> tuple:
        text, job.sent_tokens = await self.fitter.fit(ep, job.doc.text, job.cap)
        return await self.client.chat(ep, self.payload(job.doc, ep.dialect, text))


def _response_schema(asked: AnalysisSchema) -> dict:
    """The JSON schema a server is given for ``asked`` (without Helios's guidance hints)."""
    schema = json.loads(asked.guidance_json())
    schema.pop("x-guidance", None)
    return schema
