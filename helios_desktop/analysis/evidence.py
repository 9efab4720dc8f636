"""Deterministic evidence: what the file itself says, and which field it decides."""

from __future__ import annotations

from ..records import Document
from .schema import AnalysisSchema


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
    if hints.get("personal_data"):
        data["contains_personal_data"] = True
        decided["contains_personal_data"] = "evidence"
    return decided
