"""The analysis schema: the built-in default, user schemas, and validation in code."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema

CATEGORIES = ("source_code", "documentation", "configuration", "data", "log",
              "correspondence", "legal", "financial", "report", "other")

DEFAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": 240,
                    "description": "One or two sentences on what this file is and what it contains."},
        "category": {"type": "string", "enum": list(CATEGORIES),
                     "description": "The kind of file."},
        "language": {"type": "string", "maxLength": 40,
                     "description": "The natural language of the file's prose; empty where "
                                    "there is none (code, data, settings)."},
        "format": {"type": "string", "maxLength": 40,
                   "description": "The file's format (Python, INI, CSV, PDF, plain text, ...)."},
        "keywords": {"type": "array", "maxItems": 5,
                     "items": {"type": "string", "maxLength": 40},
                     "description": "Up to five short keywords about the content."},
        "contains_personal_data": {"type": "boolean",
                                   "description": "True if the file holds names with contact "
                                                  "details, addresses, ID or account numbers."},
    },
    "required": ["summary", "category", "language", "format", "keywords",
                 "contains_personal_data"],
    "additionalProperties": False,
}


# Built-in fields the evidence alone decides: a model is never asked them (the format is
# the file's kind, records.MODEL_FIELDS names the ones a model may be asked).
EVIDENCE_FIELDS = ("format",)


class SchemaError(ValueError):
    """A user schema that cannot be used; the message names the file."""


class AnalysisSchema:
    """A JSON Schema for results, its guided-decoding form, and a validator."""

    def __init__(self, schema: dict[str, Any], origin: str = "built-in"):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise SchemaError(f"analysis schema from {origin} is not a valid JSON Schema: "
                              f"{exc.message}") from None
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
            raise SchemaError(f"analysis schema from {origin} must describe an object with "
                              "properties (\"type\": \"object\", \"properties\": {...})")
        self.schema = schema
        self.origin = origin
        self._validator = jsonschema.Draft202012Validator(schema)

    @property
    def is_default(self) -> bool:
        return self.schema == DEFAULT_SCHEMA

    @property
    def fields(self) -> list[str]:
        return list(self.schema["properties"])

    @property
    def builtin_fields(self) -> tuple[str, ...] | None:
        """The built-in fields this schema asks for (all of them, or the subset made by
        ``asked``); None for a user's own schema."""
        if self.is_default:
            return tuple(self.fields)
        return self._builtin_subset

    _builtin_subset: tuple[str, ...] | None = None

    def asked(self, model_fields: frozenset[str] | None) -> "AnalysisSchema":
        """The schema a model is asked to answer: with the built-in schema, only the
        fields it may decide (``model_fields``; None: all but ``EVIDENCE_FIELDS``), so the
        answer, the grammar and the instructions shrink and the evidence fills the rest.
        A user's schema, or no field (nothing to shrink to), give the schema itself."""
        if not self.is_default or model_fields == frozenset():
            return self
        keep = [name for name in self.fields if name not in EVIDENCE_FIELDS
                and (model_fields is None or name in model_fields)]
        sub = copy.deepcopy(self.schema)
        sub["properties"] = {name: sub["properties"][name] for name in keep}
        sub["required"] = [name for name in sub["required"] if name in keep]
        subset = AnalysisSchema(sub, f"{self.origin} ({', '.join(keep)})")
        subset._builtin_subset = tuple(keep)
        return subset

    def guidance_json(self) -> str:
        """The schema as handed to llguidance: whitespace not flexible, so small
        models cannot pad with spaces until the length limit."""
        guided = copy.deepcopy(self.schema)
        guided.setdefault("additionalProperties", False)
        guided["x-guidance"] = {"whitespace_flexible": False}
        return json.dumps(guided, separators=(",", ":"))

    def validate(self, data: Any) -> str | None:
        """None when ``data`` is valid, else the first error, one line."""
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(data))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        return f"{where}: {error.message}"

    def describe_fields(self) -> str:
        lines = []
        for name, spec in self.schema["properties"].items():
            desc = spec.get("description", "")
            if "enum" in spec:
                desc += " One of: " + ", ".join(map(str, spec["enum"])) + "."
            lines.append(f"- {name}: {desc}".rstrip())
        return "\n".join(lines)


def load_schema(value: str | dict | None) -> AnalysisSchema:
    """The schema the config names: None (built-in), a file path, or an inline mapping."""
    if value is None:
        return AnalysisSchema(copy.deepcopy(DEFAULT_SCHEMA))
    if isinstance(value, dict):
        return AnalysisSchema(value, "the config (inline)")
    path = Path(value)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"schema file {path} (setting 'schema') does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"schema file {path} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"schema file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SchemaError(f"schema file {path} must hold a JSON object")
    return AnalysisSchema(data, str(path))
