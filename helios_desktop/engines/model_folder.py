"""What a model folder is: read once, checked once, then passed around as data.

A model folder holds ``genai_config.json`` (onnxruntime-genai's runtime configuration),
the ONNX graph and weights, the tokenizer files and, for models Helios built itself,
``helios_model.json`` (precision, demonstration flag). ``ModelFolder.read`` reads all
of that once; the result is a small frozen dataclass that pickles into worker
processes, so no part of Helios opens these files again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .base import EngineError

GENAI_CONFIG = "genai_config.json"
MARKER = "helios_model.json"


class ModelFolderError(EngineError):
    """A folder that is not a usable model folder; the message says why and what to do."""


@dataclass(frozen=True)
class ModelFolder:
    path: str
    config: dict = field(repr=False)
    marker: dict = field(default_factory=dict)
    has_chat_template: bool = False

    @classmethod
    def read(cls, path: str | Path) -> ModelFolder:
        folder = Path(path).expanduser()
        cfg_file = folder / GENAI_CONFIG
        if not folder.is_dir():
            raise ModelFolderError(f"model folder {folder} does not exist; set model_path in the "
                                   "config or run `helios models build-default`")
        if not cfg_file.exists():
            raise ModelFolderError(f"{folder} is not a model folder: not an onnxruntime-genai "
                                   f"model folder (no {GENAI_CONFIG}); see models/README.md")
        try:
            config = json.loads(cfg_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFolderError(f"{cfg_file} cannot be read: {exc}") from None
        marker = {}
        try:
            marker = json.loads((folder / MARKER).read_text("utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise ModelFolderError(f"{folder / MARKER} cannot be read: {exc}") from None
        return cls(str(folder), config, marker if isinstance(marker, dict) else {},
                   _has_chat_template(folder))

    # -- what the runtime configuration says ------------------------------------------------

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def model_type(self) -> str:
        return self.config.get("model", {}).get("type", "")

    @property
    def decoder(self) -> dict:
        return self.config.get("model", {}).get("decoder", {})

    @property
    def paged_attention(self) -> bool:
        """Built with paged attention (``block_table`` input): og.Engine batches it continuously."""
        return "block_table" in self.decoder.get("inputs", {})

    @property
    def pad_token_id(self) -> int:
        return int(self.config.get("model", {}).get("pad_token_id", 0) or 0)

    @property
    def sliding_window(self) -> int:
        return int((self.decoder.get("sliding_window") or {}).get("window_size", 0) or 0)

    @property
    def providers(self) -> list[str]:
        options = self.decoder.get("session_options", {}).get("provider_options", [])
        return [next(iter(p)).lower() for p in options if p]

    # -- what Helios's own marker says ------------------------------------------------------

    @property
    def demonstration(self) -> bool:
        return bool(self.marker.get("demonstration"))

    @property
    def unpruned(self) -> bool:
        """Built by Helios without ``prune_lm_head`` (logits for every position), which
        og.Engine needs on the CPU; False when pruned or not known."""
        return self.marker.get("prune_lm_head") is False

    @property
    def precision(self) -> str:
        if self.marker.get("precision"):
            return str(self.marker["precision"])
        name = self.name.lower()
        return next((tag for tag in ("int4", "int8", "fp16", "bf16", "fp32") if tag in name), "?")

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in Path(self.path).iterdir() if f.is_file())


def _has_chat_template(folder: Path) -> bool:
    if (folder / "chat_template.jinja").exists():
        return True
    try:
        return bool(json.loads((folder / "tokenizer_config.json").read_text("utf-8")).get("chat_template"))
    except (OSError, ValueError):
        return False


def resolve_model_folder(model_path: str | None) -> ModelFolder:
    """The configured model folder, or the embedded default when ``model_path`` is unset."""
    if model_path:
        return ModelFolder.read(model_path)
    from ..paths import default_model

    path = default_model()
    if not (path / GENAI_CONFIG).exists():
        raise ModelFolderError(f"the default model is not built yet ({path}); run "
                               "`helios models build-default` once, or set model_path to a model folder")
    return ModelFolder.read(path)


def model_note(model_path: str | None) -> tuple[bool, str]:
    """Whether ``model_path`` (None: the default) is usable, and one sentence for a person."""
    try:
        folder = resolve_model_folder(model_path)
    except ModelFolderError as exc:
        return False, str(exc)
    if folder.demonstration:
        return True, "Valid model. Note: this is the demonstration model; results are examples."
    # Only what is known: a folder that does not say its precision reads "(llama)", not
    # "(llama, ?)".
    known = [part for part in (folder.model_type, folder.precision) if part and part != "?"]
    return True, f"Valid model{' (' + ', '.join(known) + ')' if known else ''}."
