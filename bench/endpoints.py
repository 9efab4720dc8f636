"""Benchmarks of the OpenAI-compatible engine (``engine: openai``).

    python -m bench endpoints [--files N] [--repeat R] [--concurrency C] [--sweep 1 2 4 8]
    python -m bench endpoint-clients [--requests N] [--concurrency C]

``endpoints`` starts llama-cpp-python's server (``make server`` installs it) with the
SmolLM2-135M-Instruct GGUF on 127.0.0.1 and measures, in the same run:
(a) a bare client: aiohttp keeping C requests in flight with the very request bodies Helios
sends (the same prompts, the texts cut by the server's tokenizer as Helios cuts them, the
relative file names), nothing else; (b) ``helios analyze FOLDER --endpoint URL`` end to end
(process start, scan, ledger, worker, token counts, validation, events). It reports files/s
and b/a. ``--sweep`` measures both, one run each, at several values of max_concurrency
(what picks the default).

``endpoint-clients`` compares the two async HTTP clients Helios could use, httpx and
aiohttp, on requests/s against a local server that answers at once (client cost only).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness as helpers

REPO = Path(__file__).resolve().parent.parent
GGUF = REPO / "models" / "smollm2-gguf" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_llama_server(threads: int) -> tuple[subprocess.Popen, str]:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        raise SystemExit("llama-cpp-python[server] is not installed: run make server") from None
    if not GGUF.exists():
        raise SystemExit(f"{GGUF} is missing: run make server")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF),
                             "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
                             "--n_ctx", "2048", "--n_threads", str(threads), "--verbose", "False"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 120
    while time.monotonic() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the llama server did not start")


async def _bare(url: str, bodies: list[dict], concurrency: int) -> tuple[float, int]:
    """Keep ``concurrency`` requests in flight until every body is answered."""
    import aiohttp

    queue = list(reversed(bodies))
    tokens = 0

    async def loop(session) -> None:
        nonlocal tokens
        while queue:
            body = queue.pop()
            async with session.post(f"{url}/chat/completions", json=body) as resp:
                data = await resp.json(content_type=None)
                tokens += data.get("usage", {}).get("completion_tokens", 0)

    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*[loop(session) for _ in range(concurrency)])
        return time.perf_counter() - started, tokens


def _helios(folder: Path, db: Path, url: str, concurrency: int, args) -> float:
    """``helios analyze`` end to end: files analyzed (done or failed) per second of wall time."""
    started = time.perf_counter()
    result = subprocess.run(
        helpers.helios_cmd("analyze", str(folder), "--db", str(db), "--endpoint", url,
                           "--api-model", "smollm2", "--events", "jsonl",
                           "--set", f"max_concurrency={concurrency}",
                           "--set", f"max_input_tokens={args.max_input_tokens}",
                           "--set", f"max_output_tokens={args.max_output_tokens}",
                           "--set", "request_timeout=1800"),
        capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"helios analyze failed:\n{result.stderr[-2000:]}")
    fin = json.loads(result.stdout.strip().splitlines()[-1])
    return (fin["counts"]["done"] + fin["counts"]["failed"]) / wall


def cmd_endpoints(args) -> None:
    from bench.corpus import generate
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.openai import EndpointsSpec, OpenAIEngine

    median, spread, report = helpers.median, helpers.spread, helpers.report
    server, url = start_llama_server(args.threads)
    try:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            folder = (Path(tmp) / "corpus").resolve()
            generate(folder, args.files, args.seed)
            docs = helpers.load_docs(folder, 10 * 1024 * 1024)
            for doc in docs:  # as the worker does: the prompt names the file relative to it
                doc.root = os.fsencode(folder)
            spec = EndpointsSpec(urls=(url,), api_model="smollm2", max_concurrency=args.concurrency)
            engine = OpenAIEngine(spec, load_schema(None), max_input_tokens=args.max_input_tokens,
                                  max_output_tokens=args.max_output_tokens, check=False)
            bodies = engine.request_bodies(docs, "json_object")  # llama.cpp's dialect
            engine.close()
            asyncio.run(_bare(url, bodies[:2], 1))  # warm up the server
            sweep = {}
            for i, c in enumerate(args.sweep or []):
                seconds, _ = asyncio.run(_bare(url, bodies, c))
                sweep[c] = (len(bodies) / seconds,
                            _helios(folder, Path(tmp) / f"s{i}.db", url, c, args))
                print(f"  sweep {c}: bare {sweep[c][0]:.3f} files/s, helios {sweep[c][1]:.3f}",
                      flush=True)
            bare, pipe, bare_tok = [], [], []
            for r in range(args.repeat):
                seconds, tokens = asyncio.run(_bare(url, bodies, args.concurrency))
                bare.append(len(bodies) / seconds)
                bare_tok.append(tokens / seconds)
                pipe.append(_helios(folder, Path(tmp) / f"p{r}.db", url, args.concurrency, args))
                print(f"  run {r + 1}: bare {bare[-1]:.3f} files/s, helios {pipe[-1]:.3f}",
                      flush=True)
    finally:
        server.kill()
        server.wait()
    ratio = median(pipe) / median(bare) if bare else float("nan")
    rows = [("server", f"llama-cpp-python 0.3.36, SmolLM2-135M-Instruct Q4_1, {args.threads} threads"),
            ("files analyzed", len(bodies)), ("max_concurrency", args.concurrency),
            ("max_input_tokens / max_output_tokens", f"{args.max_input_tokens} / "
                                                     f"{args.max_output_tokens}")]
    if bare:
        rows += [("bare client files/s", spread(bare)), ("bare client tokens/s", spread(bare_tok)),
                 ("helios analyze files/s", spread(pipe)), ("ratio helios/bare", f"{ratio:.3f}")]
    rows += [(f"max_concurrency {c}: bare / helios files/s", f"{b:.3f} / {h:.3f} ({h / b:.2f})")
             for c, (b, h) in sweep.items()]
    report("endpoints", rows, {"files": len(bodies), "concurrency": args.concurrency,
                               "bare_files_per_s": bare, "pipeline_files_per_s": pipe,
                               "bare_tokens_per_s": bare_tok, "ratio": ratio,
                               "sweep": {str(k): {"bare": b, "helios": h}
                                         for k, (b, h) in sweep.items()}})


async def _clients(n: int, concurrency: int, repeat: int) -> dict[str, list[float]]:
    import aiohttp
    import httpx
    from aiohttp import web

    body = json.dumps({"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 10, "completion_tokens": 5}}).encode()

    async def handle(request):
        await request.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1/chat/completions"
    payload = {"model": "m", "messages": [{"role": "user", "content": "x" * 2000}]}

    async def timed(send) -> float:
        left = [n]

        async def loop() -> None:
            while left[0] > 0:
                left[0] -= 1
                await send()

        started = time.perf_counter()
        await asyncio.gather(*[loop() for _ in range(concurrency)])
        return n / (time.perf_counter() - started)

    out: dict[str, list[float]] = {"aiohttp": [], "httpx": []}
    async with aiohttp.ClientSession() as session, httpx.AsyncClient() as client:
        async def via_aiohttp() -> None:
            async with session.post(url, json=payload) as resp:
                await resp.json()

        async def via_httpx() -> None:
            (await client.post(url, json=payload)).json()

        for _ in range(repeat):
            out["aiohttp"].append(await timed(via_aiohttp))
            out["httpx"].append(await timed(via_httpx))
    await runner.cleanup()
    return out


def cmd_endpoint_clients(args) -> None:
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise SystemExit("pip install httpx to compare it") from None
    out = asyncio.run(_clients(args.requests, args.concurrency, args.repeat))
    ratio = helpers.median(out["aiohttp"]) / helpers.median(out["httpx"])
    helpers.report("endpoint-clients", [
        ("requests", args.requests), ("in flight", args.concurrency),
        ("aiohttp requests/s", helpers.spread(out["aiohttp"])),
        ("httpx requests/s", helpers.spread(out["httpx"])),
        ("aiohttp/httpx", f"{ratio:.2f}")], {**out, "ratio": ratio})


def add_parsers(sub) -> None:
    p = sub.add_parser("endpoints")
    p.add_argument("--files", type=int, default=120)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--sweep", type=int, nargs="*", default=[])
    p.add_argument("--threads", type=int, default=2, help="llama server threads")
    p.add_argument("--max-input-tokens", type=int, default=512)
    p.add_argument("--max-output-tokens", type=int, default=160)
    p.add_argument("--tmp", default=None)
    p.set_defaults(func=cmd_endpoints)
    p = sub.add_parser("endpoint-clients")
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--repeat", type=int, default=3)
    p.set_defaults(func=cmd_endpoint_clients)
