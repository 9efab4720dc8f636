"""From a model's raw answer to a stored result: the one path every engine's output takes.

The answer is parsed and validated against the schema in code (whatever decoding
the engine or server promised), then deterministic evidence settles the fields it
decides. Engines call ``finish``; a quality gate belongs here too, so it applies
to every engine alike.
"""

from __future__ import annotations

import json

from ..records import AnalysisResult, Document, Reason, Status
from .evidence import apply_evidence, personal_evidence
from .schema import AnalysisSchema


def finish(doc: Document, gen, seconds: float, schema: AnalysisSchema,
           max_output_tokens: int) -> AnalysisResult:
    """One result for one answer: ``done`` with validated data, or ``failed`` as ``bad_output``
    (``engine_error`` when the runtime failed this prompt). ``gen`` is an
    ``engines.base.Generation`` (text, prompt_tokens, generated_tokens, complete, error)."""
    base = dict(path=doc.path, raw_output=gen.text, prompt_tokens=gen.prompt_tokens,
                generated_tokens=gen.generated_tokens, inference_seconds=seconds)
    if gen.error:
        return AnalysisResult(status=Status.FAILED, reason=Reason.ENGINE_ERROR,
                              message=gen.error[:500], **base)
    if not gen.complete:
        return AnalysisResult(status=Status.FAILED, reason=Reason.BAD_OUTPUT,
                              message=f"output cut at max_output_tokens ({max_output_tokens})",
                              **base)
    try:
        data = json.loads(gen.text)
    except ValueError as exc:
        return AnalysisResult(status=Status.FAILED, reason=Reason.BAD_OUTPUT,
                              message=f"not JSON: {exc}", **base)
    problem = schema.validate(data)
    if problem:
        return AnalysisResult(status=Status.FAILED, reason=Reason.BAD_OUTPUT,
                              message=f"schema: {problem}", **base)
    decided, quality = apply_evidence(data, doc, schema)
    return AnalysisResult(status=Status.DONE, data=data, decided_by=decided, quality=quality,
                          evidence=personal_evidence(doc), **base)
