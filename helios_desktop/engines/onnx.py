"""Inference: turn documents into schema-valid analyses with onnxruntime-genai.

``InferenceEngine`` is the interface the pipeline uses; ``ONNXInferenceEngine``
is the product's implementation. Decoding is constrained by the schema
(llguidance), and every output is parsed and validated again in code.

Batching: models built with paged attention (CUDA) go through ``og.Engine``,
which schedules requests continuously. Other models run static batches of
similar length through ``og.Generator``; those that cannot batch prompts of
unequal length (Gemma 3 on the CPU) get batches of equal length only. The
batch size adapts: an out-of-memory error halves it and retries the same
files; it grows back after a run of successes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis import prompts
from ..analysis.evidence import apply_evidence, personal_evidence
from ..analysis.schema import CATEGORIES, AnalysisSchema
from ..records import AnalysisResult, Document, Reason, Status
from .base import EngineError, Generation, is_oom
from .devices import ProviderError, resolve_provider
from .model_folder import ModelFolder

log = logging.getLogger("helios.engine")

GROW_AFTER = 8  # successful batches before the batch size doubles again
ENGINE_STALL_SECONDS = 300  # og.Engine with requests pending but no event for them: give up


@dataclass
class _Prepared:
    doc: Document
    ids: np.ndarray


class ONNXInferenceEngine:
    """onnxruntime-genai engine with guided JSON decoding and adaptive batching."""

    def __init__(self, model: ModelFolder | str | Path, schema: AnalysisSchema, *,
                 provider: str = "auto", max_batch_size: int = 8, max_input_tokens: int = 512,
                 max_output_tokens: int = 160,
                 on_batch_resized: Callable[[int, int, str], None] | None = None):
        import onnxruntime_genai as og

        self._og = og
        self.folder = model if isinstance(model, ModelFolder) else ModelFolder.read(model)
        self.model_path = Path(self.folder.path)
        self.model_name = self.folder.name
        self.model_type = self.folder.model_type
        try:
            self.provider = resolve_provider(provider)
        except ProviderError as exc:
            raise EngineError(str(exc)) from None
        self.schema = schema
        self.max_batch_size = max_batch_size
        self.batch_size = max_batch_size
        self.max_input_tokens = max_input_tokens
        self.max_output_tokens = max_output_tokens
        self.on_batch_resized = on_batch_resized
        self._successes = 0
        try:
            self._load(self.provider)
        except Exception as exc:
            if provider == "auto" and self.provider == "cuda":
                log.warning("provider auto: CUDA failed to load the model (%s); using the CPU", exc)
                self.provider = "cpu"
                try:
                    self._load("cpu")
                except Exception as cpu_exc:
                    raise EngineError(f"model {self.model_path} cannot be loaded: on CUDA: {exc}; "
                                      f"on the CPU: {cpu_exc}") from None
            else:
                raise EngineError(f"model {self.model_path} cannot be loaded on "
                                  f"{self.provider}: {exc}") from None
        self.paged = self.folder.paged_attention and self.provider == "cuda"
        # Gemma 3 on the CPU fails batched prefill when prompt lengths differ.
        self.equal_lengths_only = self.model_type.startswith("gemma") and self.provider == "cpu"
        # The KV cache (sized by max_length) must hold at least a sliding window.
        self.min_max_length = self.folder.sliding_window
        self.pad_id = self.folder.pad_token_id
        self.chat = self.folder.has_chat_template
        # Base models with the built-in schema get a grammar whose summary opens with
        # the file's kind ("This Python source ..."); others get the schema as is.
        self.kind_grammar = not self.chat and schema.is_default
        self._json_grammar = ("start: obj TAIL\nTAIL: /\\n+\\x01/\nobj: %json "
                              + schema.guidance_json() + "\n")
        self._newline_tokens: dict[int, bool] = {}
        self.demonstration = self.folder.demonstration

    def _load(self, provider: str) -> None:
        """Model, tokenizer and (paged-attention models on CUDA) the continuous-batching engine."""
        og = self._og
        self.model = self.tokenizer = self._og_engine = None
        config = og.Config(str(self.model_path))
        if provider != "cuda" or "cuda" not in self.folder.providers:
            # A folder configured for CUDA keeps its provider options (gpu_mem_limit, ...).
            config.clear_providers()
            if provider == "cuda":
                config.append_provider("cuda")
        self.model = og.Model(config)
        self.tokenizer = og.Tokenizer(self.model)
        # og.Engine allocates the paged KV cache now (a share of the free GPU memory).
        self._og_engine = (og.Engine(self.model)
                           if self.folder.paged_attention and provider == "cuda" else None)
        self._engine_cap = 0
        if self._og_engine is not None:
            # More requests than this at once made og.Engine 0.18 spin without progress
            # on an H100 (2026-11-24): never submit more.
            self._engine_cap = int(self._og_engine.get_capabilities().configured_max_batch_size or 0)

    def close(self) -> None:
        self._og_engine = None
        self.tokenizer = None
        self.model = None

    # -- prompts ---------------------------------------------------------------------------

    def _fit(self, text: str) -> str:
        """Cut the text to max_input_tokens model tokens (not characters)."""
        budget = self.max_input_tokens
        head = text[: budget * 8]
        ids = self.tokenizer.encode(head)
        if len(ids) <= budget:
            return head
        return self.tokenizer.decode(ids[:budget])

    def prompt_text(self, doc: Document) -> str:
        text = self._fit(doc.text)
        if self.chat:
            return self.tokenizer.apply_chat_template(
                prompts.chat_messages(doc, text, self.schema), add_generation_prompt=True)
        return prompts.completion_prompt(doc, text, self.schema)

    def prepare(self, docs: list[Document]) -> list[_Prepared]:
        return [_Prepared(d, np.asarray(self.tokenizer.encode(self.prompt_text(d)), dtype=np.int32))
                for d in docs]

    # -- the public step ------------------------------------------------------------------

    def analyze(self, docs: list[Document]) -> list[AnalysisResult]:
        """Analyze documents; one result per document, in order, whatever happens."""
        results: dict[int, AnalysisResult] = {}
        prepared = []
        for i, doc in enumerate(docs):
            try:
                prepared.append((i, self.prepare([doc])[0]))
            except Exception as exc:
                results[i] = AnalysisResult(doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                                            message=f"tokenization failed: {exc}")
        prepared.sort(key=lambda item: len(item[1].ids))
        queue = prepared
        while queue:
            chunk = self._next_chunk(queue)
            try:
                started = time.perf_counter()
                generations = self.generate([p.ids for _, p in chunk], chunk[0][1].doc.kind)
                seconds = time.perf_counter() - started
            except Exception as exc:
                if is_oom(exc):
                    if len(chunk) == 1:
                        i, p = chunk[0]
                        results[i] = AnalysisResult(p.doc.path, Status.FAILED, reason=Reason.OOM,
                                                    message=f"out of memory at batch size 1: {exc}")
                        del queue[:1]
                    else:
                        self._resize(max(1, len(chunk) // 2), f"out of memory: {exc}")
                    continue
                for i, p in chunk:
                    results[i] = AnalysisResult(p.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                                                message=str(exc)[:500])
                del queue[:len(chunk)]
                continue
            del queue[:len(chunk)]
            share = seconds / max(1, sum(g.generated_tokens for g in generations))
            for (i, p), gen in zip(chunk, generations):
                results[i] = self._finish(p.doc, gen, share * max(1, gen.generated_tokens))
            self._successes += 1
            if self._successes >= GROW_AFTER and self.batch_size < self.max_batch_size:
                self._resize(min(self.max_batch_size, self.batch_size * 2), "recovered")
        return [results[i] for i in range(len(docs))]

    def _next_chunk(self, queue: list) -> list:
        size = min(self.batch_size, len(queue))
        if self.kind_grammar:  # one grammar per batch: same kind only
            same = 1
            while same < size and queue[same][1].doc.kind == queue[0][1].doc.kind:
                same += 1
            size = same
        if self.equal_lengths_only:
            first = len(queue[0][1].ids)
            n = 1
            while n < size and len(queue[n][1].ids) == first:
                n += 1
            size = n
        return queue[:size]

    def _resize(self, size: int, why: str) -> None:
        old, self.batch_size = self.batch_size, size
        self._successes = 0
        log.info("batch size %d -> %d (%s)", old, size, why)
        if self.on_batch_resized:
            self.on_batch_resized(old, size, why)

    def _finish(self, doc: Document, gen: Generation, seconds: float) -> AnalysisResult:
        base = dict(path=doc.path, raw_output=gen.text, prompt_tokens=gen.prompt_tokens,
                    generated_tokens=gen.generated_tokens, inference_seconds=seconds)
        if gen.error:
            return AnalysisResult(status=Status.FAILED, reason=Reason.ENGINE_ERROR,
                                  message=gen.error[:500], **base)
        if not gen.complete:
            return AnalysisResult(status=Status.FAILED, reason=Reason.BAD_OUTPUT,
                                  message=f"output cut at max_output_tokens ({self.max_output_tokens})",
                                  **base)
        try:
            data = json.loads(gen.text)
        except ValueError as exc:
            return AnalysisResult(status=Status.FAILED, reason=Reason.BAD_OUTPUT,
                                  message=f"not JSON: {exc}", **base)
        problem = self.schema.validate(data)
        if problem:
            return AnalysisResult(status=Status.FAILED, reason=Reason.BAD_OUTPUT,
                                  message=f"schema: {problem}", **base)
        decided, quality = apply_evidence(data, doc, self.schema)
        return AnalysisResult(status=Status.DONE, data=data, decided_by=decided, quality=quality,
                              evidence=personal_evidence(doc), **base)

    # -- generation -------------------------------------------------------------------------

    def generate(self, batch: list[np.ndarray], kind: str = "file") -> list[Generation]:
        """Guided generation for a batch of prompts (token ids); the seam tests drive."""
        if self._og_engine is not None:
            cap = self._engine_cap or len(batch)
            out = []
            for start in range(0, len(batch), cap):
                out += self._generate_engine(batch[start:start + cap])
            return out
        grammar = (prompts.base_model_grammar(list(CATEGORIES), kind) if self.kind_grammar
                   else self._json_grammar)
        return self._generate_static(batch, grammar)

    def _is_newline(self, token: int) -> bool:
        hit = self._newline_tokens.get(token)
        if hit is None:
            hit = "\n" in self.tokenizer.decode(np.array([token], dtype=np.int32))
            self._newline_tokens[token] = hit
        return hit

    def _generate_static(self, batch: list[np.ndarray], grammar: str) -> list[Generation]:
        og = self._og
        n = len(batch)
        width = max(len(ids) for ids in batch)
        tokens = np.full((n, width), self.pad_id, dtype=np.int32)
        for row, ids in enumerate(batch):
            tokens[row, :len(ids)] = ids  # right padding, as the tokenizer's encode_batch does
        params = og.GeneratorParams(self.model)
        max_length = max(width + self.max_output_tokens + 2, self.min_max_length)
        params.set_search_options(max_length=max_length, batch_size=n, do_sample=False)
        # One finished row must not stop the grammar of the others (0.18 raises
        # "compute_mask() called after stop"): the grammar asks for a newline tail
        # after the object and never accepts end-of-text, and we stop the loop
        # ourselves once every row has closed its object.
        params.set_guidance("lark_grammar", grammar)
        generator = og.Generator(self.model, params)
        generator.append_tokens(tokens)
        generated = [[] for _ in range(n)]
        closed = [False] * n
        steps = 0
        while not all(closed) and steps < self.max_output_tokens and not generator.is_done():
            generator.generate_next_token()
            steps += 1
            for row, token in enumerate(generator.get_next_tokens()):
                if closed[row]:
                    continue
                token = int(token)
                generated[row].append(token)
                if self._is_newline(token):
                    closed[row] = True
        del generator
        out = []
        for row in range(n):
            text = self.tokenizer.decode(np.array(generated[row], dtype=np.int32))
            body, newline, _ = text.partition("\n")
            out.append(Generation(body, len(batch[row]), len(generated[row]) - (1 if newline else 0)
                                  if newline else len(generated[row]), bool(newline)))
        return out

    # og.Engine error codes that mean "too much at once": halve the batch and retry.
    _CAPACITY_ERRORS = ("EXECUTION_CAPACITY_EXCEEDED", "CAPACITY_DEFERRED", "RETRYABLE_EXECUTION")

    def _generate_engine(self, batch: list[np.ndarray]) -> list[Generation]:
        og = self._og
        engine = self._og_engine
        schema_json = self.schema.guidance_json()
        live = []  # keep every request referenced until it finishes (a collected one is closed)
        buffer = None
        generated = [[] for _ in batch]
        finished = [None] * len(batch)
        errors: list[str | None] = [None] * len(batch)
        clean = False
        try:
            for ids in batch:
                request = engine.create_request()
                options = og.TurnOptions(request)
                options.set_guidance("json_schema", schema_json)
                options.set_max_generated_tokens(self.max_output_tokens)
                request.begin_turn(ids, options)
                live.append((request, options))
            rows_by_request = {id(r): i for i, (r, _) in enumerate(live)}
            buffer = engine.create_event_buffer(max(64, 4 * len(batch)))
            progress = time.monotonic()
            while engine.has_pending_requests():
                if time.monotonic() - progress > ENGINE_STALL_SECONDS:
                    raise RuntimeError(f"og.Engine made no progress for {ENGINE_STALL_SECONDS} s "
                                       f"with {len(batch)} requests in flight")
                for event in engine.run(buffer):
                    flags = int(event.flags)
                    row = rows_by_request.get(id(event.request))
                    if row is None:
                        # Engine-level events (capacity, scheduling) carry no request of ours.
                        if flags & int(og.EngineEventFlags.FAILED):
                            code = getattr(event.error_code, "name", str(event.error_code))
                            raise RuntimeError(f"og.Engine step failed: {code}")
                        continue
                    progress = time.monotonic()
                    if flags & int(og.EngineEventFlags.FAILED):
                        code = getattr(event.error_code, "name", str(event.error_code))
                        errors[row] = str(code)
                        finished[row] = og.FinishReason.FAILED
                        continue
                    if flags & int(og.EngineEventFlags.TOKEN) and event.token is not None:
                        generated[row].append(int(event.token))
                    if flags & int(og.EngineEventFlags.TURN_FINISHED):
                        finished[row] = event.finish_reason
            clean = True
        finally:
            for request, _ in live:
                try:
                    request.close()
                except Exception:  # closing is best effort; the engine is replaced below
                    pass
            if not clean or engine.has_pending_requests():
                # An exception left the engine mid-step: free it (its KV cache), start afresh.
                live.clear()
                buffer = engine = self._og_engine = None
                self._og_engine = og.Engine(self.model)
        capacity = [e for e in errors if e and any(c in e for c in self._CAPACITY_ERRORS)]
        if capacity:
            # The same wording as an allocator failure, so the caller halves the batch.
            raise RuntimeError(f"out of memory: og.Engine reported {capacity[0]} for "
                               f"{len(capacity)} of {len(batch)} requests")
        out = []
        eos = og.FinishReason.EOS
        for row, ids in enumerate(batch):
            toks = generated[row]
            text = self.tokenizer.decode(np.array(toks, dtype=np.int32)) if toks else ""
            out.append(Generation(text, len(ids), len(toks), finished[row] == eos,
                                  error=f"og.Engine request failed: {errors[row]}" if errors[row]
                                  else None))
        return out
