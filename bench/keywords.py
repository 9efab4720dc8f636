"""Keyword extraction methods compared on resources/samples (the measurement behind YAKE).

    python -m bench.keywords [--repeat 3]

For every sample file, each method proposes candidates; the same filter the product
uses (``choose_keywords``: no noise, no generic words, grounded in the file) keeps
five; precision is the share that shares a word with the file's reference terms
(bench/sample_terms.json). Methods: YAKE on the text as read; YAKE as the product
feeds it (``evidence_keywords``); TF-IDF over the whole sample corpus
(scikit-learn, when importable: it needs the corpus before the first file);
and plain word frequency as the floor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from bench.quality import HERE, SAMPLES, _keyword_relevant


def _docs():
    from helios_desktop.records import FileTask
    from helios_desktop.scan.reader import read_document

    out = []
    for path in sorted(p for p in SAMPLES.rglob("*") if p.is_file()):
        st = path.stat()
        doc = read_document(FileTask(str(path).encode(), st.st_size, st.st_mtime_ns), 1 << 20)
        out.append((str(path.relative_to(SAMPLES)), doc))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from helios_desktop.analysis.describe import describe
    from helios_desktop.analysis.keywords import choose_keywords, yake_keywords
    from helios_desktop.analysis.quality import FileVocabulary, words

    terms = json.loads((HERE / "sample_terms.json").read_text())
    docs = _docs()
    texts = [d.text for _, d in docs]

    def frequency(i, doc):
        return [w for w, _ in Counter(w for w in words(doc.text) if len(w) > 3).most_common(20)]

    methods = {
        "frequency": frequency,
        "yake_raw": lambda i, doc: yake_keywords(doc.text, doc.hints.get("language_guess") or "English"),
        "yake_product": lambda i, doc: describe(doc.path, doc.text, doc.kind, doc.hints).keywords,
    }
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer

        def tfidf_all():
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w[\w.-]+\b")
            matrix = vec.fit_transform(texts)
            names = vec.get_feature_names_out()
            return matrix, names
        tfidf_cache = {}

        def tfidf(i, doc):
            if "m" not in tfidf_cache:
                tfidf_cache["m"] = tfidf_all()
            matrix, names = tfidf_cache["m"]
            row = matrix[i].toarray()[0]
            return [names[j] for j in row.argsort()[::-1][:20] if row[j] > 0]
        methods["tfidf_corpus"] = tfidf
    except ImportError:
        print("scikit-learn not importable: TF-IDF left out")
    report = {}
    for name, method in methods.items():
        timings = []
        for _ in range(args.repeat):
            if name == "tfidf_corpus":
                tfidf_cache.clear()
            started = time.perf_counter()
            hits = total = 0
            for i, (rel, doc) in enumerate(docs):
                kws = choose_keywords(method(i, doc), doc.kind,
                                      vocab=FileVocabulary(doc.text, Path(rel).name), short_ok=True)
                if rel in terms:
                    total += len(kws)
                    hits += sum(_keyword_relevant(k, terms[rel]) for k in kws)
            timings.append(time.perf_counter() - started)
        report[name] = {"precision": round(hits / total, 3) if total else None, "keywords": total,
                        "ms_per_file": round(statistics.median(timings) / len(docs) * 1000, 2)}
        print(name, report[name], flush=True)


if __name__ == "__main__":
    main()
