"""Deterministic evidence: what the file itself says, and which field it decides.

Category, language and the personal-data flag are fixed where the evidence is
decisive. Summary and keywords go through the quality gate (``quality.py``): a
model answer that passes stands; one that fails is replaced by the evidence
(``describe.py``), so no field is ever stored as noise. The result records who
decided each field and the gate's verdicts.
"""

from __future__ import annotations

import os

from ..records import Document
from .describe import describe
from .personal_data import find_personal_data
from .quality import PASS, gate
from .schema import AnalysisSchema

MODEL, EVIDENCE = "model", "evidence"
FINDINGS = "personal_findings"  # the hint that carries the findings to the result


def apply_evidence(data: dict, doc: Document, schema: AnalysisSchema,
                   model_fields: frozenset[str] | None = None) -> tuple[dict[str, str], dict]:
    """Let evidence fix fields and gate the model's text; return (decided_by, quality).

    ``model_fields`` names the gated fields the model may decide at all (None: every
    one); the others take the evidence without asking the gate.
    """
    decided = {name: MODEL for name in data}
    if not schema.is_default:
        return decided, {}
    hints = doc.hints
    if hints.get("category"):
        data["category"] = hints["category"]
        decided["category"] = EVIDENCE
    if hints.get("language"):
        data["language"] = hints["language"]
        decided["language"] = EVIDENCE
    # Personal data only with evidence: validated patterns found in the file. The
    # model's own yes cites nothing it found, so it never raises the flag alone.
    findings = [f.as_dict() for f in find_personal_data(doc.text)]
    hints[FINDINGS] = findings
    if "contains_personal_data" in data:
        data["contains_personal_data"] = bool(findings)
        decided["contains_personal_data"] = EVIDENCE
    name = os.fsdecode(os.path.basename(doc.path))
    verdicts = gate(data, doc.text, name, doc.kind)
    quality: dict = {"gate": PASS}
    evidence = None
    for field, verdict in verdicts.items():
        quality[field] = verdict.as_dict()
        allowed = model_fields is None or field in model_fields
        if not allowed:
            quality[field] = {"verdict": "not_asked"}
        if verdict.ok and allowed:
            continue
        if allowed:
            quality["gate"] = "fail"
        if evidence is None:
            evidence = describe(doc.path, doc.text, doc.kind, hints)
        data[field] = evidence.summary if field == "summary" else evidence.keywords
        decided[field] = EVIDENCE
    return decided, quality


def personal_evidence(doc: Document) -> list[dict] | None:
    """The findings ``apply_evidence`` stored for ``doc`` (None when there were none)."""
    return doc.hints.get(FINDINGS) or None
