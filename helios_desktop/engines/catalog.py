"""Model folders: what is installed, and a check that a folder really works."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..paths import models_dir
from ..records import Document


class ModelError(ValueError):
    """A folder that is not a usable model; the message says why."""


def _precision(folder: Path, info: dict) -> str:
    marker = folder / "helios_model.json"
    if marker.exists():
        try:
            return json.loads(marker.read_text()).get("precision", "?")
        except ValueError:
            pass
    name = folder.name.lower()
    for tag in ("int4", "int8", "fp16", "bf16", "fp32"):
        if tag in name:
            return tag
    return "?"


def describe(folder: Path) -> dict:
    info = json.loads((folder / "genai_config.json").read_text("utf-8"))
    options = info.get("model", {}).get("decoder", {}).get("session_options", {})
    providers = [next(iter(p)) for p in options.get("provider_options", []) if p]
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    return {"name": folder.name, "path": str(folder), "size_mb": size / 1e6,
            "precision": _precision(folder, info),
            "provider": (providers[0] if providers else "cpu").lower(),
            "type": info.get("model", {}).get("type", "?")}


def list_models(settings) -> list[dict]:
    candidates: list[Path] = []
    root = models_dir()
    if root.is_dir():
        candidates += sorted(p for p in root.iterdir() if (p / "genai_config.json").exists())
    configured = Path(settings.model_path) if settings.model_path else None
    if configured and (configured / "genai_config.json").exists() and configured not in candidates:
        candidates.append(configured)
    rows = []
    for folder in candidates:
        row = describe(folder)
        row["configured"] = folder == configured
        rows.append(row)
    return rows


def verify_model(folder: Path, provider: str = "auto") -> dict:
    """Load ``folder`` and run one guided generation; raises ModelError with the reason."""
    from .onnx import EngineError, ONNXInferenceEngine, read_model_info
    from ..scan.kinds import detect_kind
    from ..analysis.schema import load_schema

    try:
        read_model_info(folder)
        required = ["tokenizer.json"]
        missing = [n for n in required if not (folder / n).exists()]
        if missing:
            raise ModelError(f"{folder} lacks {', '.join(missing)}: not a complete model folder")
        started = time.perf_counter()
        engine = ONNXInferenceEngine(folder, load_schema(None), provider=provider, max_batch_size=1,
                                     max_output_tokens=1024)
        loaded = time.perf_counter() - started
        text = "Meeting notes: the team agreed to ship the release on Friday.\n"
        kind = detect_kind(b"notes.txt", text)
        result = engine.analyze([Document(b"notes.txt", kind.label, text, hints=kind.hints())])[0]
    except EngineError as exc:
        raise ModelError(str(exc)) from None
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{folder} failed to load or generate: {exc}") from None
    report = describe(folder)
    report.update(provider_used=engine.provider, load_seconds=round(loaded, 2),
                  status=result.status.value, valid_json=result.data is not None,
                  generated_tokens=result.generated_tokens, output=result.data or result.raw_output,
                  message=result.message)
    engine.close()
    if result.data is None:
        raise ModelError(f"{folder} loaded but its guided output was not valid: {result.message}")
    return report
