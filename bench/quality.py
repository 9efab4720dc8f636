"""How often category and language are right on resources/samples (labels: sample_labels.json).

    python -m bench.quality [--model PATH] [--db PATH]

Runs the real ``helios analyze`` on the samples, then compares the stored
results with the labels. Language matches case-insensitively; for code and
structured files the label is the programming or data language.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "resources" / "samples"


def evaluate(db: Path) -> dict:
    labels = json.loads((Path(__file__).parent / "sample_labels.json").read_text())
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT f.path, f.status, a.category, a.language, a.summary, a.decided_by FROM files f "
        "LEFT JOIN analysis_results a ON a.file_id = f.id WHERE f.run_id = (SELECT max(id) FROM runs)")
    per_file = []
    for path, status, category, language, summary, decided in rows:
        rel = os.fsdecode(bytes(path)).removeprefix(str(SAMPLES) + "/")
        if rel not in labels:
            continue
        want_cat, want_lang = labels[rel]
        per_file.append({
            "file": rel, "status": status, "category": category, "want_category": want_cat,
            "language": language, "want_language": want_lang, "summary": summary,
            "decided_by": json.loads(decided) if decided else None,
            "category_ok": category == want_cat,
            "language_ok": (language or "").lower() == want_lang.lower(),
        })
    n = len(per_file)
    model_cat = [f for f in per_file if f["decided_by"] and f["decided_by"].get("category") == "model"]
    return {
        "files": n,
        "done": sum(f["status"] == "done" for f in per_file),
        "category_accuracy": sum(f["category_ok"] for f in per_file) / n if n else 0.0,
        "language_accuracy": sum(f["language_ok"] for f in per_file) / n if n else 0.0,
        "category_by_model": len(model_cat),
        "category_by_model_accuracy": (sum(f["category_ok"] for f in model_cat) / len(model_cat)
                                       if model_cat else None),
        "per_file": per_file,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the configured one)")
    parser.add_argument("--db", help="existing results database to score instead of running")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.db:
        db = Path(args.db)
    else:
        db = Path(tempfile.mkdtemp()) / "quality.db"
        cmd = [sys.executable, "-m", "helios_desktop", "analyze", str(SAMPLES), "--db", str(db)]
        if args.model:
            cmd += ["--model", args.model]
        subprocess.run(cmd, check=True)
    report = evaluate(db)
    if args.verbose:
        for f in report["per_file"]:
            mark = ("ok " if f["category_ok"] else "BAD") + " " + ("ok " if f["language_ok"] else "BAD")
            print(f"{mark} {f['file']:<32} {f['category']!s:<15} {f['language']!s:<12} "
                  f"{(f['summary'] or '')[:70]!r}")
    print(json.dumps({k: v for k, v in report.items() if k != "per_file"}, indent=2))


if __name__ == "__main__":
    main()
