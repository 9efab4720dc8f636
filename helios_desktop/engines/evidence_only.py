"""The engine for a model asked nothing: every field from the file's own evidence, no model loaded."""

from __future__ import annotations

import time

from ..analysis.evidence import apply_evidence, personal_evidence
from ..analysis.schema import AnalysisSchema
from ..records import AnalysisResult, Document, Status

# A blank answer of the right type per field: ``apply_evidence`` replaces every one,
# since no field is the model's (model_fields is empty).
_BLANK = {"string": "", "array": [], "boolean": False}


class EvidenceOnlyEngine:
    """Where ``model_fields`` resolves to no field, loading the model would change no stored
    field (issue 22: 136 s of a 138 s run on 99 files), so none is loaded: the file is read
    and every field decided by its evidence, exactly as ``apply_evidence`` would after an
    answer that was asked nothing. Prompt and generated tokens are 0."""

    provider = "cpu"

    def __init__(self, model_name: str, schema: AnalysisSchema, *, batch_size: int = 8,
                 demonstration: bool = False):
        if not schema.is_default:
            # a custom schema's fields have no evidence: the registry never asks this
            raise ValueError("the evidence decides only the built-in schema's fields")
        self.model_name = model_name
        self.schema = schema
        self.batch_size = batch_size
        self.demonstration = demonstration
        self.model_fields: frozenset[str] = frozenset()

    def analyze(self, docs: list[Document]) -> list[AnalysisResult]:
        results = []
        for doc in docs:
            started = time.perf_counter()
            data = {name: _BLANK.get(spec.get("type"), "")
                    for name, spec in self.schema.schema["properties"].items()}
            decided, quality = apply_evidence(data, doc, self.schema, self.model_fields)
            results.append(AnalysisResult(doc.path, Status.DONE, data=data, decided_by=decided,
                                          quality=quality, evidence=personal_evidence(doc),
                                          inference_seconds=time.perf_counter() - started))
        return results

    def close(self) -> None:
        pass
