"""Deterministic evidence: what the file itself says, and which field it decides."""

from __future__ import annotations

from ..records import Document
from .personal_data import find_personal_data
from .schema import AnalysisSchema

FINDINGS = "personal_findings"  # the hint that carries the findings to the result


def apply_evidence(data: dict, doc: Document, schema: AnalysisSchema) -> dict[str, str]:
    """Let decisive deterministic evidence fix fields; return who chose each field."""
    decided = {name: "model" for name in data}
    if not schema.is_default:
        return decided
    hints = doc.hints
    if hints.get("category"):
        data["category"] = hints["category"]
        decided["category"] = "evidence"
    if hints.get("language"):
        data["language"] = hints["language"]
        decided["language"] = "evidence"
    # Personal data only with evidence: validated patterns found in the file. The
    # model's own yes cites nothing it found, so it never raises the flag alone.
    findings = [f.as_dict() for f in find_personal_data(doc.text)]
    hints[FINDINGS] = findings
    if "contains_personal_data" in data:
        data["contains_personal_data"] = bool(findings)
        decided["contains_personal_data"] = "evidence"
    return decided


def personal_evidence(doc: Document) -> list[dict] | None:
    """The findings ``apply_evidence`` stored for ``doc`` (None when there were none)."""
    return doc.hints.get(FINDINGS) or None
