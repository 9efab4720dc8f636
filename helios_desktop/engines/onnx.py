"""Inference: turn documents into schema-valid analyses with onnxruntime-genai.

``InferenceEngine`` is the interface the pipeline uses; ``ONNXInferenceEngine``
is the product's implementation. Decoding is constrained by the schema
(llguidance), and every output is parsed and validated again in code.

Batching (``batching``): models built with paged attention on CUDA, and Helios builds
made without ``prune_lm_head`` (on the CPU too, where it measured fastest), go through
``og.Engine`` (continuous.py: one request per file, fed as slots free up); so does any
model with ``batching: continuous``. Other models run static batches of similar length
through ``og.Generator``; those that cannot batch prompts of unequal length (Gemma 3 on
the CPU) get batches of equal length only. A static batch that fails is retried file by
file, so one file never takes its neighbours down. The batch size adapts: an
out-of-memory error halves it and retries the same files; it grows back after a run of
successes.
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
from ..analysis.outcome import finish
from ..analysis.schema import CATEGORIES, AnalysisSchema
from ..records import AnalysisResult, Document, Reason, Status
from .base import EngineError, Generation, import_genai, is_oom
from .continuous import ContinuousScheduler, Failure
from .devices import ProviderError, resolve_provider
from .model_folder import ModelFolder

log = logging.getLogger("helios.engine")

GROW_AFTER = 8  # successful batches before the batch size doubles again
BATCHING = ("auto", "static", "continuous")
# og.Generator refuses a static batch_size above 32 ("batch_size (33) must be in [1, 32]",
# onnxruntime-genai 0.18): a larger max_batch_size is run as consecutive generators of at
# most this many rows, not failed and retried file by file.
STATIC_MAX_BATCH = 32


def thread_options(intra_op_threads: int) -> dict:
    """The genai_config overlay that sizes ONNX Runtime's intra-op thread pool (one
    inter-op thread: a decoder step is one sequential graph)."""
    return {"model": {"decoder": {"session_options": {
        "intra_op_num_threads": int(intra_op_threads), "inter_op_num_threads": 1}}}}


@dataclass
class _Prepared:
    doc: Document
    ids: np.ndarray


class ONNXInferenceEngine:
    """onnxruntime-genai engine with guided JSON decoding and adaptive batching."""

    def __init__(self, model: ModelFolder | str | Path, schema: AnalysisSchema, *,
                 provider: str = "auto", requested_provider: str | None = None,
                 batching: str = "auto", max_batch_size: int = 8, max_input_tokens: int = 512,
                 max_output_tokens: int = 160, model_fields: frozenset[str] | None = None,
                 intra_op_threads: int | None = None, engine_options: dict | None = None,
                 on_batch_resized: Callable[[int, int, str], None] | None = None):
        """``provider`` is auto, cuda or cpu. A caller that resolved ``auto`` already (the
        worker, from its spec) passes the resolved one and ``requested_provider``: when the
        request was ``auto``, a CUDA failure at load falls back to the CPU (one log line).
        ``batching``: auto (og.Engine for paged-attention models on CUDA and for Helios
        builds made without prune_lm_head; static batches through og.Generator otherwise),
        static, or continuous (og.Engine; on the CPU it needs a model built without
        prune_lm_head). ``model_fields``: the fields the model may decide (None: every
        one; see analysis/evidence.py). ``intra_op_threads``: ONNX Runtime's intra-op
        thread pool size (None: the runtime's own choice)."""
        og = import_genai()
        self._og = og
        self.folder = model if isinstance(model, ModelFolder) else ModelFolder.read(model)
        self.model_path = Path(self.folder.path)
        self.model_name = self.folder.name
        self.model_type = self.folder.model_type
        if requested_provider is None:
            requested_provider = provider
            try:
                provider = resolve_provider(provider)
            except ProviderError as exc:
                raise EngineError(str(exc)) from None
        if batching not in BATCHING:
            raise EngineError(f"batching {batching!r} is not one of {', '.join(BATCHING)}")
        self.provider = provider
        self.batching = batching
        self.scheduler: ContinuousScheduler | None = None
        self.schema = schema
        self.max_batch_size = max_batch_size
        self.batch_size = max_batch_size
        self.max_input_tokens = max_input_tokens
        self.max_output_tokens = max_output_tokens
        self.model_fields = model_fields
        self.on_batch_resized = on_batch_resized
        self.intra_op_threads = intra_op_threads
        self.engine_options = dict(engine_options or {})
        self._successes = 0
        # Static batches: seconds in og.Generator's native calls and in Python around them
        # (og.Engine keeps its own, on the scheduler); bench gpu --diagnose reads both.
        self.run_seconds = 0.0
        self.loop_seconds = 0.0
        try:
            self._load(self.provider)
        except Exception as exc:
            if requested_provider == "auto" and self.provider == "cuda":
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
        # A chat model is asked only the fields it may decide (a shorter prompt, grammar
        # and answer); a base model's grammar spells out every built-in field a model is
        # ever asked (not the format: the evidence's alone).
        self.asked = schema.asked(model_fields if self.chat else None)
        self._json_grammar = prompts.json_grammar(self.asked)
        self._tail_tokens: dict[int, bool] = {}
        self.demonstration = self.folder.demonstration

    def _load(self, provider: str) -> None:
        """Model, tokenizer and (continuous batching) the og.Engine scheduler."""
        og = self._og
        if self.scheduler is not None:
            self.scheduler.close()
        self.model = self.tokenizer = self.scheduler = None
        config = og.Config(str(self.model_path))
        if self.intra_op_threads:
            config.overlay(json.dumps(thread_options(self.intra_op_threads)))
        if provider != "cuda" or "cuda" not in self.folder.providers:
            # A folder configured for CUDA keeps its provider options (gpu_mem_limit, ...).
            config.clear_providers()
            if provider == "cuda":
                config.append_provider("cuda")
        paged = self.folder.paged_attention and provider == "cuda"
        if paged and self.engine_options:
            # Only a paged-attention model on CUDA batches dynamically; elsewhere og.Engine
            # batches statically and these keys would change what it does.
            config.overlay(json.dumps({"engine": {"dynamic_batching": self.engine_options}}))
        self.model = og.Model(config)
        self.tokenizer = og.Tokenizer(self.model)
        # auto: og.Engine where it runs and measured fastest (PERFORMANCE.md, batch design):
        # paged attention on CUDA, and builds known to keep every position's logits.
        if self.batching == "continuous" or (self.batching == "auto"
                                             and (paged or self.folder.unpruned)):
            # og.Engine allocates the paged KV cache now (a share of the free GPU memory).
            self.scheduler = ContinuousScheduler(self)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.close()
        self.scheduler = None
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
                prompts.chat_messages(doc, text, self.asked), add_generation_prompt=True)
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
        if self.scheduler is not None:
            self._analyze_continuous(prepared, results)
            return [results[i] for i in range(len(docs))]
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
                del queue[:len(chunk)]
                if len(chunk) > 1:
                    # One bad row must not take its neighbours down: each file alone.
                    log.warning("a batch of %d failed (%s); retrying its files one by one",
                                len(chunk), str(exc)[:200])
                    for i, p in chunk:
                        results[i] = self._alone(p)
                else:
                    i, p = chunk[0]
                    results[i] = AnalysisResult(p.doc.path, Status.FAILED, reason=Reason.ENGINE_ERROR,
                                                message=str(exc)[:500])
                continue
            del queue[:len(chunk)]
            share = seconds / max(1, sum(g.generated_tokens for g in generations))
            for (i, p), gen in zip(chunk, generations):
                results[i] = self._finish(p.doc, gen, share * max(1, gen.generated_tokens))
            self._successes += 1
            if self._successes >= GROW_AFTER and self.batch_size < self.max_batch_size:
                self._resize(min(self.max_batch_size, self.batch_size * 2), "recovered")
        return [results[i] for i in range(len(docs))]

    @property
    def streams(self) -> bool:
        """True when files can be fed as slots free (og.Engine): see ``stream``."""
        return self.scheduler is not None

    def stream(self, pull: Callable[[int, bool], list | None],
               deliver: Callable[[object, AnalysisResult], None]) -> None:
        """Analyze documents pulled as og.Engine frees slots, one result delivered per
        document as it ends. ``pull(room, idle)`` returns up to ``room`` ``(key,
        Document)`` pairs, ``[]`` for none yet, or None when no more will come (``idle``:
        nothing is in flight, so the caller may wait for work)."""
        docs: dict[object, Document] = {}

        def pull_prompts(room: int, idle: bool) -> list | None:
            got = pull(room, idle)
            if got is None:
                return None
            items = []
            for key, doc in got:
                try:
                    ids = self.prepare([doc])[0].ids
                except Exception as exc:
                    deliver(key, AnalysisResult(doc.path, Status.FAILED,
                                                reason=Reason.ENGINE_ERROR,
                                                message=f"tokenization failed: {exc}"))
                    continue
                docs[key] = doc
                items.append((key, ids, doc.kind))
            return items

        def done(key, outcome) -> None:
            doc = docs.pop(key)
            if isinstance(outcome, Failure):
                deliver(key, AnalysisResult(doc.path, Status.FAILED, reason=outcome.reason,
                                            message=outcome.message[:500]))
            else:
                deliver(key, self._finish(doc, outcome, outcome.seconds or 0.0))

        self.scheduler.stream(pull_prompts, done)

    def _analyze_continuous(self, prepared: list, results: dict[int, AnalysisResult]) -> None:
        started = time.perf_counter()
        outcomes = self.scheduler.run([(i, p.ids, p.doc.kind) for i, p in prepared])
        seconds = time.perf_counter() - started
        total = sum(o.generated_tokens for o in outcomes.values() if isinstance(o, Generation))
        share = seconds / max(1, total)
        for i, p in prepared:
            outcome = outcomes[i]
            if isinstance(outcome, Failure):
                results[i] = AnalysisResult(p.doc.path, Status.FAILED, reason=outcome.reason,
                                            message=outcome.message[:500])
            else:
                results[i] = self._finish(p.doc, outcome, share * max(1, outcome.generated_tokens))

    def _alone(self, p: _Prepared) -> AnalysisResult:
        """One file in a batch of its own (after its batch failed)."""
        try:
            started = time.perf_counter()
            gen = self.generate([p.ids], p.doc.kind)[0]
        except Exception as exc:
            reason = Reason.OOM if is_oom(exc) else Reason.ENGINE_ERROR
            return AnalysisResult(p.doc.path, Status.FAILED, reason=reason, message=str(exc)[:500])
        return self._finish(p.doc, gen, time.perf_counter() - started)

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
        return finish(doc, gen, seconds, self.schema, self.max_output_tokens, self.model_fields,
                      self.asked)

    # -- generation -------------------------------------------------------------------------

    def request_guidance(self, kind: str) -> tuple[str, str]:
        """The guidance of one og.Engine request: the same constraint as a static batch
        row, without the endless tail (each request has its own guidance state)."""
        if self.kind_grammar:
            return "lark_grammar", prompts.base_model_grammar(list(CATEGORIES), kind, tail=False)
        return "json_schema", self.asked.guidance_json()

    def decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(np.array(tokens, dtype=np.int32)) if tokens else ""

    def generate(self, batch: list[np.ndarray], kind: str = "file") -> list[Generation]:
        """Guided generation for a batch of prompts (token ids); the seam tests drive."""
        if self.scheduler is not None:
            outcomes = self.scheduler.run([(i, ids, kind) for i, ids in enumerate(batch)])
            return [Generation("", len(batch[i]), 0, False, error=o.message)
                    if isinstance(o, Failure) else o for i, o in sorted(outcomes.items())]
        grammar = (prompts.base_model_grammar(list(CATEGORIES), kind) if self.kind_grammar
                   else self._json_grammar)
        out: list[Generation] = []
        for start in range(0, len(batch), STATIC_MAX_BATCH):
            out += self._generate_static(batch[start:start + STATIC_MAX_BATCH], grammar)
        return out

    def _is_tail(self, token: int) -> bool:
        """Whether the token holds a character of the grammar's tail (the object is closed)."""
        hit = self._tail_tokens.get(token)
        if hit is None:
            text = self.tokenizer.decode(np.array([token], dtype=np.int32))
            hit = any(c in text for c in prompts.TAIL_CHARS)
            self._tail_tokens[token] = hit
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
        # "compute_mask() called after stop"): the grammar's tail never ends (see
        # prompts.TAIL_RULES), and we stop the loop ourselves once every row has
        # closed its object.
        params.set_guidance("lark_grammar", grammar)
        entered = time.perf_counter()
        generator = og.Generator(self.model, params)
        generator.append_tokens(tokens)
        native = time.perf_counter() - entered
        generated = [[] for _ in range(n)]
        closed = [False] * n
        steps = 0
        while not all(closed) and steps < self.max_output_tokens and not generator.is_done():
            step = time.perf_counter()
            generator.generate_next_token()
            native += time.perf_counter() - step
            steps += 1
            for row, token in enumerate(generator.get_next_tokens()):
                if closed[row]:
                    continue
                token = int(token)
                generated[row].append(token)
                if self._is_tail(token):
                    closed[row] = True
        del generator
        self.run_seconds += native
        self.loop_seconds += time.perf_counter() - entered - native
        out = []
        for row in range(n):
            text = self.tokenizer.decode(np.array(generated[row], dtype=np.int32))
            cut = min((i for i in map(text.find, prompts.TAIL_CHARS) if i >= 0), default=-1)
            body = text if cut < 0 else text[:cut]
            count = len(generated[row]) - (1 if closed[row] else 0)
            out.append(Generation(body, len(batch[row]), count, closed[row]))
        return out
