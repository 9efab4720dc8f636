"""A realistic, deterministic corpus: code, prose, configs, logs, CSV, some binary and
empty files, long-tailed sizes (most 1-8 KB, a few up to MBs), nested folders."""

from __future__ import annotations

import os
import random
from pathlib import Path

WORDS = ("the report shows that revenue grew in the north region while costs in support fell "
         "customer invoice payment contract agreement party shall meeting notes schedule "
         "deploy server config cache database query index backup restore release version "
         "team project budget quarter review summary findings recommendation policy data "
         "sensor reading temperature humidity order shipment warehouse stock inventory").split()

CODE = '''def {name}(items, limit={n}):
    """Return the first {n} items that pass the check."""
    out = []
    for item in items:
        if item.get("{key}") and len(out) < limit:
            out.append(item)
    return out

'''


def _size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.85:
        return rng.randint(1024, 8192)
    if roll < 0.98:
        return rng.randint(8192, 65536)
    return rng.randint(65536, 3_000_000)


def _prose(rng: random.Random, size: int) -> str:
    parts, total = [], 0
    while total < size:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize() + ". "
        parts.append(sentence)
        total += len(sentence)
    return "".join(parts)[:size]


def _file(rng: random.Random, i: int) -> tuple[str, bytes]:
    kind = rng.choices(["code", "prose", "config", "log", "csv", "json", "binary", "empty"],
                       weights=[25, 30, 10, 12, 10, 8, 3, 2])[0]
    size = _size(rng)
    if kind == "code":
        body = "".join(CODE.format(name=f"select_{i}_{k}", n=k + 1, key=rng.choice(WORDS))
                       for k in range(max(1, size // 220)))
        return f"src/mod{i % 97}/file{i}.py", body[:size].encode()
    if kind == "prose":
        return f"docs/{rng.choice(WORDS)}/doc{i}.txt", _prose(rng, size).encode()
    if kind == "config":
        lines = [f"{rng.choice(WORDS)}_{k}: {rng.randint(0, 9999)}" for k in range(size // 16)]
        return f"etc/app{i % 13}/conf{i}.yaml", "\n".join(lines).encode()
    if kind == "log":
        lines = [f"2026-03-{1 + k % 28:02d} 10:{k % 60:02d}:{k % 60:02d} "
                 f"{rng.choice(['INFO', 'WARN', 'ERROR'])} {_prose(rng, 60)}" for k in range(size // 90)]
        return f"logs/host{i % 7}/app{i}.log", "\n".join(lines).encode()
    if kind == "csv":
        rows = ["id,region,amount"] + [f"{k},{rng.choice(WORDS)},{rng.randint(1, 9999)}"
                                       for k in range(size // 18)]
        return f"data/table{i}.csv", "\n".join(rows).encode()
    if kind == "json":
        items = ",".join(f'{{"id":{k},"name":"{rng.choice(WORDS)}"}}' for k in range(size // 26))
        return f"data/json/rec{i}.json", f"[{items}]".encode()
    if kind == "binary":
        return f"bin/blob{i}.bin", bytes(rng.getrandbits(8) for _ in range(min(size, 4096))) + b"\x00"
    return f"misc/empty{i}.txt", b""


def generate(folder: Path, n: int, seed: int = 42) -> dict:
    """Write ``n`` files under ``folder``; returns counts by top folder and bytes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    kinds: dict[str, int] = {}
    for i in range(n):
        rel, data = _file(rng, i)
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
        top = rel.split("/")[0]
        kinds[top] = kinds.get(top, 0) + 1
    return {"files": n, "bytes": total, "by_folder": kinds}


def make_tree(folder: Path, entries: int, fanout: int = 1000) -> int:
    """A bare tree of ``entries`` empty files (for the scan benchmark)."""
    made = 0
    d = 0
    while made < entries:
        sub = folder / f"d{d // fanout:04}" / f"e{d % fanout:04}"
        sub.mkdir(parents=True, exist_ok=True)
        for k in range(min(fanout, entries - made)):
            fd = os.open(sub / f"f{k}", os.O_CREAT | os.O_WRONLY, 0o644)
            os.close(fd)
        made += min(fanout, entries - made)
        d += 1
    return made
