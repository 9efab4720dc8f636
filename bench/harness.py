"""What every benchmark shares: the machine's name, the report format, running helios,
reading a corpus, and the bare engine that the pipeline is compared against."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "models" / "tiny-llama"


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()} {model} x{cpus}, Python {platform.python_version()}"


def report(name: str, rows: list[tuple[str, object]], data: dict) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n== {name} ({machine()}, {time.strftime('%Y-%m-%d %H:%M')})")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    print("JSON " + json.dumps({"benchmark": name, "machine": machine(),
                                "date": time.strftime("%Y-%m-%d"), **data}))


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"median {median(values):.3f} (min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"


def helios_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "helios_desktop", *args]


def run_helios(folder: Path, model: Path, db: Path, *extra: str) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run(helios_cmd("analyze", str(folder), "--db", str(db), "--model",
                                       str(model), "--events", "jsonl", *extra),
                            capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"helios analyze failed ({result.returncode}):\n{result.stderr[-2000:]}")
    finished = json.loads(result.stdout.strip().splitlines()[-1])
    return wall, finished


def load_docs(folder: Path, max_file_size: int):
    from helios_desktop.extract.read import read_file  # as the worker reads: documents too
    from helios_desktop.scan.reader import Skip
    from helios_desktop.records import FileTask

    docs = []
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            st = os.stat(path)
            try:
                docs.append(read_file(FileTask(os.fsencode(path), st.st_size, st.st_mtime_ns),
                                          max_file_size))
            except Skip:
                pass
    return docs


def bare_engine(model: Path, docs, args) -> tuple[float, int]:
    """The engine alone, in this process: model load, tokenization, guided generation."""
    from helios_desktop.engines.onnx import ONNXInferenceEngine
    from helios_desktop.analysis.schema import load_schema

    started = time.perf_counter()
    engine = ONNXInferenceEngine(model, load_schema(None), provider=args.provider,
                                 max_batch_size=args.batch_size,
                                 max_input_tokens=args.max_input_tokens,
                                 max_output_tokens=args.max_output_tokens)
    tokens = 0
    for i in range(0, len(docs), args.batch_size * 2):
        for r in engine.analyze(docs[i:i + args.batch_size * 2]):
            tokens += r.generated_tokens
    return time.perf_counter() - started, tokens
