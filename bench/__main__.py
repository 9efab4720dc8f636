"""Helios benchmarks: each prints a table and a JSON line; figures, never pass/fail.

    python -m bench corpus FOLDER [--files N] [--seed S]
    python -m bench engine-vs-pipeline [--model DIR] [--files N] [--repeat R]
    python -m bench naive-baseline [--model DIR] [--files N] [--repeat R]
    python -m bench scan [--entries N] [--repeat R]
    python -m bench ledger [--results N] [--repeat R]
    python -m bench run-50k [--files N] [--model DIR]
    python -m bench pytorch-baseline [--pair default|smollm2] [--model DIR] [--checkpoint HF_DIR] [--files N]
    python -m bench prompt-size [--model DIR] [--fields summary,keywords]
    python -m bench gpu [--corpus-sizes 5000] [--precision fp16|int4] [--sweep 16 64 ...] [--oom]   (CUDA)
    python -m bench gpu --diagnose [--provider cpu] [--model-dir DIR] [--stage-seconds S]
    python -m bench batching --model DIR [--full-model DIR] [--files N] [--repeat R]
    python -m bench heartbeat-stall --model DIR [--tokens N]
    python -m bench chaos [--files N] [--worker-kills N] [--backend-kills M] [--stops S]
    python -m bench endpoints [--files N] [--concurrency C] [--sweep 1 2 4 8]   (bench/endpoints.py)
    python -m bench endpoint-clients [--requests N]
    python -m bench servers-probe [--repeat R] [--deadline S]   (bench/servers.py)
    python -m bench extract [--copies N] [--pdf-files N] [--pdf-pages P] [--repeat R]   (bench/extract.py)
    python -m bench make-samples [FOLDER]

Every timed figure is the median of ``--repeat`` runs, with the spread; ratios compare
figures measured in the same invocation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from bench.corpus import generate, make_tree
from bench.harness import (TINY, bare_engine, helios_cmd, load_docs, median, report, run_helios,
                           spread)

# -- benchmarks ---------------------------------------------------------------------------------

def cmd_corpus(args) -> None:
    started = time.perf_counter()
    info = generate(Path(args.folder), args.files, args.seed)
    seconds = time.perf_counter() - started
    report("corpus", [("files", info["files"]), ("bytes", info["bytes"]),
                      ("by folder", info["by_folder"]), ("seconds", f"{seconds:.1f}")],
           {**info, "seconds": seconds})


def _settings_args(args) -> list[str]:
    return ["--set", f"max_input_tokens={args.max_input_tokens}",
            "--set", f"max_output_tokens={args.max_output_tokens}",
            "--set", f"max_batch_size={args.batch_size}"]


def cmd_engine_vs_pipeline(args) -> None:
    model = Path(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        generate(folder, args.files, args.seed)
        docs = load_docs(folder, 10 * 1024 * 1024)
        bare, pipe, bare_tok, pipe_tok = [], [], [], []
        for r in range(args.repeat):
            seconds, tokens = bare_engine(model, docs, args)
            bare.append(len(docs) / seconds)
            bare_tok.append(tokens / seconds)
            wall, fin = run_helios(folder, model, Path(tmp) / f"p{r}.db", "--provider",
                                   args.provider, *_settings_args(args))
            analyzed = fin["counts"]["done"] + fin["counts"]["failed"]
            pipe.append(analyzed / wall)
            pipe_tok.append(pipe_tok_from(Path(tmp) / f"p{r}.db") / wall)
    ratio = median(pipe) / median(bare)
    report("engine-vs-pipeline", [
        ("model", model.name), ("files analyzed", len(docs)),
        ("bare engine files/s", spread(bare)), ("helios analyze files/s", spread(pipe)),
        ("bare engine tokens/s", spread(bare_tok)), ("helios tokens/s", spread(pipe_tok)),
        ("ratio pipeline/engine", f"{ratio:.3f}")],
        {"model": model.name, "files": len(docs), "bare_files_per_s": bare,
         "pipeline_files_per_s": pipe, "bare_tokens_per_s": bare_tok,
         "pipeline_tokens_per_s": pipe_tok, "ratio": ratio})


def pipe_tok_from(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT coalesce(sum(generated_tokens), 0) FROM files").fetchone()[0]
    finally:
        conn.close()


def _naive(model: Path, folder: Path, args, db: Path) -> tuple[float, int]:
    """How the closest peer tools work: one file at a time, read, prompt, generate,
    parse, write and commit."""
    import numpy as np
    import onnxruntime_genai as og

    from helios_desktop.analysis.prompts import completion_prompt
    from helios_desktop.extract.read import read_file  # as the worker reads: documents too
    from helios_desktop.scan.reader import Skip
    from helios_desktop.records import FileTask
    from helios_desktop.analysis.schema import load_schema

    schema = load_schema(None)
    started = time.perf_counter()
    m = og.Model(str(model))
    tok = og.Tokenizer(m)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE results (path TEXT, result TEXT)")
    n = 0
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            st = os.stat(path)
            try:
                doc = read_file(FileTask(os.fsencode(path), st.st_size, st.st_mtime_ns),
                                    10 * 1024 * 1024)
            except Skip:
                continue
            ids = tok.encode(completion_prompt(doc, doc.text[: args.max_input_tokens * 4], schema))
            params = og.GeneratorParams(m)
            params.set_search_options(max_length=len(ids) + args.max_output_tokens, do_sample=False)
            params.set_guidance("json_schema", schema.guidance_json())
            gen = og.Generator(m, params)
            gen.append_tokens(np.asarray([ids], dtype=np.int32))
            out = []
            try:
                while not gen.is_done():
                    gen.generate_next_token()
                    out.append(int(gen.get_next_tokens()[0]))
            except RuntimeError:
                pass
            text = tok.decode(np.asarray(out, dtype=np.int32))
            try:
                json.loads(text)
            except ValueError:
                pass
            conn.execute("INSERT INTO results VALUES (?, ?)", (path, text))
            conn.commit()
            n += 1
    conn.close()
    return time.perf_counter() - started, n


def cmd_naive_baseline(args) -> None:
    model = Path(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        generate(folder, args.files, args.seed)
        naive, helios = [], []
        for r in range(args.repeat):
            seconds, n = _naive(model, folder, args, Path(tmp) / f"n{r}.db")
            naive.append(n / seconds)
            wall, fin = run_helios(folder, model, Path(tmp) / f"h{r}.db", *_settings_args(args))
            helios.append((fin["counts"]["done"] + fin["counts"]["failed"]) / wall)
    speedup = median(helios) / median(naive)
    report("naive-baseline", [("model", model.name), ("naive files/s", spread(naive)),
                              ("helios files/s", spread(helios)), ("speed-up", f"{speedup:.2f}x")],
           {"model": model.name, "naive_files_per_s": naive, "helios_files_per_s": helios,
            "speedup": speedup})


def cmd_scan(args) -> None:
    from helios_desktop.scan.scanner import AsyncFileScanner

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        root = Path(args.tree) if args.tree else Path(tmp) / "tree"
        marker = root / f".entries-{args.entries}"
        started = time.perf_counter()
        if not marker.exists():
            made = make_tree(root, args.entries)
            if args.tree:
                marker.touch()
        made = args.entries
        build = time.perf_counter() - started
        finds, scans = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = subprocess.run(["find", str(root), "-type", "f"], capture_output=True, check=True)
            finds.append(made / (time.perf_counter() - t))
            assert out.stdout.count(b"\n") == made + (1 if args.tree else 0)

            async def walk() -> int:
                scanner = AsyncFileScanner(str(root), include=["**"], exclude=[],
                                           max_file_size=1 << 30, stat_files=args.stat)
                n = 0
                async for chunk in scanner.chunks():  # as the supervisor consumes it
                    n += len(chunk)
                return n

            t = time.perf_counter()
            n = asyncio.run(walk())
            scans.append(made / (time.perf_counter() - t))
            assert n == made + (1 if args.tree else 0)
    ratio = median(finds) / median(scans)
    report("scan", [("entries", made), ("tree built in", f"{build:.1f}s"),
                    ("find files/s", spread(finds)), ("helios scanner files/s", spread(scans)),
                    ("find / helios", f"{ratio:.2f}x")],
           {"entries": made, "find_files_per_s": finds, "scanner_files_per_s": scans,
            "find_over_helios": ratio})


def cmd_ledger(args) -> None:
    from helios_desktop.store.ledger import Ledger
    from helios_desktop.records import AnalysisResult, FileTask, ScanChunk, Status

    rates = []
    data = {"summary": "A quarterly report on revenue and costs in the north region.",
            "category": "report", "language": "English",
            "keywords": ["revenue", "costs", "north"], "contains_personal_data": False}
    for r in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ledger = Ledger(Path(tmp) / "l.db")
            run = ledger.start_run(b"/bench", "m", "cpu", {})
            tasks = [FileTask(f"/bench/dir{i % 100}/file{i}.txt".encode(), 4096, i)
                     for i in range(args.results)]
            for i in range(0, len(tasks), 512):
                ledger.add_discovered(run, ScanChunk(tasks=tasks[i:i + 512]))
            leases = []
            while True:
                got = ledger.lease(run, 1024)
                if not got:
                    break
                leases += got
            started = time.perf_counter()
            for i in range(0, len(leases), args.batch):
                ledger.record([(l.file_id, AnalysisResult(l.path, Status.DONE, data=data,
                                                          raw_output=json.dumps(data),
                                                          prompt_tokens=400, generated_tokens=60,
                                                          inference_seconds=0.01,
                                                          decided_by={"category": "model"}))
                               for l in leases[i:i + args.batch]])
            rates.append(len(leases) / (time.perf_counter() - started))
            ledger.close()
    report("ledger", [("results", args.results), ("batch", args.batch),
                      ("results/s", spread(rates))],
           {"results": args.results, "batch": args.batch, "results_per_s": rates})


def cmd_run_50k(args) -> None:
    import psutil

    model = Path(args.model)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        t = time.perf_counter()
        if args.corpus:  # reuse a corpus written earlier by `bench corpus`
            folder = Path(args.corpus)
            info = {"files": sum(len(f) for _, _, f in os.walk(folder))}
        else:
            folder = Path(tmp) / "corpus"
            info = generate(folder, args.files, args.seed)
        gen_seconds = time.perf_counter() - t
        db = Path(tmp) / "run.db"
        started = time.perf_counter()
        # Events go to a file: a pipe nobody reads would fill and block the backend.
        events = open(Path(tmp) / "events.jsonl", "w")
        proc = subprocess.Popen(helios_cmd("analyze", str(folder), "--db", str(db), "--model",
                                           str(model), "--events", "jsonl", *_settings_args(args)),
                                stdout=events, stderr=subprocess.PIPE, text=True)
        peak_sup, peak_workers = 0, 0
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak_sup = max(peak_sup, ps.memory_info().rss)
                peak_workers = max(peak_workers, sum(c.memory_info().rss for c in ps.children()))
            except psutil.Error:
                pass
            time.sleep(0.2)
        _, err = proc.communicate()
        events.close()
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(err[-2000:])
        conn = sqlite3.connect(db)
        counts = dict(conn.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall())
        rows = conn.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
        conn.close()
        size = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob("run.db-*"))
    lost = info["files"] - rows[0]
    report("run-50k", [("files", info["files"]), ("corpus written in", f"{gen_seconds:.0f}s"),
                       ("wall", f"{wall:.1f}s"), ("files/s", f"{info['files'] / wall:.1f}"),
                       ("ledger counts", counts), ("rows, distinct paths", rows),
                       ("files lost", lost),
                       ("peak RSS supervisor", f"{peak_sup / 2**20:.0f} MiB"),
                       ("peak RSS workers", f"{peak_workers / 2**20:.0f} MiB"),
                       ("database size", f"{size / 2**20:.1f} MiB")],
           {"files": info["files"], "wall_s": wall, "files_per_s": info["files"] / wall,
            "counts": counts, "lost": lost, "peak_rss_supervisor": peak_sup,
            "peak_rss_workers": peak_workers, "db_bytes": size})


def cmd_chaos(args) -> None:
    from bench.chaos import Chaos

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        folder, db = Path(tmp) / "corpus", Path(tmp) / "chaos.db"
        generate(folder, args.files, args.seed)
        chaos = Chaos(folder, db, Path(args.model), worker_kills=args.worker_kills,
                      backend_kills=args.backend_kills, stops=args.stops, workers=args.workers,
                      seed=args.seed, heartbeat_timeout=args.heartbeat_timeout,
                      extra=_settings_args(args))
        started = time.perf_counter()
        chaos.run()
        wall = time.perf_counter() - started
        problems, data = chaos.check()
    counts = dict(sorted(chaos.counts.items()))
    worker_kills = sum(v for k, v in counts.items() if k.startswith("worker kills"))
    rows = [("files", data["files"]), ("wall time", f"{wall:.1f} s"),
            ("worker kills", worker_kills),
            *[(f"  {k[len('worker kills '):]}", v) for k, v in counts.items()
              if k.startswith("worker kills")],
            *[(k, v) for k, v in counts.items() if not k.startswith("worker kills")],
            ("runs in the ledger", data["runs"]),
            ("last run", ", ".join(f"{k} {v}" for k, v in sorted(data["statuses"].items()))),
            ("reasons", ", ".join(f"{k} {v}" for k, v in sorted(data["reasons"].items())) or "-"),
            ("lost / duplicated", f"{data['lost']} / {data['duplicated']}"),
            ("integrity_check", data["integrity"]),
            ("processes left", data["processes_left"]),
            ("checks", "ok" if not problems else "FAILED: " + "; ".join(problems))]
    report("chaos", rows, {**data, "wall_s": wall, "worker_kills": worker_kills,
                           "events": counts, "problems": problems})
    if problems:
        raise SystemExit(1)


def cmd_batching(args) -> None:
    """files/s of the batch designs on resources/samples: static batches of 1 and of
    --batch-size through og.Generator (--model), continuous og.Engine (--full-model, a
    build without prune_lm_head, which the CPU Engine needs)."""
    from collections import Counter

    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.onnx import ONNXInferenceEngine

    samples = Path(__file__).resolve().parent.parent / "resources" / "samples"
    docs = load_docs(samples, 10 * 1024 * 1024)[: args.files]
    for d in docs:
        d.root = os.fsencode(samples)
    designs = [("static, batch 1", args.model, "static", 1),
               (f"static, batch {args.batch_size}", args.model, "static", args.batch_size)]
    if args.full_model:
        designs.append((f"og.Engine, {args.batch_size} in flight", args.full_model, "continuous",
                        args.batch_size))
    rows, data = [("files", len(docs))], {"files": len(docs), "designs": {}}
    for name, model, batching, size in designs:
        engine = ONNXInferenceEngine(model, load_schema(None), provider=args.provider,
                                     batching=batching, max_batch_size=size,
                                     max_input_tokens=args.max_input_tokens,
                                     max_output_tokens=args.max_output_tokens)
        rates, outcome = [], Counter()
        for _ in range(args.repeat):
            started = time.perf_counter()
            results = engine.analyze(docs)
            rates.append(len(docs) / (time.perf_counter() - started))
            outcome = Counter(r.reason.value if r.reason else r.status.value for r in results)
        engine.close()
        rows.append((name, f"files/s {spread(rates)}; outcomes {dict(outcome)}"))
        data["designs"][name] = {"files_per_second": median(rates), "runs": rates,
                                 "outcomes": dict(outcome), "model": str(model)}
    report("batching", rows, data)


def cmd_heartbeat_stall(args) -> None:
    """How long a thread ticking every 50 ms (the worker's heartbeat) is held up while
    onnxruntime-genai loads a model and prefills one prompt of --tokens tokens."""
    import threading

    import numpy as np
    import onnxruntime_genai as og

    gaps: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not stop.wait(0.05):
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    threading.Thread(target=tick, daemon=True).start()
    started = time.perf_counter()
    model = og.Model(args.model)
    load, load_gap = time.perf_counter() - started, max(gaps, default=0.0)
    gaps.clear()
    tokenizer = og.Tokenizer(model)
    ids = np.array(tokenizer.encode("word " * args.tokens)[: args.tokens], dtype=np.int32)[None, :]
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=ids.shape[1] + 8, batch_size=1)
    generator = og.Generator(model, params)
    started = time.perf_counter()
    generator.append_tokens(ids)
    prefill = time.perf_counter() - started
    stop.set()
    prefill_gap = max(gaps, default=0.0)
    report("heartbeat-stall", [("model load", f"{load:.2f} s, longest tick gap {load_gap:.2f} s"),
                               (f"append_tokens({ids.shape[1]})",
                                f"{prefill:.2f} s, longest tick gap {prefill_gap:.2f} s")],
           {"load_seconds": load, "load_gap": load_gap, "tokens": int(ids.shape[1]),
            "prefill_seconds": prefill, "prefill_gap": prefill_gap})


def cmd_prompt_size(args) -> None:
    from bench.prompt_size import run

    run(args, report)


def cmd_gpu(args) -> None:
    from bench.gpu import run_gpu_benchmark

    run_gpu_benchmark(args, report, generate, run_helios)


def cmd_pytorch_baseline(args) -> None:
    from bench.pytorch_baseline import run

    run(args, report, generate, median, spread)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    def common(p, files, repeat=3):
        p.add_argument("--files", type=int, default=files)
        p.add_argument("--repeat", type=int, default=repeat)
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--model", default=str(TINY))
        p.add_argument("--provider", default="cpu")
        p.add_argument("--batch-size", type=int, default=8)
        p.add_argument("--max-input-tokens", type=int, default=512)
        p.add_argument("--max-output-tokens", type=int, default=160)
        p.add_argument("--tmp", default=None, help="folder for temporary corpora")

    p = sub.add_parser("corpus")
    p.add_argument("folder")
    p.add_argument("--files", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_corpus)
    p = sub.add_parser("engine-vs-pipeline")
    common(p, 2000)
    p.set_defaults(func=cmd_engine_vs_pipeline)
    p = sub.add_parser("naive-baseline")
    common(p, 500)
    p.set_defaults(func=cmd_naive_baseline)
    p = sub.add_parser("scan")
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--tree", help="keep the tree in this folder and reuse it next time")
    p.add_argument("--stat", action="store_true",
                   help="stat every file (as a re-scan of a folder with results does)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--tmp", default=None)
    p.set_defaults(func=cmd_scan)
    p = sub.add_parser("ledger")
    p.add_argument("--results", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    p.set_defaults(func=cmd_ledger)
    p = sub.add_parser("run-50k")
    common(p, 50_000, repeat=1)
    p.add_argument("--corpus", help="an existing corpus folder (from `bench corpus`)")
    p.set_defaults(func=cmd_run_50k)
    p = sub.add_parser("chaos", help="kills and stops during a run, then checks the ledger")
    common(p, 3000, repeat=1)
    p.add_argument("--worker-kills", type=int, default=50)
    p.add_argument("--backend-kills", type=int, default=20)
    p.add_argument("--stops", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--heartbeat-timeout", type=float, default=3.0)
    p.set_defaults(func=cmd_chaos)
    p = sub.add_parser("pytorch-baseline", help="ONNX Runtime against transformers generate")
    common(p, 30)
    p.add_argument("--pair", choices=["default", "smollm2"], default="default",
                   help="the model pair: default (Gemma 3 270M int4 / its checkpoint) or smollm2 "
                        "(SmolLM2-135M-Instruct int4 / its checkpoint); each checkpoint is made "
                        "once from the GGUF the ONNX build comes from")
    p.add_argument("--checkpoint", help="the model's transformers checkpoint (default: the "
                   "pair's, made once from its GGUF)")
    p.set_defaults(func=cmd_pytorch_baseline,
                   model=None)
    p = sub.add_parser("batching", help="files/s of static batch 1, static batch N, og.Engine")
    common(p, 33, repeat=3)
    p.add_argument("--full-model", default=None, help="the same model built without prune_lm_head")
    p.set_defaults(func=cmd_batching)
    p = sub.add_parser("heartbeat-stall", help="how long native calls hold the GIL")
    p.add_argument("--model", required=True)
    p.add_argument("--tokens", type=int, default=4000)
    p.set_defaults(func=cmd_heartbeat_stall)
    p = sub.add_parser("prompt-size", help="tokens of the prompt that are the same for every file")
    p.add_argument("--model", default=str(TINY), help="a model folder (its tokenizer)")
    p.add_argument("--folder", default=str(Path(__file__).resolve().parent.parent / "resources" / "samples"))
    p.add_argument("--fields", default="summary,keywords",
                   help="the fields a model may decide, for the second row")
    p.set_defaults(func=cmd_prompt_size)
    p = sub.add_parser("gpu")
    common(p, 5000, repeat=1)
    p.add_argument("--corpus-sizes", type=int, nargs="*", default=[5000],
                   help="helios analyze of corpora of these sizes (none: skip)")
    p.add_argument("--precision", choices=["fp16", "int4"], default="fp16")
    p.add_argument("--model-dir", default=None, help="reuse a built 3B-shaped model")
    p.add_argument("--build-only", action="store_true")
    p.add_argument("--sweep", type=int, nargs="*", default=[16, 64, 128, 256],
                   help="batch sizes for the engine alone (none: skip)")
    p.add_argument("--sweep-files", type=int, default=1024)
    p.add_argument("--analyze-batch", type=int, default=None,
                   help="max_batch_size for helios analyze (default: the sweep's best, "
                        "else --batch-size)")
    p.add_argument("--workers", type=int, default=1, help="worker processes for helios analyze")
    p.add_argument("--kv-share", type=float, default=None,
                   help="og.Engine KV cache share of free GPU memory, per worker (default: the model's)")
    p.add_argument("--diagnose", action="store_true",
                   help="where the time goes: preparation, guided/unguided generation, prefill, "
                        "native calls vs Python (also on the CPU: --provider cpu, any --model-dir)")
    p.add_argument("--stage-seconds", type=float, default=120.0,
                   help="each --diagnose stage stops feeding prompts after this long")
    p.add_argument("--oom", action="store_true", help="also force a real out-of-memory")
    p.add_argument("--oom-kv-share", type=float, default=0.8)
    p.add_argument("--oom-mem-limit", type=float, default=None,
                   help="cap the CUDA arena at this many GiB (for a --static model)")
    p.add_argument("--static", action="store_true",
                   help="build without paged attention (og.Generator static batches)")
    p.add_argument("--oom-batch", type=int, default=256)
    p.add_argument("--oom-files", type=int, default=1000)
    p.set_defaults(func=cmd_gpu, provider="cuda", batch_size=256, max_output_tokens=160)
    from bench import endpoints, extract, servers
    endpoints.add_parsers(sub)
    servers.add_parsers(sub)
    extract.add_parsers(sub)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
