"""Where an engine's time goes: ``python -m bench gpu --diagnose``, on CUDA or the CPU.

Every stage is bounded in time (``--stage-seconds``): it feeds prompts a chunk at a time
and stops at the deadline, reporting how many files it did, so the diagnosis always
ends, whatever the model and machine. Stages, on the same prompts:

- prepare: cut to max_input_tokens, chat template, encode (CPU work per file);
- guided, Helios path: ``ONNXInferenceEngine.generate`` as a worker runs it, with the
  time inside the runtime's native calls (og.Engine ``run``, og.Generator steps) apart
  from the Python around them (submitting, decoding, bookkeeping);
- guided, bare loop (og.Engine only): the same requests with nothing of Helios around;
- unguided, same tokens: no grammar, forced to the guided stage's mean output length;
- prefill only: one new token per prompt.

GPU utilisation comes from NVML where there is a GPU ("n/a" otherwise). The CPU run
with the tiny model checks that every stage ends and prints its figures; the figures
that matter come from a GPU (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np


class _NoGpu:
    """Stands where NVML has no GPU to sample: the stage says "n/a"."""

    name = "no GPU"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def summary(self) -> dict:
        return {"gpu_util_mean": None, "gpu_util_max": None, "nvml_samples": 0}


def sampler():
    """An NVML sampler of GPU 0, or ``_NoGpu`` where NVML finds none."""
    from bench.gpu import NvmlSampler

    try:
        return NvmlSampler()
    except Exception:
        return _NoGpu()


def _chunks(items: list, size: int):
    for i in range(0, len(items), max(1, size)):
        yield items[i:i + size]


def _bounded(items: list, size: int, seconds: float, work) -> tuple[int, float, bool]:
    """``work(chunk)`` on chunks until the items end or ``seconds`` pass: (items done,
    wall seconds, whether the deadline cut the stage short)."""
    done, start = 0, time.perf_counter()
    for chunk in _chunks(items, size):
        if time.perf_counter() - start > seconds:
            return done, time.perf_counter() - start, True
        work(chunk)
        done += len(chunk)
    return done, time.perf_counter() - start, False


def _native(engine) -> tuple[float, float]:
    """(seconds in the runtime's native calls, seconds in Python around them) so far."""
    owner = engine.scheduler or engine
    return owner.run_seconds, owner.loop_seconds


def _raw_og_engine(engine, batch, max_tokens: int, *, min_tokens: int = 0,
                   guided: bool = True) -> tuple[int, float]:
    """og.Engine fed one chunk, as bare as it gets: (generated tokens, seconds in run())."""
    og = engine._og
    eng = engine.scheduler.engine
    live = []
    for ids in batch:
        request = eng.create_request()
        options = og.TurnOptions(request)
        options.set_do_sample(False)
        if guided:
            options.set_guidance(*engine.request_guidance("file"))
        options.set_max_generated_tokens(max_tokens)
        if min_tokens:
            options.set_min_generated_tokens(min_tokens)
        request.begin_turn(ids, options)
        live.append((request, options))
    buffer = eng.create_event_buffer(4 * len(batch))
    tokens, native = 0, 0.0
    while eng.has_pending_requests():
        step = time.perf_counter()
        events = eng.run(buffer)
        native += time.perf_counter() - step
        for event in events:
            if int(event.flags) & int(og.EngineEventFlags.TOKEN) and event.token is not None:
                tokens += 1
    for request, _ in live:
        request.close()
    return tokens, native


def _raw_generator(engine, batch, tokens: int) -> tuple[int, float]:
    """og.Generator, one static batch, no grammar, exactly ``tokens`` new tokens per row:
    (generated tokens, seconds in native calls)."""
    og = engine._og
    width = max(len(ids) for ids in batch)
    padded = np.full((len(batch), width), engine.pad_id, dtype=np.int32)
    for row, ids in enumerate(batch):
        padded[row, :len(ids)] = ids
    length = max(width + tokens, engine.min_max_length)
    params = og.GeneratorParams(engine.model)
    params.set_search_options(max_length=length, min_length=width + tokens,
                              batch_size=len(batch), do_sample=False)
    start = time.perf_counter()
    generator = og.Generator(engine.model, params)
    generator.append_tokens(padded)
    steps = 0
    while steps < tokens and not generator.is_done():
        generator.generate_next_token()
        steps += 1
    del generator
    return steps * len(batch), time.perf_counter() - start


def run_diagnose(args, report, model: Path, docs, provider: str) -> dict:
    """All stages on ``docs`` with ``model`` on ``provider``; returns the figures."""
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.onnx import ONNXInferenceEngine

    seconds = float(args.stage_seconds)
    t = time.perf_counter()
    engine = ONNXInferenceEngine(model, load_schema(None), provider=provider,
                                 max_batch_size=args.batch_size,
                                 max_input_tokens=args.max_input_tokens,
                                 max_output_tokens=args.max_output_tokens)
    load_s = time.perf_counter() - t
    chunk = engine.scheduler.cap if engine.scheduler and engine.scheduler.cap else args.batch_size
    chunk = min(chunk, args.batch_size)
    out: dict = {"model": model.name, "provider": provider, "files": len(docs),
                 "stage_seconds": seconds, "load_s": load_s,
                 "batching": "og.Engine" if engine.scheduler else "og.Generator (static)",
                 "chunk": chunk}
    rows = [("model", f"{model.name} on {provider}, {out['batching']}, {chunk} at a time"),
            ("model load", f"{load_s:.1f}s")]

    prepared: list = []
    done, wall, cut = _bounded(docs, 64, seconds, lambda c: prepared.extend(engine.prepare(c)))
    ids = [p.ids for p in prepared]
    out["prepare"] = {"files": done, "wall_s": wall, "files_per_s": done / wall if wall else 0.0,
                      "cut_short": cut, "prompt_mean": sum(map(len, ids)) / max(1, len(ids))}
    rows.append(("prepare (cut, template, encode)",
                 f"{done} files in {wall:.1f}s = {out['prepare']['files_per_s']:.0f} files/s, "
                 f"{out['prepare']['prompt_mean']:.0f} prompt tokens/file" + (" (deadline)" if cut else "")))
    if not ids:
        engine.close()
        report("gpu-diagnose", rows, out)
        return out
    engine.generate([ids[0]])  # warm-up: the first run allocates

    def stage(name: str, work, engine_counts: bool = False) -> dict:
        """One bounded stage; ``engine_counts``: the native time is the engine's own
        count (the Helios path), else what ``work`` measured around the native calls."""
        tokens = [0]
        before = _native(engine)
        native = [0.0]

        def run(part):
            got, spent = work(part)
            tokens[0] += got
            native[0] += spent

        with sampler() as gpu:
            done, wall, cut = _bounded(ids, chunk, seconds, run)
        if engine_counts:
            after = _native(engine)
            native[0] = after[0] - before[0]
        point = {"files": done, "wall_s": wall, "files_per_s": done / wall if wall else 0.0,
                 "generated_tokens": tokens[0],
                 "generated_mean": tokens[0] / done if done else 0.0,
                 "generated_tokens_per_s": tokens[0] / wall if wall else 0.0,
                 "native_s": native[0], "python_s": max(0.0, wall - native[0]),
                 "native_share": native[0] / wall if wall else 0.0, "cut_short": cut,
                 **gpu.summary()}
        util = ("n/a" if point["gpu_util_mean"] is None
                else f"{point['gpu_util_mean']:.0%} (max {point['gpu_util_max']:.0%})")
        rows.append((name, f"{done} files, {point['files_per_s']:.1f} files/s, "
                     f"{point['generated_mean']:.0f} gen/file, "
                     f"{point['generated_tokens_per_s']:.0f} gen tok/s, native "
                     f"{point['native_share']:.0%} / Python {1 - point['native_share']:.0%}, "
                     f"GPU util {util}" + (" (deadline)" if cut else "")))
        print(rows[-1][0] + ": " + rows[-1][1], "POINT " + json.dumps(point), flush=True)
        return point

    def helios_path(part):
        gens = engine.generate(part)
        return sum(g.generated_tokens for g in gens), 0.0

    out["guided"] = stage("guided, Helios path", helios_path, engine_counts=True)
    mean = max(1, round(out["guided"]["generated_mean"]))
    if engine.scheduler is not None:
        out["guided_bare"] = stage("guided, bare og.Engine loop", lambda part: _raw_og_engine(
            engine, part, args.max_output_tokens))
        out["unguided"] = stage(f"unguided, {mean} tokens", lambda part: _raw_og_engine(
            engine, part, mean, min_tokens=mean, guided=False))
        out["prefill"] = stage("prefill only (1 token)", lambda part: _raw_og_engine(
            engine, part, 1, guided=False))
    else:
        out["unguided"] = stage(f"unguided, {mean} tokens", lambda part: _raw_generator(
            engine, part, mean))
        out["prefill"] = stage("prefill only (1 token)", lambda part: _raw_generator(
            engine, part, 1))
    engine.close()
    guided, unguided = out["guided"], out["unguided"]
    if guided["files_per_s"] and unguided["files_per_s"]:
        out["guidance_cost"] = unguided["files_per_s"] / guided["files_per_s"]
        rows.append(("unguided / guided files/s", f"{out['guidance_cost']:.2f}x"))
    report("gpu-diagnose", rows, out)
    return out

