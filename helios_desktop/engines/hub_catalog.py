"""The model catalog (resources/model_catalog.yaml): its entries, and which fit this machine."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from ..records import MODEL_FIELDS
from ..resources import resource_path

CATALOG_FILE = "model_catalog.yaml"
# A site's own catalog (a mirror's entries, a model of its own), added to the shipped one.
CATALOG_ENV = "HELIOS_CATALOG"
GiB = 1024 ** 3
# Not measured: the weights plus room for the runtime and the KV cache of one batch at
# Helios's default lengths. A measured figure replaces it per entry (memory_bytes).
MEMORY_HEADROOM = 1 * GiB
_COMMIT = re.compile(r"[0-9a-f]{40}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")

# The Llama 3.2 Community License (section 1.b.i) asks a product that ships or uses Llama 3.2
# to display "Built with Llama" prominently, and to keep this notice with it.
BUILT_WITH_LLAMA = ("Built with Llama. Llama 3.2 is licensed under the Llama 3.2 Community "
                    "License, Copyright \u00a9 Meta Platforms, Inc. All Rights Reserved.")


class CatalogError(ValueError):
    """A catalog file that cannot be used, or a name it does not hold; the message says which."""


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    title: str
    repo: str
    subfolder: str
    revision: str
    onnx_file: str
    size_bytes: int
    runtime: str  # cpu | cuda
    licence: str
    licence_file: str | None = None  # shown and accepted before the download
    model_fields: tuple[str, ...] | None = None  # None: every field
    memory_bytes: int | None = None  # measured; else memory_needed() estimates
    source: str = field(default="", compare=False)  # the catalog file it came from

    @property
    def needs_acceptance(self) -> bool:
        return bool(self.licence_file)

    @property
    def is_llama(self) -> bool:
        return "llama" in self.licence.lower()

    def memory_needed(self) -> int:
        """Bytes of RAM (cpu) or GPU memory (cuda) the model needs: measured, else estimated."""
        return self.memory_bytes or self.size_bytes + MEMORY_HEADROOM

    def as_json(self) -> dict:
        """The fields scripts read (`helios models catalog --json`)."""
        return {"name": self.name, "repo": self.repo, "subfolder": self.subfolder,
                "revision": self.revision, "runtime": self.runtime,
                "size_bytes": self.size_bytes, "licence": self.licence,
                "memory_bytes": self.memory_needed(), "title": self.title,
                "model_fields": None if self.model_fields is None else list(self.model_fields)}


def _entry(raw: dict, source: str) -> CatalogEntry:
    where = f"{source}: entry {raw.get('name', '?')!r}"
    missing = [k for k in ("name", "repo", "subfolder", "revision", "onnx_file", "size_bytes",
                           "runtime", "licence") if k not in raw]
    if missing:
        raise CatalogError(f"{where} lacks {', '.join(missing)}")
    if not _NAME.fullmatch(str(raw["name"])):
        raise CatalogError(f"{where}: a name is lower-case letters, digits, '.', '_' and '-'")
    if not _COMMIT.fullmatch(str(raw["revision"])):
        raise CatalogError(f"{where}: revision must be a full 40-hex commit id (a branch such "
                           "as main moves; the catalog pins what was checked)")
    if raw["runtime"] not in ("cpu", "cuda"):
        raise CatalogError(f"{where}: runtime is cpu or cuda, not {raw['runtime']!r}")
    fields = raw.get("model_fields", "all")
    if fields == "all":
        fields = None
    elif isinstance(fields, list) and all(f in MODEL_FIELDS for f in fields):
        fields = tuple(fields)
    else:
        raise CatalogError(f"{where}: model_fields is all or a list from {', '.join(MODEL_FIELDS)}")
    return CatalogEntry(name=raw["name"], title=str(raw.get("title") or raw["name"]),
                        repo=str(raw["repo"]), subfolder=str(raw["subfolder"]).strip("/"),
                        revision=str(raw["revision"]), onnx_file=str(raw["onnx_file"]),
                        size_bytes=int(raw["size_bytes"]), runtime=raw["runtime"],
                        licence=str(raw["licence"]), licence_file=raw.get("licence_file"),
                        model_fields=fields, memory_bytes=raw.get("memory_bytes"), source=source)


def _read(path: Path) -> list[CatalogEntry]:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except OSError as exc:
        raise CatalogError(f"catalog {path} cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise CatalogError(f"catalog {path} must hold `models:`, a list of entries")
    return [_entry(m if isinstance(m, dict) else {}, str(path)) for m in models]


def load_catalog(extra: str | os.PathLike | None = None) -> list[CatalogEntry]:
    """The shipped entries, then those of ``extra`` or $HELIOS_CATALOG (a site's own; an entry
    with a shipped entry's name replaces it)."""
    entries = {e.name: e for e in _read(resource_path(CATALOG_FILE))}
    extra = extra or os.environ.get(CATALOG_ENV)
    if extra:
        for e in _read(Path(extra).expanduser()):
            entries[e.name] = e
    return list(entries.values())


def find_entry(name: str, entries: list[CatalogEntry] | None = None) -> CatalogEntry:
    entries = load_catalog() if entries is None else entries
    for e in entries:
        if e.name == name:
            return e
    raise CatalogError(f"no catalog entry named {name!r}; `helios models catalog` lists them: "
                       + ", ".join(e.name for e in entries))


# -- this machine ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Machine:
    ram_bytes: int
    gpu_memory: tuple[int, ...]  # total bytes of each NVIDIA GPU (NVML)
    runtime: str | None  # "cuda", "cpu" or None: the installed onnxruntime-genai
    runtime_note: str  # why CUDA cannot be used, or ""
    disk_free: int  # where models are installed

    def as_json(self) -> dict:
        return asdict(self)


def this_machine(models_root: Path | None = None) -> Machine:
    import psutil

    from ..paths import models_dir
    from .devices import cuda_usable, gpu_memory

    root = Path(models_root or models_dir())
    probe = next((p for p in (root, *root.parents) if p.exists()), Path("/"))
    try:
        import onnxruntime_genai  # noqa: F401
        ok, why = cuda_usable()
        runtime = "cuda" if ok else "cpu"
    except ImportError:
        runtime, why = None, "onnxruntime-genai is not installed (pip install 'helios-desktop[cpu]')"
    return Machine(ram_bytes=psutil.virtual_memory().total,
                   gpu_memory=tuple(total for total, _free in gpu_memory()),
                   runtime=runtime, runtime_note=why, disk_free=shutil.disk_usage(probe).free)


@dataclass(frozen=True)
class Fit:
    ok: bool
    reason: str  # one short phrase: "fits", or what is missing


def fit(entry: CatalogEntry, machine: Machine) -> Fit:
    """Whether ``entry`` can run here: the runtime it needs, its memory, the disk it takes."""
    need = entry.memory_needed()
    if machine.runtime is None:
        return Fit(False, "no onnxruntime-genai installed")
    if entry.runtime == "cuda":
        if not machine.gpu_memory:
            return Fit(False, "needs an NVIDIA GPU (NVML found none)")
        if machine.runtime != "cuda":
            return Fit(False, "needs onnxruntime-genai-cuda (this build has no CUDA)")
        if not any(total >= need for total in machine.gpu_memory):
            biggest = max(machine.gpu_memory, default=0)
            return Fit(False, f"needs {need / GiB:.1f} GiB GPU memory, the GPU has "
                              f"{biggest / GiB:.1f}")
    elif machine.ram_bytes < need:
        return Fit(False, f"needs {need / GiB:.1f} GiB RAM, this machine has "
                          f"{machine.ram_bytes / GiB:.1f}")
    if machine.disk_free < entry.size_bytes:
        return Fit(False, f"needs {entry.size_bytes / GiB:.1f} GiB free disk, "
                          f"{machine.disk_free / GiB:.1f} free")
    return Fit(True, "fits")


def catalog_with_fit(machine: Machine | None = None,
                     entries: list[CatalogEntry] | None = None) -> list[tuple[CatalogEntry, Fit]]:
    """Every entry with its fit for this machine (for the window's chooser and the CLI)."""
    machine = machine or this_machine()
    entries = load_catalog() if entries is None else entries
    return [(e, fit(e, machine)) for e in entries]
