"""Scores of stored results against a labeled set: each field, and personal data as
precision and recall.

Used by ``python -m bench.quality --labeled`` (bench/labeled/labels.json) and, for the
personal-data flag alone, on resources/samples (bench/sample_personal.json).
"""

from __future__ import annotations


def _share(a: int, b: int):
    return round(a / b, 3) if b else None


def personal_scores(rows: list[dict], truth: dict[str, bool]) -> dict:
    """Precision and recall of ``contains_personal_data`` over the labeled files, and
    the files it got wrong (false positives first)."""
    tp = fp = fn = 0
    wrong = []
    for r in rows:
        if r["file"] not in truth or r.get("personal") is None:
            continue
        said, want = bool(r["personal"]), truth[r["file"]]
        tp += said and want
        fp += said and not want
        fn += want and not said
        if said != want:
            wrong.append(("false positive: " if said else "missed: ") + r["file"])
    return {"flagged": tp + fp, "precision": _share(tp, tp + fp), "recall": _share(tp, tp + fn),
            "wrong": sorted(wrong)}


def _public_only(r: dict) -> bool:
    """True when the file's findings are all marked as contacts in a public notice."""
    found = r.get("findings") or []
    return bool(found) and all(f.get("public_contact") for f in found)


def labeled_scores(rows: list[dict], labels: dict[str, dict]) -> dict:
    """Category, language, format, 'summary names what the file is', personal data and
    public contacts, each scored over the labeled files that were analysed."""
    ok = {"category": 0, "language": 0, "format": 0, "what": 0}
    seen = formats = 0
    misses: dict[str, list[str]] = {k: [] for k in ok}
    public = {"tp": 0, "fp": 0, "fn": 0}
    for r in rows:
        want = labels.get(r["file"])
        if want is None or r["status"] != "done":
            continue
        seen += 1
        if r["category"] == want["category"]:
            ok["category"] += 1
        else:
            misses["category"].append(f"{r['file']}: {r['category']} (want {want['category']})")
        if (r["language"] or "").lower() == want["language"].lower():
            ok["language"] += 1
        else:
            misses["language"].append(f"{r['file']}: {r['language']!r} (want {want['language']!r})")
        if r.get("format") is not None:  # only where the result has a format field
            formats += 1
            if r["format"].lower() == want["format"].lower():
                ok["format"] += 1
            else:
                misses["format"].append(f"{r['file']}: {r['format']!r} (want {want['format']!r})")
        low = (r["summary"] or "").lower()
        if any(t.lower() in low for t in want["what"]):
            ok["what"] += 1
        else:
            misses["what"].append(f"{r['file']}: {r['summary']!r}")
        said = _public_only(r)
        public["tp"] += said and want["public_contact"]
        public["fp"] += said and not want["public_contact"]
        public["fn"] += want["public_contact"] and not said and not want["personal_data"]
    truth = {f: v["personal_data"] for f, v in labels.items()}
    return {
        "labeled": seen,
        "category_accuracy": _share(ok["category"], seen),
        "language_accuracy": _share(ok["language"], seen),
        "format_accuracy": _share(ok["format"], formats),
        "summary_names_what": _share(ok["what"], seen),
        "personal_data": personal_scores(rows, truth),
        "public_contacts": {"marked": public["tp"] + public["fp"],
                            "precision": _share(public["tp"], public["tp"] + public["fp"]),
                            "recall": _share(public["tp"], public["tp"] + public["fn"])},
        "misses": {k: v for k, v in misses.items() if v},
    }
