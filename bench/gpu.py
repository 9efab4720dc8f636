"""The GPU benchmark: a random-weight Llama-3.2-3B-shaped model through Helios on CUDA.

Same shape as the real model (28 layers, hidden 3072, 24 heads, 8 KV heads, vocab
128256, tied embeddings), built with the onnxruntime-genai builder (fp16, CUDA, paged
attention so ``og.Engine`` batches continuously, pruned LM head; int4 as a second
point). Building needs torch and transformers; the run needs onnxruntime-genai-cuda.
Prints Helios files/s and tokens/s on each corpus size at up to 512 input tokens, the
bare engine's figure, GPU utilisation from NVML and model FLOP utilisation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SHAPE = dict(hidden_size=3072, intermediate_size=8192, num_hidden_layers=28,
             num_attention_heads=24, num_key_value_heads=8, vocab_size=128256,
             tie_word_embeddings=True, max_position_embeddings=4096, rope_theta=500000.0)
# Dense fp16/bf16 tensor-core peak, FLOP/s (SXM parts).
PEAK = {"H100": 989.4e12, "H200": 989.4e12, "A100": 312e12, "L40S": 362e12}


def build_model(out: Path, precision: str) -> Path:
    import torch
    from tokenizers import Tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    repo = Path(__file__).resolve().parent.parent
    hf = out.parent / f"hf-{out.name}"
    hf.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer.from_file(str(repo / "models" / "tiny-llama" / "tokenizer.json"))
    fill = SHAPE["vocab_size"] - tok.get_vocab_size()
    tok.add_special_tokens([f"<|unused_{i}|>" for i in range(fill)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>",
                                   eos_token="<|end_of_text|>", pad_token="<|pad|>")
    fast.save_pretrained(hf)
    config = LlamaConfig(**SHAPE, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cpu"):
        model = LlamaForCausalLM(config).to(torch.float16)
    model.save_pretrained(hf)
    del model
    subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf),
                    "-o", str(out), "-p", precision, "-e", "cuda", "-c", str(hf / "cache"),
                    "--extra_options", "use_paged_attention=true", "prune_lm_head=true"],
                   check=True)
    cfg = json.loads((out / "genai_config.json").read_text())
    cfg["search"].update({"do_sample": False})
    (out / "genai_config.json").write_text(json.dumps(cfg, indent=2))
    return out


def n_params() -> int:
    h, i, layers, v = (SHAPE["hidden_size"], SHAPE["intermediate_size"],
                       SHAPE["num_hidden_layers"], SHAPE["vocab_size"])
    kv = h // SHAPE["num_attention_heads"] * SHAPE["num_key_value_heads"]
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * i
    return layers * per_layer + v * h  # tied embeddings count once (the LM head matmul)


class NvmlSampler:
    def __init__(self):
        import pynvml

        pynvml.nvmlInit()
        self.nvml = pynvml
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.name = pynvml.nvmlDeviceGetName(self.handle)
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.5):
            self.samples.append(self.nvml.nvmlDeviceGetUtilizationRates(self.handle).gpu / 100)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else 0.0


def run_gpu_benchmark(args, report, generate, run_helios) -> None:
    from bench.harness import bare_engine, load_docs

    import onnxruntime_genai as og

    if not og.is_cuda_available():
        raise SystemExit("this benchmark needs onnxruntime-genai-cuda and an NVIDIA GPU")
    work = Path(args.tmp or tempfile.mkdtemp(prefix="helios-gpu-"))
    model = Path(args.model_dir) if args.model_dir else work / f"llama3b-shape-{args.precision}"
    if not (model / "genai_config.json").exists():
        t = time.perf_counter()
        build_model(model, args.precision)
        print(f"model built in {time.perf_counter() - t:.0f}s")
    params = n_params()
    settings = ["--provider", "cuda", "--set", f"max_input_tokens={args.max_input_tokens}",
                "--set", f"max_output_tokens={args.max_output_tokens}",
                "--set", f"max_batch_size={args.batch_size}"]
    for size in args.corpus_sizes:
        folder = work / f"corpus-{size}"
        if not folder.exists():
            generate(folder, size, args.seed)
        db = work / f"run-{size}.db"
        db.unlink(missing_ok=True)
        with NvmlSampler() as gpu:
            wall, fin = run_helios(folder, model, db, *settings)
        analyzed = fin["counts"]["done"] + fin["counts"]["failed"]
        import sqlite3

        conn = sqlite3.connect(db)
        prompt, generated = conn.execute(
            "SELECT sum(prompt_tokens), sum(generated_tokens) FROM files").fetchone()
        conn.close()
        peak = next((v for k, v in PEAK.items() if k in str(gpu.name)), PEAK["H100"])
        mfu = 2 * params * ((prompt or 0) + (generated or 0)) / wall / peak
        bare_fps = None
        if size == min(args.corpus_sizes):
            docs = load_docs(folder, 10 * 1024 * 1024)
            args.provider = "cuda"
            seconds, _ = bare_engine(model, docs, args)
            bare_fps = len(docs) / seconds
        report("gpu", [("gpu", gpu.name), ("model", f"{model.name} ({params / 1e9:.2f}B params)"),
                       ("files", size), ("analyzed", analyzed), ("wall", f"{wall:.1f}s"),
                       ("helios files/s", f"{analyzed / wall:.1f}"),
                       ("generated tokens/s", f"{(generated or 0) / wall:.0f}"),
                       ("prompt tokens/s", f"{(prompt or 0) / wall:.0f}"),
                       ("bare engine files/s", f"{bare_fps:.1f}" if bare_fps else "-"),
                       ("GPU utilisation (mean)", f"{gpu.mean:.0%}"), ("MFU", f"{mfu:.1%}")],
               {"gpu": str(gpu.name), "files": size, "wall_s": wall,
                "files_per_s": analyzed / wall, "generated_tokens": generated,
                "prompt_tokens": prompt, "bare_files_per_s": bare_fps,
                "gpu_utilization": gpu.mean, "mfu": mfu, "precision": args.precision})
