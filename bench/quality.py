"""Result quality per model and per field on resources/samples (or any folder).

    python -m bench.quality [--models tiny,default,smollm2,evidence] [--folder DIR]
                            [--model NAME=PATH ...] [--model-fields auto|all|LIST]
                            [--db PATH] [--verbose] [--json FILE] [--labeled]

Runs the real ``helios analyze`` once per model and scores what was stored, and
what the model itself answered before the quality gate (its ``raw_output``):

- degenerate: share of summaries / keyword lists that repeat themselves
  (stored: must be 0; model: how often the gate had to step in for that reason)
- gate pass: share of the model's answers that passed the gate
- grounding: mean share of a summary's content words found in its file
- specific: share of summaries naming at least one reference term
  (bench/sample_terms.json, written per sample file); only on resources/samples
- keyword precision: share of keywords sharing a word with a reference term
- category / language accuracy (bench/sample_labels.json)
- personal data: precision and recall of the flag (bench/sample_personal.json)
- ``--labeled``: bench/labeled (71 ordinary files, labels in bench/labeled/labels.json):
  category, language and format accuracy, the share of summaries naming what the file
  is, personal-data precision and recall, and how well public contacts are told apart
  (``bench/label_scores.py``); ``--verbose`` lists the misses
- decided: how many fields the model decided and how many the evidence did
- model category / language accuracy where the kind does not decide them (the
  files where the model's answer could count), beside the evidence's guess there

``--model-fields`` is passed on as the ``model_fields`` setting: ``all`` lets the
model answer every field (to measure it per field), ``auto`` (the default) is what
the model folder says, as a user's run has it.

"evidence" runs no model: the summary and keywords are what the evidence alone
writes (the same extractors the gate falls back to).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.label_scores import labeled_scores, personal_scores

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "resources" / "samples"
HERE = Path(__file__).parent
LABELED = HERE / "labeled"
MODELS_HOME = Path(os.path.expanduser("~/.local/share/helios/models"))
KNOWN = {
    "tiny": REPO / "models" / "tiny-llama",
    "default": MODELS_HOME / "gemma-3-270m-int4-cpu",
    "smollm2": MODELS_HOME / "smollm2-135m-instruct-int4-cpu",
}
FIELDS = ("summary", "keywords")


def _rows_from_db(db: Path, folder: Path) -> list[dict]:
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(analysis_results)")]
    quality = "a.quality" if "quality" in cols else "NULL"
    fmt = "a.format" if "format" in cols else "NULL"  # schema 6 on
    rows = conn.execute(
        f"SELECT f.path, f.status, a.summary, a.keywords, a.category, a.language, a.decided_by, "
        f"a.raw_output, {quality}, a.contains_personal_data, a.evidence, {fmt} "
        "FROM files f LEFT JOIN analysis_results a ON a.file_id = f.id "
        "WHERE f.run_id = (SELECT max(id) FROM runs)")
    out = []
    for path, status, summary, keywords, category, language, decided, raw, qual, pd, ev, form in rows:
        full = os.fsdecode(bytes(path))
        out.append({"file": os.path.relpath(full, folder), "path": full, "status": status,
                    "summary": summary, "keywords": json.loads(keywords) if keywords else [],
                    "category": category, "language": language, "format": form,
                    "decided_by": json.loads(decided) if decided else {},
                    "raw": _parse(raw), "quality": json.loads(qual) if qual else {},
                    "personal": pd, "findings": json.loads(ev) if ev else []})
    conn.close()
    return out


def _parse(raw):
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def evidence_rows(folder: Path) -> list[dict]:
    """What the evidence alone stores for every file: no model at all."""
    from helios_desktop.analysis.evidence import FINDINGS, evidence_answer
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.records import FileTask
    from helios_desktop.extract.read import read_file  # as the worker reads: documents too
    from helios_desktop.scan.reader import Skip

    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        st = path.stat()
        try:
            doc = read_file(FileTask(os.fsencode(path), st.st_size, st.st_mtime_ns), 10 << 20)
        except Skip:
            continue
        data, decided, _quality = evidence_answer(doc, load_schema(None), "evidence only")
        out.append({"file": os.path.relpath(path, folder), "path": str(path), "status": "done",
                    "summary": data["summary"], "keywords": data["keywords"],
                    "category": data["category"], "language": data["language"],
                    "format": data.get("format"), "personal": data["contains_personal_data"],
                    "findings": doc.hints.get(FINDINGS) or [],
                    "decided_by": decided, "raw": None, "quality": {}})
    return out


def run_model(model: Path, folder: Path, db: Path | None = None,
              model_fields: str | None = None) -> tuple[Path, float]:
    db = db or Path(tempfile.mkdtemp()) / "quality.db"
    cmd = [sys.executable, "-m", "helios_desktop", "analyze", str(folder), "--db", str(db),
           "--model", str(model)]
    if model_fields:
        cmd += ["--set", f"model_fields={model_fields}"]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return db, time.perf_counter() - started


def _text(path: str) -> str:
    """The file's text as the worker read it (a document's extracted text)."""
    from helios_desktop.extract.read import read_file
    from helios_desktop.records import FileTask
    from helios_desktop.scan.reader import Skip

    try:
        return read_file(FileTask(os.fsencode(path), -1, -1), 10 << 20).text
    except Skip:
        return ""


def _names_term(summary: str, terms: list[str]) -> bool:
    low = (summary or "").lower()
    return any(t.lower() in low for t in terms)


def _keyword_relevant(keyword: str, terms: list[str]) -> bool:
    from helios_desktop.analysis.quality import content_words

    kw = set(content_words(keyword)) or {keyword.lower()}
    return any(kw & (set(content_words(t)) or {t.lower()}) for t in terms)


def _open_fields(r: dict, want_cat: str, want_lang: str, open_cat: dict, open_lang: dict) -> None:
    """Count, on files whose kind leaves the category (language) open, how often the
    model's own answer and the evidence's guess are right."""
    from helios_desktop.analysis.category import category_guess, language_guess
    from helios_desktop.scan.kinds import detect_kind

    text = _text(r["path"])
    kind = detect_kind(os.fsencode(r["path"]), text)
    hints = kind.hints()
    raw = r["raw"] or {}
    if not kind.category:
        open_cat["n"] += 1
        open_cat["model"] += raw.get("category") == want_cat
        open_cat["evidence"] += category_guess(text, kind.label, hints) == want_cat
    if not kind.language and not kind.no_prose:  # no prose: '' whatever the model says
        open_lang["n"] += 1
        open_lang["model"] += str(raw.get("language", "")).lower() == want_lang.lower()
        open_lang["evidence"] += language_guess(kind.label, hints).lower() == want_lang.lower()


def score(rows: list[dict], labels: dict, terms: dict, personal: dict | None = None) -> dict:
    from helios_desktop.analysis.quality import FileVocabulary, check_keywords, check_summary, degenerate

    done = [r for r in rows if r["status"] == "done"]
    rep: dict = {"files": len(rows), "done": len(done)}
    stored_deg = {"summary": 0, "keywords": 0}
    model_deg = {"summary": 0, "keywords": 0}
    model_pass = {"summary": 0, "keywords": 0}
    model_answers = 0
    grounding, specific, model_specific, kw_hits, kw_total = [], [], [], 0, 0
    decided = {f: {"model": 0, "evidence": 0} for f in (*FIELDS, "category", "language")}
    cat_ok = lang_ok = labelled = 0
    open_cat = {"n": 0, "model": 0, "evidence": 0}   # files whose kind decides no category
    open_lang = {"n": 0, "model": 0, "evidence": 0}
    for r in done:
        vocab = FileVocabulary(_text(r["path"]), Path(r["path"]).name)
        if degenerate(r["summary"] or ""):
            stored_deg["summary"] += 1
        if any(degenerate(str(k)) for k in r["keywords"]) or \
                len({str(k).lower() for k in r["keywords"]}) < len(r["keywords"]):
            stored_deg["keywords"] += 1
        verdict = check_summary(r["summary"], vocab)
        grounding.append(verdict.grounding or 0.0)
        for f, who in r["decided_by"].items():
            if f in decided and who in decided[f]:
                decided[f][who] += 1
        raw = r["raw"]
        if raw is not None:
            model_answers += 1
            if degenerate(str(raw.get("summary", ""))):
                model_deg["summary"] += 1
            kws = raw.get("keywords") or []
            if any(degenerate(str(k)) for k in kws) or len({str(k).lower() for k in kws}) < len(kws):
                model_deg["keywords"] += 1
            model_pass["summary"] += check_summary(raw.get("summary"), vocab).ok
            model_pass["keywords"] += check_keywords(kws, vocab).ok
        if r["file"] in terms:
            ref = terms[r["file"]]
            specific.append(_names_term(r["summary"], ref))
            if raw is not None:
                model_specific.append(_names_term(str(raw.get("summary", "")), ref))
            kw_total += len(r["keywords"])
            kw_hits += sum(_keyword_relevant(str(k), ref) for k in r["keywords"])
        if r["file"] in labels:
            labelled += 1
            want_cat, want_lang = labels[r["file"]]
            cat_ok += r["category"] == want_cat
            lang_ok += (r["language"] or "").lower() == want_lang.lower()
            _open_fields(r, want_cat, want_lang, open_cat, open_lang)
    n = len(done) or 1
    share = lambda a, b: round(a / b, 3) if b else None  # noqa: E731
    rep.update({
        "stored_degenerate": {f: stored_deg[f] for f in FIELDS},
        "summary_grounding_mean": round(sum(grounding) / n, 3),
        "summary_names_specific": share(sum(specific), len(specific)),
        "keyword_precision": share(kw_hits, kw_total),
        "category_accuracy": share(cat_ok, labelled),
        "language_accuracy": share(lang_ok, labelled),
        "decided": decided,
        "model_answers": model_answers,
        "model_degenerate_rate": {f: share(model_deg[f], model_answers) for f in FIELDS},
        "model_gate_pass_rate": {f: share(model_pass[f], model_answers) for f in FIELDS},
        "model_summary_names_specific": share(sum(model_specific), len(model_specific)),
        "open_category": {k: (v if k == "n" else share(v, open_cat["n"])) for k, v in open_cat.items()},
        "open_language": {k: (v if k == "n" else share(v, open_lang["n"])) for k, v in open_lang.items()},
    })
    if personal is not None:
        rep["personal_data"] = personal_scores(rows, personal)
    return rep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny,default,smollm2,evidence",
                        help="comma-separated: tiny, default, smollm2, evidence, or NAME from --model")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                        help="another model folder to compare")
    parser.add_argument("--folder", default=str(SAMPLES))
    parser.add_argument("--model-fields", metavar="auto|all|LIST",
                        help="the model_fields setting for the model runs (default: auto)")
    parser.add_argument("--db", help="score this existing database instead of running (one model)")
    parser.add_argument("--verbose", action="store_true", help="print every stored summary")
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--labeled", action="store_true",
                        help=f"score the labeled set ({LABELED.relative_to(REPO)}) on every field")
    args = parser.parse_args()
    folder = LABELED.resolve() if args.labeled else Path(args.folder).resolve()
    labels = json.loads((HERE / "sample_labels.json").read_text()) if folder == SAMPLES else {}
    terms = json.loads((HERE / "sample_terms.json").read_text()) if folder == SAMPLES else {}
    personal = None
    if folder == SAMPLES:
        flagged = set(json.loads((HERE / "sample_personal.json").read_text())["personal"])
        personal = {str(p.relative_to(SAMPLES)): str(p.relative_to(SAMPLES)) in flagged
                    for p in SAMPLES.rglob("*") if p.is_file()}
    labeled = json.loads((LABELED / "labels.json").read_text())["files"] if args.labeled else None
    known = dict(KNOWN)
    for item in args.model:
        name, _, path = item.partition("=")
        known[name] = Path(path)
    report = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        started = time.perf_counter()
        if args.db:
            rows = _rows_from_db(Path(args.db), folder)
        elif name == "evidence":
            rows = evidence_rows(folder)
        else:
            model = known.get(name)
            if model is None or not (model / "genai_config.json").exists():
                print(f"{name}: no model at {model}; skipped", file=sys.stderr)
                continue
            db, _ = run_model(model, folder, model_fields=args.model_fields)
            print(f"{name}: database {db}", file=sys.stderr)
            rows = _rows_from_db(db, folder)
        rep = score(rows, labels, terms, personal)
        if labeled is not None:
            rep["labeled"] = labeled_scores(rows, labeled)
            if not args.verbose:
                rep["labeled"].pop("misses")
        rep["seconds"] = round(time.perf_counter() - started, 1)
        report[name] = rep
        if args.verbose:
            for r in sorted(rows, key=lambda r: r["file"]):
                who = r["decided_by"].get("summary", "?")[:1]
                print(f"[{name}] {r['file']:<32} {who} {r['summary']!r}\n{'':40}{r['keywords']}")
        print(json.dumps({name: rep}, indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
