"""The GPU benchmark: a random-weight Llama-3.2-3B-shaped model through Helios on CUDA.

Same shape as the real model (28 layers, hidden 3072, 24 heads, 8 KV heads, vocab
128256, tied embeddings), built with the onnxruntime-genai builder (fp16, CUDA, paged
attention so ``og.Engine`` batches continuously, pruned LM head; int4 as a second
point). Its tokenizer is the tiny model's, padded to the full vocabulary, with a
Llama-3-style chat template, so Helios takes its production (chat) path. Building
needs torch and transformers (the weights are drawn on the GPU when there is one);
the run needs onnxruntime-genai-cuda.

Stages (each prints a table and a JSON line):
- ``sweep``: the engine alone in this process on the corpus's real prompts, files/s and
  tokens/s per batch size (files in flight at once; og.Engine takes at most its
  configured ``max_batch_size``, 256 here, at a time);
- ``analyze``: ``helios analyze`` of each corpus size end to end (supervisor, worker
  processes, ledger), with the Prometheus endpoint scraped once a second during the run;
- ``diagnose`` (``--diagnose``, bench/diagnose.py): where the time goes, every stage
  bounded in time: prompt preparation, guided and unguided generation at the same token
  counts, prefill alone, native calls against Python; also on the CPU;
- ``oom`` (``--oom``): a real out-of-memory, by a capped CUDA arena (``--oom-mem-limit``,
  with a ``--static`` model) or a paged KV cache that takes nearly all the memory
  (``--oom-kv-share``); Helios halves the batch and loses no file.

GPU utilisation and memory come from NVML (sampled every 0.2 s). Model FLOP
utilisation counts 2 FLOPs per weight per token for the 28 decoder layers, attention
over the context, and the LM head once per generated token only (the pruned head
computes no logits for the other prompt positions), against the GPU's dense fp16 peak.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

SHAPE = dict(hidden_size=3072, intermediate_size=8192, num_hidden_layers=28,
             num_attention_heads=24, num_key_value_heads=8, vocab_size=128256,
             tie_word_embeddings=True, max_position_embeddings=4096, rope_theta=500000.0)
# Dense fp16/bf16 tensor-core peak, FLOP/s (SXM parts; the H100 PCIe is lower).
PEAK = {"H200": 989.4e12, "H100 PCIe": 756.5e12, "H100": 989.4e12, "A100": 312e12,
        "L40S": 362e12}

# Llama 3's chat format, with the special tokens added to the tokenizer below.
CHAT_TOKENS = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")


def build_model(out: Path, precision: str, *, shape: dict | None = None, ep: str = "cuda",
                paged: bool = True, extra: tuple[str, ...] = ()) -> Path:
    """Random weights of the given shape -> an onnxruntime-genai folder with a chat template."""
    import torch
    from tokenizers import Tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    shape = shape or SHAPE
    repo = Path(__file__).resolve().parent.parent
    hf = out.parent / f"hf-{out.name}"
    if not (hf / "config.json").exists():
        hf.mkdir(parents=True, exist_ok=True)
        tok = Tokenizer.from_file(str(repo / "models" / "tiny-llama" / "tokenizer.json"))
        tok.add_special_tokens(CHAT_TOKENS)
        fill = shape["vocab_size"] - tok.get_vocab_size()
        if fill > 0:
            tok.add_special_tokens([f"<|unused_{i}|>" for i in range(fill)])
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>",
                                       eos_token="<|eot_id|>", pad_token="<|pad|>")
        fast.chat_template = CHAT_TEMPLATE
        fast.save_pretrained(hf)
        config = LlamaConfig(**shape, bos_token_id=fast.bos_token_id,
                             eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
        torch.manual_seed(0)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.float16 if device == "cuda" else torch.float32
        default = torch.get_default_dtype()
        torch.set_default_dtype(dtype)  # drawn in place, at the saved precision
        try:
            with torch.device(device):
                model = LlamaForCausalLM(config)
        finally:
            torch.set_default_dtype(default)
        model.to(torch.float16).save_pretrained(hf)
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    options = ["prune_lm_head=true", *extra]
    if paged:
        options.insert(0, "use_paged_attention=true")
    subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf),
                    "-o", str(out), "-p", precision, "-e", ep, "-c", str(hf / "cache"),
                    "--extra_options", *options], check=True)
    cfg = json.loads((out / "genai_config.json").read_text())
    cfg["search"].update({"do_sample": False})
    (out / "genai_config.json").write_text(json.dumps(cfg, indent=2))
    # The builder copies the tokenizer; make sure the chat template came along.
    tc = out / "tokenizer_config.json"
    data = json.loads(tc.read_text())
    if not data.get("chat_template"):
        data["chat_template"] = CHAT_TEMPLATE
        tc.write_text(json.dumps(data, indent=2))
    shutil.rmtree(hf / "cache", ignore_errors=True)
    return out


def layer_params() -> int:
    h, i = SHAPE["hidden_size"], SHAPE["intermediate_size"]
    kv = h // SHAPE["num_attention_heads"] * SHAPE["num_key_value_heads"]
    return h * h * 2 + h * kv * 2 + 3 * h * i


def n_params() -> int:
    # tied embeddings count once (as the LM head matmul)
    return SHAPE["num_hidden_layers"] * layer_params() + SHAPE["vocab_size"] * SHAPE["hidden_size"]


def model_flops(prompt: int, generated: int) -> float:
    """FLOPs for one sequence: decoder layers on every token, attention over the context,
    the LM head on generated tokens only (the pruned head skips the prompt positions)."""
    layers, h, v = SHAPE["num_hidden_layers"], SHAPE["hidden_size"], SHAPE["vocab_size"]
    tokens = prompt + generated
    dense = 2 * layers * layer_params() * tokens
    attention = 2 * layers * h * tokens * tokens  # QK^T and AV, causal: 4*L*h*sum(p) ~ 2*L*h*T^2
    head = 2 * v * h * generated
    return dense + attention + head


def peak_for(name: str) -> float:
    return next((v for k, v in PEAK.items() if k in name), PEAK["H100"])


class NvmlSampler:
    """GPU utilisation and memory of GPU 0, sampled in a thread."""

    def __init__(self, interval: float = 0.2):
        import pynvml

        pynvml.nvmlInit()
        self.nvml = pynvml
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(self.handle)
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.memory_total = pynvml.nvmlDeviceGetMemoryInfo(self.handle).total
        self.interval = interval
        self.util: list[float] = []
        self.memory: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.util.append(self.nvml.nvmlDeviceGetUtilizationRates(self.handle).gpu / 100)
            self.memory.append(self.nvml.nvmlDeviceGetMemoryInfo(self.handle).used)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        n = len(self.util)
        return {"gpu_util_mean": sum(self.util) / n if n else 0.0,
                "gpu_util_max": max(self.util, default=0.0),
                "gpu_mem_used_max": max(self.memory, default=0),
                "gpu_mem_total": self.memory_total, "nvml_samples": n}


def _fmt_mem(s: dict) -> str:
    return f"{s['gpu_mem_used_max'] / 2**30:.1f} of {s['gpu_mem_total'] / 2**30:.1f} GiB"


# -- stages ---------------------------------------------------------------------------------------

def ensure_model(args, work: Path) -> Path:
    suffix = "-static" if args.static else ""
    model = (Path(args.model_dir) if args.model_dir
             else work / f"llama3b-shape-{args.precision}{suffix}")
    if not (model / "genai_config.json").exists():
        t = time.perf_counter()
        # og.Engine's own cap on requests in flight (the builder's default is 100)
        extra = () if args.static else ("max_batch_size=256",)
        build_model(model, args.precision, paged=not args.static, extra=extra)
        print(f"model built in {time.perf_counter() - t:.0f}s", flush=True)
    return model


def stage_sweep(args, report, model: Path, docs) -> dict:
    """The engine alone on real prompts: files/s per batch size (files in flight at once)."""
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.onnx import ONNXInferenceEngine

    t = time.perf_counter()
    engine = ONNXInferenceEngine(model, load_schema(None), provider="cuda",
                                 max_batch_size=max(args.sweep),
                                 max_input_tokens=args.max_input_tokens,
                                 max_output_tokens=args.max_output_tokens)
    load_s = time.perf_counter() - t
    prepared = engine.prepare(docs)
    prompt_mean = sum(len(p.ids) for p in prepared) / len(prepared)
    engine.generate([prepared[0].ids])  # warm-up
    points = []
    for size in args.sweep:
        engine.batch_size = engine.max_batch_size = size
        with NvmlSampler() as gpu:
            t = time.perf_counter()
            results = engine.analyze(docs)
            wall = time.perf_counter() - t
        done = sum(r.status.value == "done" for r in results)
        gen_tokens = sum(r.generated_tokens for r in results)
        prompt_tokens = sum(r.prompt_tokens for r in results)
        flops = sum(model_flops(len(p.ids), gen_tokens / len(prepared)) for p in prepared)
        point = {"batch": size, "files": len(docs), "wall_s": wall,
                 "files_per_s": len(docs) / wall, "generated_tokens_per_s": gen_tokens / wall,
                 "prompt_tokens_per_s": prompt_tokens / wall,
                 "generated_mean": gen_tokens / len(docs), "complete": done,
                 "mfu": flops / wall / peak_for(gpu.name), **gpu.summary()}
        points.append(point)
        print(f"  batch {size}: {point['files_per_s']:.1f} files/s, "
              f"{point['generated_tokens_per_s']:.0f} gen tok/s, util {point['gpu_util_mean']:.0%}, "
              f"MFU {point['mfu']:.1%}", flush=True)
        print("POINT " + json.dumps(point), flush=True)  # kept if a later point fails
    engine.close()
    best = max(points, key=lambda p: p["files_per_s"])
    rows = [("gpu", gpu.name), ("model", model.name), ("model load", f"{load_s:.1f}s"),
            ("files", len(docs)), ("prompt tokens (mean)", f"{prompt_mean:.0f}"),
            ("max tokens in/out", f"{args.max_input_tokens}/{args.max_output_tokens}")]
    rows += [(f"batch {p['batch']}", f"{p['files_per_s']:.1f} files/s, "
              f"{p['generated_tokens_per_s']:.0f} gen tok/s, {p['prompt_tokens_per_s']:.0f} prompt tok/s, "
              f"{p['generated_mean']:.0f} gen/file, util {p['gpu_util_mean']:.0%} (max "
              f"{p['gpu_util_max']:.0%}), mem {_fmt_mem(p)}, MFU {p['mfu']:.1%}") for p in points]
    report("gpu-sweep", rows, {"gpu": gpu.name, "model": model.name, "precision": args.precision,
                               "load_s": load_s, "prompt_mean": prompt_mean, "points": points,
                               "best_batch": best["batch"]})
    return best


def _scrape(port: int, series: dict, stop: threading.Event) -> None:
    want = re.compile(r"^(helios_gpu_\w+|helios_batch_size|helios_files_processed_total|"
                      r"helios_tokens_total|helios_queue_depth|helios_workers_alive)(\{[^}]*\})? (\S+)$")
    while not stop.wait(1.0):
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            continue
        now = time.time()
        for line in text.splitlines():
            m = want.match(line)
            if m:
                series.setdefault(m.group(1) + (m.group(2) or ""), []).append((now, float(m.group(3))))


def run_analyze(folder: Path, model: Path, db: Path, settings: list[str], events_path: Path):
    """``helios analyze`` with its events to a file, scraping /metrics once a second."""
    from bench.harness import helios_cmd

    events = open(events_path, "w")
    started = time.perf_counter()
    proc = subprocess.Popen(helios_cmd("analyze", str(folder), "--db", str(db), "--model",
                                       str(model), "--events", "jsonl", *settings),
                            stdout=events, stderr=subprocess.PIPE, text=True)
    series: dict = {}
    stop = threading.Event()
    scraper = None
    while proc.poll() is None:
        if scraper is None:
            for line in open(events_path):
                ev = json.loads(line)
                if ev.get("event") == "run_started":
                    scraper = threading.Thread(target=_scrape, args=(ev["metrics_port"], series, stop),
                                               daemon=True)
                    scraper.start()
                    break
        time.sleep(0.2)
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    events.close()
    evs = [json.loads(line) for line in open(events_path) if line.strip()]
    if proc.returncode != 0:
        raise SystemExit(f"helios analyze failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, evs, series, err


def stage_analyze(args, report, model: Path, work: Path, generate, batch: int) -> None:
    if args.kv_share:  # several workers share the GPU: each og.Engine takes this share
        share = args.kv_share
        model = variant(model, work, f"kv{share:g}", lambda cfg: cfg.setdefault(
            "engine", {}).setdefault("dynamic_batching", {}).update(gpu_utilization_factor=share))
    settings = ["--provider", "cuda", "--set", f"max_input_tokens={args.max_input_tokens}",
                "--set", f"max_output_tokens={args.max_output_tokens}",
                "--set", f"max_batch_size={batch}", "--workers", str(args.workers)]
    for size in args.corpus_sizes:
        folder = work / f"corpus-{size}"
        if not folder.exists():
            generate(folder, size, args.seed)
        db = work / f"run-{size}-w{args.workers}.db"
        for f in work.glob(f"run-{size}-w{args.workers}.db*"):
            f.unlink()
        with NvmlSampler() as gpu:
            wall, evs, series, _ = run_analyze(folder, model, db, settings,
                                               work / f"events-{size}.jsonl")
        fin = evs[-1]
        conn = sqlite3.connect(db)
        rows = conn.execute("SELECT prompt_tokens, generated_tokens FROM files "
                            "WHERE status IN ('done', 'failed')").fetchall()
        counts = dict(conn.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall())
        reasons = dict(conn.execute("SELECT coalesce(reason, '-'), count(*) FROM files "
                                    "GROUP BY reason").fetchall())
        total_rows = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        conn.close()
        analyzed = counts.get("done", 0) + counts.get("failed", 0)
        prompt = sum(p or 0 for p, _ in rows)
        generated = sum(g or 0 for _, g in rows)
        flops = sum(model_flops(p or 0, g or 0) for p, g in rows)
        mfu = flops / wall / peak_for(gpu.name)
        started = next(e for e in evs if e["event"] == "run_started")
        workers = [e for e in evs if e["event"] == "worker"]
        ready = next((e for e in workers if e.get("state") == "ready"), None)
        gpu_series = {k: v for k, v in series.items() if k.startswith("helios_gpu_")}
        util_vals = [v for k, vs in gpu_series.items() if "utilization" in k for _, v in vs]
        mem_vals = [v for k, vs in gpu_series.items() if "memory_used" in k for _, v in vs]
        s = gpu.summary()
        data = {"gpu": gpu.name, "model": model.name, "precision": args.precision, "files": size,
                "rows": total_rows, "counts": counts, "reasons": reasons, "analyzed": analyzed,
                "wall_s": wall, "files_per_s": analyzed / wall, "all_files_per_s": total_rows / wall,
                "generated_tokens": generated, "prompt_tokens": prompt,
                "generated_tokens_per_s": generated / wall, "prompt_tokens_per_s": prompt / wall,
                "mfu": mfu, "batch": batch, "workers": args.workers, "run_finished": fin,
                "provider": started.get("provider"),
                "worker_ready": ready, "metrics_gpu_series": {k: len(v) for k, v in gpu_series.items()},
                "metrics_gpu_util_mean": sum(util_vals) / len(util_vals) if util_vals else None,
                "metrics_gpu_mem_used_max": max(mem_vals, default=None), **s}
        (work / f"metrics-{size}.json").write_text(json.dumps(series))
        report("gpu-analyze", [
            ("gpu", gpu.name), ("model", f"{model.name} ({n_params() / 1e9:.2f}B params)"),
            ("files (rows)", f"{size} ({total_rows})"), ("ledger", counts), ("reasons", reasons),
            ("batch", batch), ("workers", args.workers),
            ("wall", f"{wall:.1f}s (process start, model load and scan included)"),
            ("files/s (analyzed)", f"{analyzed / wall:.1f}"),
            ("files/s (all rows)", f"{total_rows / wall:.1f}"),
            ("generated tokens/s", f"{generated / wall:.0f}"),
            ("prompt tokens/s", f"{prompt / wall:.0f}"),
            ("GPU utilisation (NVML, mean / max)", f"{s['gpu_util_mean']:.0%} / {s['gpu_util_max']:.0%}"),
            ("GPU memory (NVML, peak)", _fmt_mem(s)),
            ("Prometheus helios_gpu_* series", data["metrics_gpu_series"]),
            ("MFU", f"{mfu:.1%}")], data)


def variant(model: Path, work: Path, tag: str, change) -> Path:
    """A copy of a model folder (weights linked) whose genai_config.json ``change`` edits."""
    out = work / f"{model.name}-{tag}"
    out.mkdir(exist_ok=True)
    for f in model.iterdir():
        if f.name != "genai_config.json" and not (out / f.name).exists():
            (out / f.name).symlink_to(f)
    cfg = json.loads((model / "genai_config.json").read_text())
    change(cfg)
    (out / "genai_config.json").write_text(json.dumps(cfg, indent=2))
    return out


def stage_oom(args, report, model: Path, work: Path, generate) -> None:
    """A real out-of-memory on the GPU allocator, then the batch halving. Two ways:
    ``--oom-mem-limit GIB`` caps the CUDA arena (``gpu_mem_limit``) of a model run through
    og.Generator (static batches, no paged attention); ``--oom-kv-share X`` lets the paged
    KV cache of an og.Engine model take that share of the free memory, with steps that
    may schedule every prompt token at once."""
    tag = f"mem{args.oom_mem_limit:g}" if args.oom_mem_limit else f"kv{args.oom_kv_share:g}"

    def cap(cfg: dict) -> None:
        if args.oom_mem_limit:
            options = cfg["model"]["decoder"]["session_options"].setdefault("provider_options", [])
            cuda = next((o["cuda"] for o in options if "cuda" in o), None)
            if cuda is None:
                cuda = {}
                options.append({"cuda": cuda})
            cuda["gpu_mem_limit"] = str(int(args.oom_mem_limit * 2**30))
        else:
            batching = cfg.setdefault("engine", {}).setdefault("dynamic_batching", {})
            batching.pop("num_blocks", None)
            batching.update({"gpu_utilization_factor": args.oom_kv_share,
                             "max_scheduled_tokens": 256 * (args.max_input_tokens + 400)})

    oom_model = variant(model, work, f"oom-{tag}", cap)
    size = args.oom_files
    folder = work / f"corpus-{size}"
    if not folder.exists():
        generate(folder, size, args.seed)
    db = work / f"oom-{tag}.db"
    for f in work.glob(f"oom-{tag}.db*"):
        f.unlink()
    settings = ["--provider", "cuda", "--set", f"max_input_tokens={args.max_input_tokens}",
                "--set", f"max_output_tokens={args.max_output_tokens}",
                "--set", f"max_batch_size={args.oom_batch}"]
    with NvmlSampler() as gpu:
        wall, evs, _, err = run_analyze(folder, oom_model, db, settings, work / f"events-oom-{tag}.jsonl")
    resized = [e for e in evs if e["event"] == "batch_resized"]
    conn = sqlite3.connect(db)
    counts = dict(conn.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall())
    reasons = dict(conn.execute("SELECT coalesce(reason, '-'), count(*) FROM files "
                                "GROUP BY reason").fetchall())
    rows, distinct = conn.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
    conn.close()
    found = sum(len(f) for _, _, f in os.walk(folder))
    s = gpu.summary()
    report("gpu-oom", [("gpu", gpu.name), ("model", oom_model.name),
                       ("cap", f"gpu_mem_limit {args.oom_mem_limit} GiB" if args.oom_mem_limit
                        else f"KV cache share {args.oom_kv_share}"),
                       ("batch asked", args.oom_batch), ("batch_resized events", resized),
                       ("ledger", counts), ("reasons", reasons),
                       ("files found / rows / distinct", f"{found} / {rows} / {distinct}"),
                       ("GPU memory (NVML, peak)", _fmt_mem(s)), ("wall", f"{wall:.1f}s")],
           {"gpu": gpu.name, "model": oom_model.name, "kv_share": args.oom_kv_share,
            "mem_limit_gib": args.oom_mem_limit, "batch": args.oom_batch,
            "resized": resized, "counts": counts, "reasons": reasons, "found": found,
            "rows": rows, "distinct": distinct, "wall_s": wall, **s,
            "stderr_tail": err[-1500:]})


def run_gpu_benchmark(args, report, generate, run_helios) -> None:
    from bench.harness import load_docs

    import onnxruntime_genai as og

    work = Path(args.tmp or tempfile.mkdtemp(prefix="helios-gpu-"))
    work.mkdir(parents=True, exist_ok=True)
    cuda = og.is_cuda_available() and args.provider != "cpu"
    if args.diagnose and not cuda:
        # The diagnosis also runs on the CPU (any model folder, the tiny one by default):
        # every stage ends and prints its figures; the figures that matter need a GPU.
        from bench.diagnose import run_diagnose

        folder = work / f"corpus-{args.sweep_files}"
        if not folder.exists():
            generate(folder, args.sweep_files, args.seed)
        run_diagnose(args, report, Path(args.model_dir or args.model),
                     load_docs(folder, 10 * 1024 * 1024), "cpu")
        return
    if not cuda:
        raise SystemExit("this benchmark needs onnxruntime-genai-cuda and an NVIDIA GPU "
                         "(--diagnose alone also runs on the CPU)")
    model = ensure_model(args, work)
    if args.build_only:
        return
    batch = args.batch_size
    if args.sweep:
        folder = work / f"corpus-{args.sweep_files}"
        if not folder.exists():
            generate(folder, args.sweep_files, args.seed)
        docs = load_docs(folder, 10 * 1024 * 1024)
        best = stage_sweep(args, report, model, docs)
        batch = best["batch"]
    batch = args.analyze_batch or batch
    if args.diagnose:
        from bench.diagnose import run_diagnose

        folder = work / f"corpus-{args.sweep_files}"
        if not folder.exists():
            generate(folder, args.sweep_files, args.seed)
        args.batch_size = max(args.batch_size, batch)
        run_diagnose(args, report, model, load_docs(folder, 10 * 1024 * 1024), "cuda")
    if args.corpus_sizes:
        stage_analyze(args, report, model, work, generate, batch)
    if args.oom:
        stage_oom(args, report, model, work, generate)
