"""From a model's raw answer to a stored result: the one path every engine's output takes.

The answer is parsed and validated against the schema in code (whatever decoding
the engine or server promised), then deterministic evidence settles the fields it
decides. Engines call ``finish``; a quality gate belongs here too, so it applies
to every engine alike.
"""

from __future__ import annotations

import json

from ..records import AnalysisResult, Document, Reason, Status
from .evidence import apply_evidence, evidence_answer, personal_evidence
from .schema import DEFAULT_SCHEMA, EVIDENCE_FIELDS, AnalysisSchema


def finish(doc: Document, gen, seconds: float, schema: AnalysisSchema,
           max_output_tokens: int, model_fields: frozenset[str] | None = None,
           asked: AnalysisSchema | None = None) -> AnalysisResult:
    """One result for one answer: ``done`` with validated data, or ``failed`` as
    ``engine_error`` when the runtime failed this prompt. ``gen`` is an
    ``engines.base.Generation`` (text, prompt_tokens, generated_tokens, complete, error).

    An answer that cannot be used (cut at ``max_output_tokens``, not JSON, not the
    schema) is ``failed``/``bad_output`` with a custom schema; with the built-in one the
    file still gets a ``done`` result whose every field is the evidence's, with the
    model's failure as the quality verdict (and its raw output kept).
    ``model_fields``: which fields the model may decide (None: all; see evidence.py).
    ``asked``: the schema the model answered (``schema.asked(model_fields)``; None: the
    whole schema); the fields it was not asked start empty and the evidence fills them."""
    base = dict(path=doc.path, raw_output=gen.text, prompt_tokens=gen.prompt_tokens,
                generated_tokens=gen.generated_tokens, inference_seconds=seconds)
    if gen.error:
        return AnalysisResult(status=Status.FAILED, reason=Reason.ENGINE_ERROR,
                              message=gen.error[:500], **base)
    asked = asked or schema
    problem = _unusable(gen, asked, max_output_tokens)
    if isinstance(problem, str):
        fallback = evidence_answer(doc, schema, problem, model_fields)
        if fallback is None:
            return AnalysisResult(status=Status.FAILED, reason=Reason.BAD_OUTPUT,
                                  message=problem, **base)
        data, decided, quality = fallback
        return AnalysisResult(status=Status.DONE, data=data, decided_by=decided, quality=quality,
                              evidence=personal_evidence(doc),
                              message=f"model answer not used ({problem})"[:500], **base)
    data = _with_unasked(problem, schema, asked)
    decided, quality = apply_evidence(data, doc, schema, model_fields)
    return AnalysisResult(status=Status.DONE, data=data, decided_by=decided, quality=quality,
                          evidence=personal_evidence(doc), **base)


def _unusable(gen, schema: AnalysisSchema, max_output_tokens: int) -> dict | str:
    """The answer's data, or why it cannot be used."""
    if not gen.complete:
        return f"output cut at max_output_tokens ({max_output_tokens})"
    try:
        data = json.loads(gen.text)
    except ValueError as exc:
        return f"not JSON: {exc}"
    if isinstance(data, dict) and schema.builtin_fields is not None:
        # A server that ignores the response format may answer a built-in field it was not
        # asked (the language of a Python file, the format): not its to decide, so dropped.
        # The format is never the model's: an answer without it is complete (the evidence
        # fills it in ``apply_evidence``).
        data = {k: v for k, v in data.items()
                if k in schema.fields or k not in DEFAULT_SCHEMA["properties"]}
        for name in EVIDENCE_FIELDS:
            if name in schema.fields:
                data.setdefault(name, "")
    problem = schema.validate(data)
    if problem:
        return f"schema: {problem}"
    return data


# What a field the model was not asked holds until the evidence fills it.
_UNASKED = {"string": "", "array": [], "boolean": False}


def _with_unasked(data: dict, schema: AnalysisSchema, asked: AnalysisSchema) -> dict:
    """The model's answer to ``asked`` completed to ``schema``'s fields, in its order."""
    if asked is schema:
        return data
    props = schema.schema["properties"]
    return {name: data[name] if name in data else
            _UNASKED.get(props[name].get("type"), None) for name in props}
