"""Build the tiny random-weight Llama that the test suite runs on.

The model is noise by design: it exists so that every code path (tokenizer,
prompt, batching, guided JSON decoding) runs for real in a few milliseconds,
with no download. Its tokenizer is a byte-level BPE trained here, on text this
repository wrote itself, so the vocabulary covers JSON punctuation and every
byte (guided decoding needs to be able to spell any string).

Usage (needs the build extra: ``pip install .[build]``):

    python models/make_tiny_model.py [--out models/tiny-llama]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VOCAB_SIZE = 2048
SEED = 1234


def training_text() -> list[str]:
    """Local text the tokenizer learns from: the project's own sources and samples."""
    texts: list[str] = []
    for pattern in ("helios_desktop/**/*.py", "resources/samples/**/*", "*.md", "models/*.md"):
        for path in sorted(REPO.glob(pattern)):
            if path.is_file() and path.stat().st_size < 1_000_000:
                texts.append(path.read_text("utf-8", errors="replace"))
    # JSON shapes the schema produces, so braces, quotes and keys become cheap tokens.
    texts += ['{"summary": "", "category": "other", "language": "English", '
              '"keywords": [], "contains_personal_data": false}'] * 50
    return texts


def train_tokenizer(out: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=["<|begin_of_text|>", "<|end_of_text|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(training_text(), trainer=trainer)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|begin_of_text|>",
        "eos_token": "<|end_of_text|>",
        "pad_token": "<|pad|>",
        "add_bos_token": False,
        "model_max_length": 2048,
    }, indent=2))
    (out / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "pad_token": "<|pad|>",
    }, indent=2))


def make_checkpoint(out: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(SEED)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(out))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(str(out))


def build_onnx(hf_dir: Path, out: Path) -> None:
    cmd = [
        sys.executable, "-m", "onnxruntime_genai.models.builder",
        "-i", str(hf_dir), "-o", str(out), "-p", "fp32", "-e", "cpu",
        "-c", str(hf_dir / "cache"),
        "--extra_options", "prune_lm_head=true",
    ]
    subprocess.run(cmd, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "models" / "tiny-llama")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "hf"
        train_tokenizer(hf_dir)
        make_checkpoint(hf_dir)
        if args.out.exists():
            shutil.rmtree(args.out)
        build_onnx(hf_dir, args.out)
    # The genai config's search defaults: greedy, so tests are deterministic.
    cfg_path = args.out / "genai_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["search"].update({"do_sample": False, "num_beams": 1, "max_length": 2048})
    cfg_path.write_text(json.dumps(cfg, indent=4) + "\n")
    print(f"tiny model written to {args.out}")


if __name__ == "__main__":
    main()
