"""Deterministic evidence: what the file itself says, and which field it decides.

Category, language and the personal-data flag are fixed where the evidence is
decisive. Summary and keywords go through the quality gate (``quality.py``): a
model answer that passes stands; one that fails is replaced by the evidence
(``describe.py``), so no field is ever stored as noise. Where the evidence leaves
the category or the language open, the model's answer must be plausible
(``category.py``) or the evidence's best guess is stored. The result records who
decided each field and the gate's verdicts.
"""

from __future__ import annotations

import os

from ..records import MODEL_FIELDS, Document
from .category import category_guess, check_category, check_language, language_guess
from .describe import describe
from .personal_data import find_personal_data, personal
from .quality import PASS, gate
from .schema import AnalysisSchema

MODEL, EVIDENCE = "model", "evidence"
FINDINGS = "personal_findings"  # the hint that carries the findings to the result
NOT_ASKED = "not_asked"
BAD_OUTPUT = "bad_output"


def apply_evidence(data: dict, doc: Document, schema: AnalysisSchema,
                   model_fields: frozenset[str] | None = None) -> tuple[dict[str, str], dict]:
    """Let evidence fix fields and gate the model's text; return (decided_by, quality).

    ``model_fields`` names the fields the model may decide at all (None: every one);
    the others take the evidence without asking the gate (verdict ``not_asked``).
    ``quality["gate"]`` is ``pass`` when every field asked of the model passed,
    ``fail`` when one was refused, and ``not_asked`` when none was asked.
    """
    decided = {name: MODEL for name in data}
    if not schema.is_default:
        return decided, {}
    hints = doc.hints
    quality: dict = {"gate": PASS}  # settled at the end; first in the stored JSON
    asked = failed = False

    def allowed(field: str) -> bool:
        return model_fields is None or field in model_fields

    if "category" in data:
        if hints.get("category"):
            data["category"] = hints["category"]
            decided["category"] = EVIDENCE
        elif not allowed("category"):
            data["category"] = category_guess(doc.text, doc.kind, hints)
            decided["category"] = EVIDENCE
            quality["category"] = {"verdict": NOT_ASKED}
        else:
            # The category gate: the model's category needs some sign of itself in the file.
            asked = True
            verdict = check_category(data["category"], doc.text, doc.kind)
            quality["category"] = verdict.as_dict()
            if not verdict.ok:
                failed = True
                data["category"] = category_guess(doc.text, doc.kind, hints)
                decided["category"] = EVIDENCE
    if "format" in data:  # the kind's, never the model's (it is not asked)
        data["format"] = hints.get("format") or ""
        decided["format"] = EVIDENCE
    if "language" in data:
        if hints.get("language") or hints.get("no_prose"):
            data["language"] = hints.get("language") or ""  # '' where there is no prose
            decided["language"] = EVIDENCE
        elif not allowed("language"):
            data["language"] = language_guess(doc.kind, hints)
            decided["language"] = EVIDENCE
            quality["language"] = {"verdict": NOT_ASKED}
        else:
            # The language gate: the model's answer must name a language Helios knows.
            asked = True
            verdict, name = check_language(data["language"])
            quality["language"] = verdict.as_dict()
            if verdict.ok:
                data["language"] = name
            else:
                failed = True
                data["language"] = language_guess(doc.kind, hints)
                decided["language"] = EVIDENCE
    # Personal data only with evidence: validated patterns found in the file. The
    # model's own yes cites nothing it found, so it never raises the flag alone.
    # A file whose only findings are contacts in a public notice (a maintainer in a
    # copyright file) keeps them as evidence but is not flagged.
    findings = personal_findings(doc)
    if "contains_personal_data" in data:
        data["contains_personal_data"] = personal(findings)
        decided["contains_personal_data"] = EVIDENCE
    name = os.fsdecode(os.path.basename(doc.path))
    evidence = None
    for field, verdict in gate(data, doc.text, name, doc.kind).items():
        if allowed(field):
            asked = True
            quality[field] = verdict.as_dict()
            if verdict.ok:
                continue
            failed = True
        else:
            quality[field] = {"verdict": NOT_ASKED}
        if evidence is None:
            evidence = describe(doc.path, doc.text, doc.kind, hints)
        data[field] = evidence.summary if field == "summary" else evidence.keywords
        decided[field] = EVIDENCE
    quality["gate"] = "fail" if failed else PASS if asked else NOT_ASKED
    return decided, quality


def evidence_answer(doc: Document, schema: AnalysisSchema, why: str,
                    model_fields: frozenset[str] | None = None) -> tuple[dict, dict, dict] | None:
    """Every field from the evidence, for a model answer that could not be used at all
    (not JSON, not the schema, cut off): (data, decided_by, quality), or None with a
    custom schema, whose fields the evidence cannot fill. The verdict ``bad_output`` goes
    to the fields the model was asked to decide (``model_fields``; None: all) and the
    kind left open; the others say ``not_asked``, as with a usable answer."""
    if not schema.is_default:
        return None
    hints = doc.hints
    described = describe(doc.path, doc.text, doc.kind, hints)
    findings = personal_findings(doc)
    data = {"summary": described.summary,
            "category": category_guess(doc.text, doc.kind, hints),
            "language": language_guess(doc.kind, hints),
            "format": hints.get("format") or "",
            "keywords": described.keywords,
            "contains_personal_data": personal(findings)}
    refused = {"verdict": BAD_OUTPUT, "detail": why[:300]}
    quality: dict = {"gate": NOT_ASKED}
    for field in MODEL_FIELDS:
        if field in ("category", "language") and (
                hints.get(field) or (field == "language" and hints.get("no_prose"))):
            continue  # the kind decides it whatever the model says: no verdict, as usual
        if model_fields is None or field in model_fields:
            quality[field] = dict(refused)
            quality["gate"] = "fail"
        else:
            quality[field] = {"verdict": NOT_ASKED}
    return data, {field: EVIDENCE for field in data}, quality


def personal_findings(doc: Document) -> list[dict]:
    """Validated personal data in the text (contacts in a public notice marked as such),
    then in a document's metadata (a photo's GPS position); kept in the hints for
    ``personal_evidence``."""
    found = find_personal_data(doc.text, name=os.fsdecode(os.path.basename(doc.path)))
    findings = [f.as_dict() for f in found]
    findings += list(doc.hints.get("meta_findings") or [])
    doc.hints[FINDINGS] = findings
    return findings


def personal_evidence(doc: Document) -> list[dict] | None:
    """The findings ``apply_evidence`` stored for ``doc`` (None when there were none)."""
    return doc.hints.get(FINDINGS) or None
