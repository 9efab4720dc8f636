"""Model folders: what is installed, and a check that a folder really works."""

from __future__ import annotations

import time
from pathlib import Path

from ..paths import DEFAULT_MODEL_NAME, models_dir
from ..records import MODEL_FIELDS, Document
from .model_folder import GENAI_CONFIG, ModelFolder

# The fields each model Helios builds is asked to decide, chosen per field by
# measurement (``python -m bench.quality``, docs/QUALITY.md). ``helios models build-*``
# writes them into helios_model.json (key ``model_fields``); folders built before that
# key existed are recognised by name here. Models not listed decide every field.
MEASURED_FIELDS: dict[str, tuple[str, ...]] = {
    DEFAULT_MODEL_NAME: (),
    "smollm2-135m-instruct-int4-cpu": (),
    "smollm2-135m-instruct-int4-cpu-full": (),
}


class ModelError(ValueError):
    """A folder that is not a usable model; the message says why."""


def folder_model_fields(folder: ModelFolder) -> frozenset[str] | None:
    """What ``model_fields: auto`` means for ``folder``: its marker's list, else the
    measured list for its name, else None (every field)."""
    listed = folder.marker.get("model_fields")
    if isinstance(listed, list):
        return frozenset(f for f in listed if f in MODEL_FIELDS)
    if folder.name in MEASURED_FIELDS:
        return frozenset(MEASURED_FIELDS[folder.name])
    return None


def resolve_model_fields(setting, folder: ModelFolder | None) -> frozenset[str] | None:
    """The ``model_fields`` setting made concrete: a set of fields, or None for every one.
    ``auto`` reads the model folder; with no folder (a model server) it means every field."""
    if setting == "all":
        return None
    if setting == "auto":
        return folder_model_fields(folder) if folder is not None else None
    return frozenset(setting)


def describe(folder: Path | ModelFolder) -> dict:
    model = folder if isinstance(folder, ModelFolder) else ModelFolder.read(folder)
    return {"name": model.name, "path": model.path, "size_mb": model.size_bytes() / 1e6,
            "precision": model.precision, "provider": (model.providers or ["cpu"])[0],
            "type": model.model_type or "?"}


def active_model_path(settings) -> Path | None:
    """The model folder a run would load: model_path, else the built default; None when
    runs go to a model server (engine openai) or no model is there yet."""
    if settings.engine == "openai":
        return None
    if settings.model_path:
        return Path(settings.model_path).expanduser()
    from ..paths import default_model

    path = default_model()
    return path if (path / GENAI_CONFIG).exists() else None


def _source(model: ModelFolder) -> str:
    if model.marker.get("repo"):
        return f"hub {model.marker['repo'].split('/')[0]}"
    if model.demonstration:
        return "built (demonstration)"
    return "built by helios" if model.marker else "folder"


def checkout_models() -> Path | None:
    """The models folder of a source checkout (the tiny test model lives there), or None
    for an installed package. Known by its own script, not by its name alone: another
    package's ``models`` folder beside site-packages is no concern of Helios."""
    folder = Path(__file__).resolve().parents[2] / "models"
    return folder if (folder / "make_tiny_model.py").is_file() else None


def _model_folders(root: Path | None) -> list[Path]:
    if root is None or not root.is_dir():
        return []
    # hidden folders are unfinished pulls (.NAME.partial): not installed
    return sorted(p for p in root.iterdir()
                  if not p.name.startswith(".") and (p / GENAI_CONFIG).exists())


def list_models(settings) -> list[dict]:
    """Installed model folders (the per-user models folder, a source checkout's test
    models, and model_path wherever it is), each with ``active`` (the one a run loads)
    and ``source``."""
    candidates = _model_folders(models_dir())
    checkout = _model_folders(checkout_models())
    candidates += checkout
    configured = Path(settings.model_path).expanduser() if settings.model_path else None
    if configured and (configured / GENAI_CONFIG).exists() and configured not in candidates:
        candidates.append(configured)
    active = active_model_path(settings)
    rows = []
    for folder in candidates:
        try:
            model = ModelFolder.read(folder)
        except Exception:  # a broken folder is listed by `verify`, not here
            continue
        row = describe(model)
        row["configured"] = folder == configured
        row["active"] = active is not None and folder.resolve() == active.resolve()
        row["source"] = "this checkout (tests)" if folder in checkout else _source(model)
        rows.append(row)
    return rows


def use_model(name_or_path: str, settings) -> tuple[Path, dict, list[str]]:
    """What ``helios models use NAME|PATH`` writes: (the folder, the settings to save in the
    per-user config file, notes for the person). Raises ValueError when it is no model."""
    import os

    from ..config import config_file_in_use

    by_name = models_dir() / name_or_path
    checkout = checkout_models()
    if not (by_name / GENAI_CONFIG).exists() and checkout is not None:
        by_name = checkout / name_or_path  # the checkout's test models, as listed
    candidate = by_name if ("/" not in name_or_path and (by_name / GENAI_CONFIG).exists()) \
        else Path(name_or_path).expanduser()
    if not (candidate / GENAI_CONFIG).exists():
        raise ValueError(f"{name_or_path} is neither an installed model (helios models list) nor "
                         f"a model folder (no {GENAI_CONFIG} in {candidate.resolve()})")
    folder = candidate.resolve()
    changes: dict = {"model_path": str(folder)}
    notes = []
    if settings.engine == "openai":
        changes["engine"] = "onnx"
        notes.append("engine was openai (a model server); it is set to onnx so runs load "
                     "this folder")
    extra, named_by = config_file_in_use(None)
    if extra is not None and named_by:
        notes.append(f"{named_by} names {extra}, whose settings come after the per-user file")
    if os.environ.get("HELIOS_MODEL_PATH"):
        notes.append("HELIOS_MODEL_PATH is set and overrides the config file")
    return folder, changes, notes


def verify_model(folder: Path, provider: str = "auto") -> dict:
    """Load ``folder`` and run one guided generation; raises ModelError with the reason."""
    from ..analysis.schema import load_schema
    from ..scan.kinds import detect_kind
    from .base import EngineError
    from .registry import build_engine
    from .spec import EngineSpec

    try:
        model = ModelFolder.read(folder)
        required = ["tokenizer.json"]
        missing = [n for n in required if not (folder / n).exists()]
        if missing:
            raise ModelError(f"{folder} lacks {', '.join(missing)}: not a complete model folder")
        started = time.perf_counter()
        from .devices import ProviderError, resolve_provider

        try:  # resolved here as the command line resolves it for a run: auto -> cuda or cpu
            resolved = resolve_provider(provider)
        except ProviderError as exc:
            raise ModelError(str(exc)) from None
        engine = build_engine(EngineSpec(model=model, provider=resolved,
                                         requested_provider=provider,
                                         schema=load_schema(None).schema, max_batch_size=1,
                                         max_input_tokens=512, max_output_tokens=1024,
                                         max_file_size=0))
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
    report = describe(model)
    report.update(provider_used=engine.provider, load_seconds=round(loaded, 2),
                  status=result.status.value, valid_json=result.data is not None,
                  generated_tokens=result.generated_tokens, output=result.data or result.raw_output,
                  message=result.message)
    engine.close()
    if result.data is None:
        raise ModelError(f"{folder} loaded but its guided output was not valid: {result.message}")
    return report
